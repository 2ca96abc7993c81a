import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createWriteStream, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import {
  exportPublicJwks,
  generateSigningKey,
  mintAccessToken,
  type SigningKey,
} from "@chorus/auth";
import { createTestDatabase, type TestDatabase } from "@chorus/db/testing";
import { type SyncServerProcess, startSyncServer } from "@chorus/sync-server/testing";
import pg from "pg";
import { e2eDatabaseUrl } from "./database.ts";

/*
 * What the desktop spec runs against, all real and all its own: a fresh database on the e2e
 * system's PostgreSQL, the built sync server (apps/sync-server/dist, through
 * @chorus/sync-server/testing) on port 0 verifying tokens of a key made here, the desktop dev
 * harness (real engine + the renderer's browser build) and a headless engine (the
 * chorus-device CLI). Device tokens are minted here until the browser sign-in
 * through the web's /desktop-login can drive the binding.
 */
// Playwright runs from the repo root (where playwright.config.ts is).
export const ROOT = resolve(process.cwd());

/**
 * Spawns a process and resolves with the first stdout line `match` accepts. With `logFile`,
 * everything the process writes to stderr (an engine's log) is also kept there in full, for a
 * failed test to attach.
 */
export function spawnUntil(
  command: string,
  args: string[],
  env: Record<string, string>,
  match: (line: string) => boolean,
  timeoutMs = 60_000,
  logFile?: string,
): Promise<{ child: ChildProcess; line: string; lines: string[] }> {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  let stderr = "";
  if (logFile) child.stderr?.pipe(createWriteStream(logFile, { flags: "a" }));
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
    private readonly db: TestDatabase,
    private readonly pool: pg.Pool,
    private readonly key: SigningKey,
    private readonly server: SyncServerProcess,
    /** The server's blob files (BLOB_DIR), a folder of this backend's own. */
    readonly blobDir: string,
  ) {}

  get syncUrl(): string {
    return this.server.url;
  }

  static async start(): Promise<DesktopBackend> {
    // A database of its own on the e2e system's PostgreSQL, and a sync server of its own that
    // trusts this backend's key (the system's server trusts only the web app's).
    const db = await createTestDatabase({ serverUrl: e2eDatabaseUrl() });
    const key = await generateSigningKey();
    const blobDir = mkdtempSync(join(tmpdir(), "chorus-e2e-blobs-"));
    const server = await startSyncServer({
      env: {
        DATABASE_URL: db.url,
        BLOB_DIR: blobDir,
        AUTH_PUBLIC_KEY: JSON.stringify((await exportPublicJwks([key])).keys[0]),
        LOG_LEVEL: "info",
      },
      cwd: ROOT,
    });
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    pool.on("error", () => {});
    return new DesktopBackend(db, pool, key, server, blobDir);
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
    await this.server.stop();
    await this.pool.end();
    await this.db.drop();
    rmSync(this.blobDir, { recursive: true, force: true });
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

/**
 * Starts the desktop dev harness (the renderer's browser build over a real engine) with `env`
 * (CHORUS_DATA_DIR, CHORUS_PROFILE, CHORUS_DEV_SYNC_URL, CHORUS_DEV_TOKEN, ...); resolves once
 * it listens, with its process and the URL to open.
 */
export async function startHarness(
  env: Record<string, string>,
  logFile?: string,
): Promise<{ child: ChildProcess; url: string }> {
  const started = await spawnUntil(
    process.execPath,
    [TSX, join(ROOT, "apps/desktop/src/harness/server.ts")],
    env,
    (line) => line.includes('"harness":"listening"'),
    60_000,
    logFile,
  );
  return { child: started.child, url: JSON.parse(started.line).url as string };
}

/** The harness's environment for profile `name` in `dataDir`, bound with a device token. */
export function boundHarnessEnv(
  dataDir: string,
  name: string,
  syncUrl: string,
  token: string,
): Record<string, string> {
  return {
    CHORUS_DATA_DIR: join(dataDir, name),
    CHORUS_PROFILE: name,
    CHORUS_DEV_SYNC_URL: syncUrl,
    CHORUS_DEV_TOKEN: token,
  };
}

/** The headless engine's CLI, run from source through tsx. */
export const DEVICE_CLI = join(ROOT, "packages/desktop-sync/src/cli.ts");

/** The headless engine's CLI over the profiles in `dataDir`, answering --json. */
export function deviceCli(dataDir: string): (...args: string[]) => string {
  return (...args) =>
    execFileSync(process.execPath, [TSX, DEVICE_CLI, ...args, "--data-dir", dataDir, "--json"], {
      cwd: ROOT,
      encoding: "utf8",
    });
}
