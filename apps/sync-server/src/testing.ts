import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type ExitStatus, waitFor, waitForExit } from "@chorus/testing";
import { SYNC_SERVER_ENV, SYNC_SERVER_NODE_FLAGS } from "./node-flags.js";

/*
 * The one way to start a sync server as a process of its own: tests of this package, the
 * cross-process system tests, the Playwright backends and `npm start` all go through here.
 *
 * The child is the real entry point (the built dist/main.js, or src/main.ts through tsx so a
 * test needs no build) with an IPC channel. Once it listens it sends `{ type: "listening",
 * port }` (main.ts), so port 0 works without reading logs or polling /healthz. Start-up waits
 * for that message with a bound only a real hang reaches, and fails at once, with the child's
 * stderr, if the child exits first.
 */

/** What main.ts sends its parent once it listens. */
export interface ListeningMessage {
  type: "listening";
  port: number;
}

export function isListeningMessage(message: unknown): message is ListeningMessage {
  return (
    typeof message === "object" &&
    message !== null &&
    (message as ListeningMessage).type === "listening" &&
    typeof (message as ListeningMessage).port === "number"
  );
}

const require = createRequire(import.meta.url);
export const SERVER_DIST_MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));
export const SERVER_SOURCE_MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));

export interface SyncServerSpawnOptions {
  /** Settings of the server (DATABASE_URL, AUTH_PUBLIC_KEY, LOG_LEVEL...), over the base env. */
  env: Record<string, string | undefined>;
  /** The environment under `env`: the parent's (default) or only PATH ("clean"). */
  baseEnv?: "inherit" | "clean";
  /** "dist" (default): the built dist/main.js; "source": src/main.ts through tsx. */
  entry?: "dist" | "source";
  /** SYNC_HOST, default 127.0.0.1. */
  host?: string;
  /** SYNC_PORT, default 0 (the system picks a free one; the child tells which). */
  port?: number;
  cwd?: string;
  /** The child's stdout (its JSON log): dropped (default) or shown. */
  stdout?: "ignore" | "inherit";
  /** Also copy the child's stderr to ours (it is always kept for error messages). */
  echoStderr?: boolean;
}

export class SyncServerExitError extends Error {
  override name = "SyncServerExitError";

  constructor(
    readonly status: ExitStatus,
    readonly stderr: string,
  ) {
    super(
      `sync server exited during start-up (${status.signal ?? `code ${status.code}`})${stderr ? `: ${stderr}` : ""}`,
    );
  }
}

export interface SpawnedSyncServer {
  child: ChildProcess;
  /** Resolves with the port once the server listens; rejects if it exits first or hangs. */
  listening: Promise<number>;
  /** The last 16 KB the child wrote to stderr. */
  stderr(): string;
}

const STDERR_TAIL = 16_384;

/**
 * How long a spawned server may take to listen. Longer than the general wait bound: from source
 * it first compiles through tsx, and on a loaded CI machine (a reconnect storm of 120 clients
 * beside other suites) that alone has taken over 60 s.
 */
export const SERVER_START_BOUND_MS = 180_000;

/** Spawns the server and watches its start-up; the caller supervises the child afterwards. */
export function spawnSyncServer(
  options: SyncServerSpawnOptions,
  startTimeoutMs = SERVER_START_BOUND_MS,
): SpawnedSyncServer {
  const entry = options.entry ?? "dist";
  const args =
    entry === "dist"
      ? [...SYNC_SERVER_NODE_FLAGS, "--enable-source-maps", SERVER_DIST_MAIN]
      : [
          ...SYNC_SERVER_NODE_FLAGS,
          "--import",
          pathToFileURL(require.resolve("tsx")).href,
          SERVER_SOURCE_MAIN,
        ];
  const base =
    (options.baseEnv ?? "inherit") === "inherit" ? process.env : { PATH: process.env.PATH ?? "" };
  const child = spawn(process.execPath, args, {
    cwd: options.cwd,
    env: {
      ...base,
      ...SYNC_SERVER_ENV,
      ...options.env,
      SYNC_HOST: options.host ?? "127.0.0.1",
      SYNC_PORT: String(options.port ?? 0),
    },
    stdio: ["ignore", options.stdout ?? "ignore", "pipe", "ipc"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-STDERR_TAIL);
    if (options.echoStderr) process.stderr.write(chunk);
  });
  const listening = waitFor<number>(
    `the sync server (${entry}) to listen`,
    (resolve, reject) => {
      const onMessage = (message: unknown) => {
        if (isListeningMessage(message)) resolve(message.port);
      };
      // "close" rather than "exit": by then stderr has been read to the end.
      const onClose = (code: number | null, signal: NodeJS.Signals | null) =>
        reject(new SyncServerExitError({ code, signal }, stderr.trim()));
      child.on("message", onMessage);
      child.once("close", onClose);
      child.once("error", reject); // could not be spawned at all
      return () => {
        child.off("message", onMessage);
        child.off("close", onClose);
        child.off("error", reject);
      };
    },
    { timeoutMs: startTimeoutMs },
  ).catch((error: unknown) => {
    if (!(error instanceof SyncServerExitError)) {
      child.kill("SIGKILL");
      throw new Error(`${(error as Error).message}; its stderr: ${stderr.trim()}`);
    }
    throw error;
  });
  return { child, listening, stderr: () => stderr };
}

/**
 * A sync server process a test controls: start on port 0, stop (SIGTERM, wait for the exit),
 * kill (SIGKILL: no graceful shutdown, no ACK flush), restart on the same port.
 */
export class SyncServerProcess {
  private current: SpawnedSyncServer | null = null;
  port: number;

  constructor(private readonly options: SyncServerSpawnOptions) {
    this.port = options.port ?? 0;
  }

  get host(): string {
    return this.options.host ?? "127.0.0.1";
  }

  /** host:port */
  get address(): string {
    return `${this.host}:${this.port}`;
  }

  get url(): string {
    return `http://${this.address}`;
  }

  get running(): boolean {
    const child = this.current?.child;
    return !!child && child.exitCode === null && child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.current?.child.pid;
  }

  /** What the server has written to stderr (the current or last process). */
  stderr(): string {
    return this.current?.stderr() ?? "";
  }

  /** Starts the server (on its previous port after a stop or kill) and waits until it listens. */
  async start(): Promise<void> {
    if (this.running) throw new Error("the sync server is already running");
    const spawned = spawnSyncServer({ ...this.options, port: this.port });
    this.current = spawned;
    this.port = await spawned.listening;
  }

  /** SIGTERM, then waits for the exit (the server's own grace period bounds its shutdown). */
  stop(): Promise<ExitStatus> {
    return this.signal("SIGTERM");
  }

  /** SIGKILL by default: the process dies at once, nothing is flushed. */
  kill(signal: NodeJS.Signals = "SIGKILL"): Promise<ExitStatus> {
    return this.signal(signal);
  }

  /** Stops the server gracefully and starts it again on the same port. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  private async signal(signal: NodeJS.Signals): Promise<ExitStatus> {
    const child = this.current?.child;
    if (!child) return { code: null, signal: null };
    const exited = waitForExit(child, `the sync server to exit after ${signal}`);
    child.kill(signal);
    try {
      return await exited;
    } catch (error) {
      child.kill("SIGKILL");
      throw error;
    }
  }
}

/** Starts a sync server process and waits until it listens. */
export async function startSyncServer(options: SyncServerSpawnOptions): Promise<SyncServerProcess> {
  const server = new SyncServerProcess(options);
  await server.start();
  return server;
}
