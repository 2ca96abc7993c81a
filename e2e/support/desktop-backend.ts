import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import {
  exportPublicJwks,
  generateSigningKey,
  mintAccessToken,
  type SigningKey,
} from "@chorus/auth";
import { type EmbeddedPostgresHandle, startEmbeddedPostgres } from "@chorus/db/embedded";
import { migrate } from "@chorus/db/migrate";
import pg from "pg";

/*
 * What the desktop spec runs against, all real and all its own: an embedded PostgreSQL, the
 * built sync server (apps/sync-server/dist) on a free port verifying tokens of a key made
 * here, the desktop dev harness (real engine + the renderer's browser build) and a headless
 * engine (the chorus-device CLI). Device tokens are minted here until the browser sign-in
 * through the web's /desktop-login can drive the binding.
 */
// Playwright runs from the repo root (where playwright.config.ts is).
export const ROOT = resolve(process.cwd());

/** Spawns a process and resolves with the first stdout line `match` accepts. */
export function spawnUntil(
  command: string,
  args: string[],
  env: Record<string, string>,
  match: (line: string) => boolean,
  timeoutMs = 60_000,
): Promise<{ child: ChildProcess; line: string; lines: string[] }> {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4_000);
  });
  return new Promise((resolveLine, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${args.join(" ")} printed nothing useful: ${stderr}`)),
      timeoutMs,
    );
    child.once("exit", (code) => reject(new Error(`${args.join(" ")} exited ${code}: ${stderr}`)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      lines.push(line);
      if (match(line)) {
        clearTimeout(timer);
        resolveLine({ child, line, lines });
      }
    });
  });
}

export function stop(child: ChildProcess | undefined): Promise<void> {
  return new Promise((done) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return done();
    child.once("exit", () => done());
    child.kill("SIGTERM");
    setTimeout(() => child.kill("SIGKILL"), 5_000).unref();
  });
}

export class DesktopBackend {
  private constructor(
    private readonly dir: string,
    private readonly postgres: EmbeddedPostgresHandle,
    private readonly pool: pg.Pool,
    private readonly key: SigningKey,
    private readonly server: ChildProcess,
    readonly syncUrl: string,
  ) {}

  static async start(): Promise<DesktopBackend> {
    const dir = mkdtempSync(join(tmpdir(), "chorus-e2e-desktop-"));
    chmodSync(dir, 0o711);
    const postgres = await startEmbeddedPostgres({ dataDir: join(dir, "pg"), persistent: false });
    const admin = new pg.Client({ connectionString: postgres.url });
    await admin.connect();
    await admin.query('CREATE DATABASE "chorus_desktop_e2e"');
    await admin.end();
    const databaseUrl = postgres.url.replace(/\/postgres$/, "/chorus_desktop_e2e");
    await migrate(databaseUrl);
    const key = await generateSigningKey();
    const { child, line } = await spawnUntil(
      process.execPath,
      [join(ROOT, "apps/sync-server/dist/main.js")],
      {
        DATABASE_URL: databaseUrl,
        AUTH_PUBLIC_KEY: JSON.stringify((await exportPublicJwks([key])).keys[0]),
        SYNC_HOST: "127.0.0.1",
        SYNC_PORT: "0",
        LOG_LEVEL: "info",
      },
      (text) => text.includes("listening"),
    );
    const port = /"port":(\d+)/.exec(line)?.[1];
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    pool.on("error", () => {});
    return new DesktopBackend(dir, postgres, pool, key, child, `http://127.0.0.1:${port}`);
  }

  /** A user with `count` bound devices, each with a device token. */
  async account(count: number): Promise<{ userId: string; tokens: string[] }> {
    const userId = randomUUID();
    await this.pool.query(
      "INSERT INTO users (id, email, password_hash, updated_at) VALUES ($1, $2, 'unused', now())",
      [userId, `${userId}@example.test`],
    );
    const tokens: string[] = [];
    for (let i = 0; i < count; i++) {
      const deviceId = randomUUID();
      await this.pool.query(
        "INSERT INTO devices (id, user_id, name, platform, app_version) VALUES ($1, $2, $3, 'linux', '0.1.0')",
        [deviceId, userId, `e2e desktop ${i + 1}`],
      );
      const { token } = await mintAccessToken(
        this.key,
        { userId, role: "user", kind: "device", deviceId },
        { ttlSeconds: 900 },
      );
      tokens.push(token);
    }
    return { userId, tokens };
  }

  async close(): Promise<void> {
    await stop(this.server);
    await this.pool.end();
    await this.postgres.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The renderer's browser build the harness serves (not part of the web/sync-server build). */
export function buildDesktopHarness(): void {
  execFileSync(
    process.execPath,
    [
      join(ROOT, "node_modules/vite/bin/vite.js"),
      "build",
      "-c",
      "vite.harness.config.ts",
      "--logLevel",
      "warn",
    ],
    {
      cwd: join(ROOT, "apps/desktop"),
      stdio: "inherit",
    },
  );
}

export const TSX = join(ROOT, "node_modules/tsx/dist/cli.mjs");
