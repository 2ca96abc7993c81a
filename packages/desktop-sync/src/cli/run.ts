import { parseArgs } from "node:util";
import { resolveDataDir } from "../data-dir.js";
import { isEngineError } from "../errors.js";
import { expectNone, expectOne, UsageError } from "./args.js";
import type { CommandContext } from "./commands.js";

/** Everything the CLI touches of its process, passed in so tests can run it in-process. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Readonly<Record<string, string | undefined>>;
  platform: NodeJS.Platform;
  homedir: string;
  cwd: string;
  /** Aborted on SIGINT/SIGTERM: long-lived commands (run, watch, signin) stop cleanly. */
  signal?: AbortSignal;
  /** Opens a URL in the system browser (signin); absent: the URL is only printed. */
  openUrl?(url: string): void;
}

export const USAGE = `Usage: chorus-device <command> [options]

Profiles
  profile create <name>                 create a profile (with a local device id until sign-in)
  profile list                          list the profiles in the data dir

Account and sync
  signin --web-url <url> [--no-open]    sign in through the browser (prints the URL to open)
  bind-token --sync-url <url> --token <jwt>
                                        bind with a fixed device token (tests and scripts)
  signout                               forget the account; the library stays here
  mode [local|hybrid|server]            show or set how this profile uses the server
  status                                device id, mode, Lamport clock, queue, cursor, last error
                                        (exits 1 when the account revoked this device)
  clear-error                           forget the last sync error
  push                                  upload queued changes now
  sync                                  upload, then download what is new, once
  watch                                 print remote changes as they arrive (Ctrl-C stops)
  run                                   the long-lived sync process (Ctrl-C stops)

Library
  library                               the whole library
  playlist list | show <id>
  playlist create <name> | rename <id> <name> | delete <id>
  track list | add <title> [--artist A] [--album B] [--duration-ms N] | delete <id>
  entry add <playlist-id> <track-id> [--after <entry-id> | --before <entry-id>]
  entry move <entry-id> (--after <entry-id> | --before <entry-id> | --to-end)
  entry remove <entry-id>

Options
  --data-dir <dir>    where profiles live (default: CHORUS_DATA_DIR, else the OS app data dir)
  --profile <name>    which profile (default: CHORUS_PROFILE, else the only one)
  --json              machine-readable output: one JSON value per line (errors on stderr)
  --timeout-ms <n>    how long one-shot commands wait for the server (default 5000)
  -h, --help          show this help
`;

const ENGINE_COMMANDS = new Set([
  "signin",
  "bind-token",
  "signout",
  "mode",
  "status",
  "clear-error",
  "push",
  "sync",
  "watch",
  "run",
  "library",
  "playlist",
  "track",
  "entry",
]);

/** Runs one command and resolves to the process exit code: 0 on success, 1 on any failure. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let json = argv.includes("--json");
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        "data-dir": { type: "string" },
        profile: { type: "string" },
        json: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
        "web-url": { type: "string" },
        "sync-url": { type: "string" },
        token: { type: "string" },
        "no-open": { type: "boolean", default: false },
        artist: { type: "string" },
        album: { type: "string" },
        "duration-ms": { type: "string" },
        after: { type: "string" },
        before: { type: "string" },
        "to-end": { type: "boolean", default: false },
        "timeout-ms": { type: "string" },
      },
    });
    json = values.json;
    if (values.help) {
      io.stdout(USAGE);
      return 0;
    }
    const dataDir = resolveDataDir({
      flag: values["data-dir"],
      env: io.env,
      platform: io.platform,
      homedir: io.homedir,
      cwd: io.cwd,
    });
    const print = (value: unknown, human: string) =>
      io.stdout(json ? `${JSON.stringify(value)}\n` : human);
    const [command, ...args] = positionals;

    // Loaded on demand: --help and usage errors answer without SQLite, zod or the network stack.
    const { createProfile, listProfiles, selectProfileName } = await import("../profiles.js");
    if (command === "profile" && args[0] === "create") {
      const name = expectOne(args.slice(1), "profile create <name>");
      const created = createProfile(dataDir, name);
      print(
        created,
        `Created profile ${created.name} in ${created.path}\n` +
          `Local device id ${created.deviceId}: it stands for this profile until it signs in; signing in replaces it with the id the server assigns (\`status\` shows the current one).\n`,
      );
      return 0;
    }
    if (command === "profile" && args[0] === "list") {
      expectNone(args.slice(1), "profile list");
      const profiles = listProfiles(dataDir);
      const human = profiles.length
        ? `${profiles.map((p) => `${p.name}\t${p.path}`).join("\n")}\n`
        : `No profiles in ${dataDir}\n`;
      print(profiles, human);
      return 0;
    }
    if (command === undefined) throw new UsageError("no command given");
    if (!ENGINE_COMMANDS.has(command)) {
      throw new UsageError(`unknown command "${[command, args[0]].filter(Boolean).join(" ")}"`);
    }

    const requested = values.profile ?? nonEmpty(io.env.CHORUS_PROFILE);
    const timeout = values["timeout-ms"] === undefined ? 5_000 : Number(values["timeout-ms"]);
    if (!Number.isInteger(timeout) || timeout < 0) {
      throw new UsageError("--timeout-ms takes a whole number of milliseconds");
    }
    const context: CommandContext = {
      command,
      args,
      values,
      dataDir,
      profile: () => selectProfileName(dataDir, requested),
      json,
      print,
      io,
      timeoutMs: timeout,
    };
    const { runEngineCommand } = await import("./commands.js");
    return await runEngineCommand(context);
  } catch (error) {
    return reportError(error, io, json);
  }
}

function reportError(error: unknown, io: CliIo, json: boolean): number {
  if (isEngineError(error)) {
    io.stderr(
      json
        ? `${JSON.stringify({ error: { code: error.code, message: error.message, ...error.details } })}\n`
        : `error: ${error.message}\n`,
    );
    return 1;
  }
  if (error instanceof UsageError || isParseArgsError(error)) {
    const message = error instanceof Error ? error.message : String(error);
    io.stderr(
      json
        ? `${JSON.stringify({ error: { code: "usage", message } })}\n`
        : `error: ${message}\n\n${USAGE}`,
    );
    return 1;
  }
  // Not the user's fault: keep the stack for the bug report.
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  io.stderr(
    json
      ? `${JSON.stringify({ error: { code: "internal", message: String(error) } })}\n`
      : `internal error: ${detail}\n`,
  );
  return 1;
}

function isParseArgsError(error: unknown): error is Error {
  return (
    error instanceof Error &&
    "code" in error &&
    typeof error.code === "string" &&
    error.code.startsWith("ERR_PARSE_ARGS_")
  );
}

function nonEmpty(value: string | undefined): string | undefined {
  return value?.trim() ? value : undefined;
}
