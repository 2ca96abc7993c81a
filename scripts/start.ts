// Starts the whole system: Postgres (embedded when DATABASE_URL is unset), migrations, the sync
// server and the web app; prints where they listen; stops everything cleanly on Ctrl-C.
//   tsx scripts/start.ts [--ephemeral]   (--ephemeral: a throwaway embedded database, for e2e)
import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { redactDatabaseUrl, withDatabase } from "@chorus/db";
import { type EmbeddedPostgresHandle, startEmbeddedPostgres } from "@chorus/db/embedded";
import { migrate } from "@chorus/db/migrate";
import { spawnSyncServer } from "@chorus/sync-server/testing";
import pg from "pg";
import { loadStartSettings, type StartSettings } from "./start-settings.ts";

const root = resolve(import.meta.dirname, "..");
const log = (message: string) => console.log(`[chorus] ${message}`);

class StartError extends Error {}

function assertPortFree(name: string, host: string, port: number): Promise<void> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once("error", () =>
      reject(
        new StartError(`${name} ${port} on ${host} is already in use; set ${name} to a free port`),
      ),
    );
    probe.listen(port, host, () => probe.close(() => resolvePort()));
  });
}

async function ensureDatabase(serverUrl: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (!rowCount) await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  return withDatabase(serverUrl, name);
}

const START_TIMEOUT_MS = 120_000;

async function waitForHttp(url: string, child: ChildProcess, what: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new StartError(`${what} exited during start-up (code ${child.exitCode})`);
    try {
      const res = await fetch(url, { redirect: "manual" });
      if (res.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new StartError(`${what} did not answer on ${url} within ${START_TIMEOUT_MS / 1000} s`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { ephemeral: { type: "boolean", default: false } } });
  // A .env at the root (see .env.example) fills in what the shell did not set.
  if (existsSync(join(root, ".env"))) process.loadEnvFile(join(root, ".env"));
  let settings: StartSettings;
  try {
    settings = loadStartSettings(process.env);
  } catch (error) {
    console.error(`[chorus] ${(error as Error).message}`);
    process.exit(1);
  }
  const children: ChildProcess[] = [];
  let embedded: EmbeddedPostgresHandle | undefined;
  let ephemeralDir: string | undefined;
  let stopping = false;

  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    log("stopping…");
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            child.once("exit", () => done());
            child.kill("SIGTERM");
            setTimeout(() => child.kill("SIGKILL"), 10_000).unref();
          }),
      ),
    );
    await embedded?.stop();
    if (settings.databaseUrlFile) rmSync(settings.databaseUrlFile, { force: true });
    if (ephemeralDir) rmSync(ephemeralDir, { recursive: true, force: true });
    log("stopped");
    process.exit(code);
  };
  process.on("SIGINT", () => void stop(0));
  process.on("SIGTERM", () => void stop(0));

  try {
    await assertPortFree("WEB_PORT", settings.host, settings.webPort);
    await assertPortFree("SYNC_PORT", settings.host, settings.syncPort);

    let databaseUrl = settings.databaseUrl;
    if (!databaseUrl) {
      let dataDir = join(settings.dataDir, "postgres");
      if (values.ephemeral) {
        ephemeralDir = mkdtempSync(join(tmpdir(), "chorus-e2e-"));
        chmodSync(ephemeralDir, 0o711);
        dataDir = join(ephemeralDir, "postgres");
      }
      log(`DATABASE_URL is unset: starting embedded PostgreSQL (data in ${dataDir})`);
      embedded = await startEmbeddedPostgres({ dataDir, persistent: !values.ephemeral });
      databaseUrl = await ensureDatabase(embedded.url, "chorus");
    }
    log(`database ${redactDatabaseUrl(databaseUrl)}`);
    // For tests that look into the database (e2e: a device made stale); owner-readable only.
    if (settings.databaseUrlFile) {
      writeFileSync(settings.databaseUrlFile, databaseUrl, { mode: 0o600 });
    }
    const migrated = await migrate(databaseUrl);
    log(
      `migrations: ${migrated.applied.length} applied, ${migrated.alreadyApplied.length} already applied`,
    );

    const syncUrl = `http://${settings.host}:${settings.syncPort}`;
    const webUrl = `http://${settings.host}:${settings.webPort}`;
    const childEnv = {
      ...process.env,
      DATABASE_URL: databaseUrl,
      SYNC_HOST: settings.host,
      SYNC_PORT: String(settings.syncPort),
      NEXT_PUBLIC_SYNC_URL: syncUrl,
      SYNC_URL: syncUrl,
      WEB_URL: webUrl,
      WEB_ORIGINS: webUrl,
      // The web app runs `next start` (NODE_ENV=production) but on this machine: allow its
      // development defaults (dev signing key, derived session secret). Deployments set
      // CHORUS_ENV=production with NEXTAUTH_SECRET and AUTH_PRIVATE_KEY.
      CHORUS_ENV: process.env.CHORUS_ENV ?? "local",
      // Development signing key shared by the web app (issuer) and the sync server (verifier);
      // production sets AUTH_PRIVATE_KEY on the web app and AUTH_JWKS_URL on the sync server.
      CHORUS_DEV_KEY_FILE:
        process.env.CHORUS_DEV_KEY_FILE ?? join(settings.dataDir, "dev-signing-key.json"),
      // Blob files (attachments) beside the embedded database.
      BLOB_DIR: process.env.BLOB_DIR ?? join(settings.dataDir, "blobs"),
      // Without SMTP_URL, account mail is kept here and shown at /dev/mailbox.
      CHORUS_DEV_MAILBOX_DIR:
        process.env.CHORUS_DEV_MAILBOX_DIR ?? join(settings.dataDir, "dev-mailbox"),
    };
    // The same child start as the tests' (@chorus/sync-server/testing): it says over IPC when
    // it listens, and start-up fails at once, with its stderr, if it exits first.
    const sync = spawnSyncServer(
      {
        env: childEnv,
        host: settings.host,
        port: settings.syncPort,
        stdout: "inherit",
        echoStderr: true,
      },
      START_TIMEOUT_MS,
    );
    const web = spawn(
      process.execPath,
      [
        join(root, "node_modules/next/dist/bin/next"),
        "start",
        "-p",
        String(settings.webPort),
        "-H",
        settings.host,
      ],
      { cwd: join(root, "apps/web"), env: childEnv, stdio: "inherit" },
    );
    children.push(sync.child, web);
    for (const child of children) {
      child.on("exit", (code) => {
        if (!stopping) {
          console.error(`[chorus] a process exited unexpectedly (code ${code}); stopping the rest`);
          void stop(1);
        }
      });
    }

    try {
      await sync.listening;
    } catch (error) {
      throw new StartError(`the sync server did not start: ${(error as Error).message}`);
    }
    await waitForHttp(webUrl, web, "the web app");
    log("ready:");
    log(`  web app      ${webUrl}`);
    log(
      `  sync server  ${syncUrl}  (tRPC over HTTP at /trpc, WebSocket at ws://${settings.host}:${settings.syncPort}/trpc, /healthz)`,
    );
    log("press Ctrl-C to stop");
  } catch (error) {
    console.error(
      `[chorus] ${error instanceof StartError || error instanceof Error ? error.message : error}`,
    );
    await stop(1);
  }
}

void main();
