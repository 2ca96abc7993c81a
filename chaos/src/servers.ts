import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { SYNC_SERVER_ENV, SYNC_SERVER_NODE_FLAGS } from "@chorus/sync-server/node-flags";
import { ownChild, releaseChild, sleep, waitUntil } from "./util.js";

/** The built server; CHAOS_SERVER_MAIN points a long run at a copy while dist is rebuilt. */
export const SERVER_MAIN =
  process.env.CHAOS_SERVER_MAIN ??
  fileURLToPath(new URL("../../apps/sync-server/dist/main.js", import.meta.url));

/**
 * One sync-server replica: the built `dist/main.js` on port 0 (the port is read from its
 * "listening" log line). The harness records every kill it makes; any other exit is a
 * server that died on its own.
 */
export class ServerReplica {
  proc: ChildProcess | null = null;
  port: number | null = null;
  stopped = false;
  expectedExit = false;
  readonly unexpectedExits: string[] = [];
  private readonly recent: string[] = [];

  constructor(
    readonly name: string,
    private readonly env: () => Record<string, string>,
  ) {}

  /** The port to send new connections to, or null while down or stopped (SIGSTOP). */
  get target(): number | null {
    return this.proc && !this.stopped ? this.port : null;
  }

  /**
   * Starts the replica and waits until /healthz answers 200 (it reached the database). A
   * replica refuses to start while Postgres is down (it checks the database at start-up and
   * exits with one clear message), as it would under a supervisor: that exit is a failed
   * start, retried every second (at most 60 times), not a server dying on its own.
   */
  async start(): Promise<void> {
    if (!existsSync(SERVER_MAIN)) {
      throw new Error(`${SERVER_MAIN} is missing: build it (npm run build -w @chorus/sync-server)`);
    }
    for (let attempt = 1; ; attempt++) {
      if (await this.startOnce()) return;
      if (attempt >= 60) throw new Error(`${this.name} did not start:\n${this.recent.join("\n")}`);
      await sleep(1_000);
    }
  }

  private async startOnce(): Promise<boolean> {
    this.port = null;
    this.expectedExit = false;
    this.stopped = false;
    let starting = true;
    const proc = spawn(process.execPath, [...SYNC_SERVER_NODE_FLAGS, SERVER_MAIN], {
      env: {
        PATH: process.env.PATH ?? "",
        ...SYNC_SERVER_ENV,
        ...this.env(),
        SYNC_PORT: "0",
        SYNC_HOST: "127.0.0.1",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.proc = proc;
    ownChild(proc.pid);
    const remember = (chunk: Buffer) => {
      for (const line of chunk.toString().split("\n")) {
        if (!line.trim()) continue;
        const port = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(line)?.[1];
        if (port) this.port = Number(port);
        this.recent.push(line.slice(0, 400));
        if (this.recent.length > 30) this.recent.shift();
      }
    };
    proc.stdout?.on("data", remember);
    proc.stderr?.on("data", remember);
    let exited = false;
    proc.once("exit", (code, signal) => {
      exited = true;
      releaseChild(proc.pid);
      if (this.proc === proc) this.proc = null;
      if (!this.expectedExit && !starting) {
        this.unexpectedExits.push(
          `${this.name} exited by itself (code ${code}, signal ${signal}); last lines:\n${this.recent.join("\n")}`,
        );
      }
    });
    const healthy = async () => {
      if (exited) return true;
      if (this.port === null) return false;
      try {
        const res = await fetch(`http://127.0.0.1:${this.port}/healthz`, {
          signal: AbortSignal.timeout(5_000),
        });
        return res.ok;
      } catch {
        return false;
      }
    };
    await waitUntil(healthy, 60_000, 200);
    starting = false;
    if (exited || this.port === null) {
      if (!exited) {
        this.expectedExit = true;
        proc.kill("SIGKILL");
      }
      return false;
    }
    return true;
  }

  private async signalAndWait(signal: NodeJS.Signals): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    this.expectedExit = true;
    const exited = new Promise((resolve) => proc.once("exit", resolve));
    if (this.stopped) proc.kill("SIGCONT");
    proc.kill(signal);
    await exited;
    this.proc = null;
    this.stopped = false;
  }

  kill(): Promise<void> {
    return this.signalAndWait("SIGKILL");
  }

  /** Graceful stop at the end of the run (SIGTERM: flushes ACKs, closes sockets). */
  terminate(): Promise<void> {
    return this.signalAndWait("SIGTERM");
  }

  pause(): void {
    if (!this.proc || this.stopped) return;
    this.proc.kill("SIGSTOP");
    this.stopped = true;
  }

  resume(): void {
    if (!this.proc || !this.stopped) return;
    this.proc.kill("SIGCONT");
    this.stopped = false;
  }

  get alive(): boolean {
    return this.proc !== null;
  }
}
