import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type EmbeddedPostgresHandle, freePort, startEmbeddedPostgres } from "@chorus/db/embedded";
import { ownChild, releaseChild, sleep } from "./util.js";

/**
 * The run's PostgreSQL: the embedded one on a data dir of its own and a fixed port, so the
 * servers' DATABASE_URL stays valid across restarts. `kill()` is SIGKILL of the postmaster
 * (its pid from postmaster.pid); `start()` brings it back on the same files (crash recovery).
 */
export class ChaosPostgres {
  private handle: EmbeddedPostgresHandle | null = null;
  private pid: number | null = null;
  url = "";

  private constructor(
    readonly dataDir: string,
    readonly port: number,
  ) {}

  static async create(dataDir: string): Promise<ChaosPostgres> {
    const pg = new ChaosPostgres(dataDir, await freePort());
    await pg.start();
    return pg;
  }

  get running(): boolean {
    return this.handle !== null;
  }

  /** Starts on the existing files; retries while the old postmaster's children let go. */
  async start(): Promise<void> {
    let lastError: unknown;
    for (let attempt = 0; attempt < 30; attempt++) {
      try {
        this.handle = await startEmbeddedPostgres({
          dataDir: this.dataDir,
          persistent: true,
          port: this.port,
        });
        this.url = this.handle.url;
        this.pid = this.postmasterPid();
        ownChild(this.pid ?? undefined);
        return;
      } catch (error) {
        lastError = error;
        await sleep(1_000);
      }
    }
    throw new Error(`postgres did not come back: ${String(lastError)}`);
  }

  private postmasterPid(): number | null {
    const file = join(this.dataDir, "postmaster.pid");
    if (!existsSync(file)) return null;
    const pid = Number(readFileSync(file, "utf8").split("\n")[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  }

  /** SIGKILL of the postmaster; waits (bounded) until it is gone. */
  async kill(): Promise<void> {
    const pid = this.postmasterPid();
    this.handle = null;
    releaseChild(pid ?? undefined);
    if (pid === null) return;
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      return;
    }
    for (let i = 0; i < 100 && alive(pid); i++) await sleep(100);
  }

  async stop(): Promise<void> {
    const handle = this.handle;
    this.handle = null;
    await handle?.stop();
    releaseChild(this.pid ?? undefined);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
