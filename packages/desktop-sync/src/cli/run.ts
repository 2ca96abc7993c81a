import { parseArgs } from "node:util";
import { resolveDataDir } from "../data-dir.js";
import { isEngineError } from "../errors.js";
import { createProfile, listProfiles, openProfile, selectProfileName } from "../profiles.js";
import { readProfileStatus } from "../status.js";

/** Everything the CLI touches of its process, passed in so tests can run it in-process. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Readonly<Record<string, string | undefined>>;
  platform: NodeJS.Platform;
  homedir: string;
  cwd: string;
}

export const USAGE = `Usage: chorus-device <command> [options]

Commands:
  profile create <name>   create a profile with a new device id
  profile list            list the profiles in the data dir
  status                  device id, Lamport clock and pending op count of a profile

Options:
  --data-dir <dir>        where profiles live (default: CHORUS_DATA_DIR, else the OS app data dir)
  --profile <name>        which profile (default: CHORUS_PROFILE, else the only one)
  --json                  print machine-readable JSON (errors go to stderr as JSON too)
  -h, --help              show this help
`;

class UsageError extends Error {}

/** Runs one command and returns the process exit code: 0 on success, 1 on any failure. */
export function runCli(argv: readonly string[], io: CliIo): number {
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
    const [command, subcommand, ...rest] = positionals;

    if (command === "profile" && subcommand === "create") {
      const name = expectOne(rest, "profile create <name>");
      const created = createProfile(dataDir, name);
      print(
        created,
        `Created profile ${created.name} (device ${created.deviceId}) in ${created.path}\n`,
      );
      return 0;
    }
    if (command === "profile" && subcommand === "list") {
      expectNone(rest, "profile list");
      const profiles = listProfiles(dataDir);
      const human = profiles.length
        ? `${profiles.map((p) => `${p.name}\t${p.path}`).join("\n")}\n`
        : `No profiles in ${dataDir}\n`;
      print(profiles, human);
      return 0;
    }
    if (command === "status") {
      expectNone(
        [subcommand, ...rest].filter((a) => a !== undefined),
        "status",
      );
      const requested = values.profile ?? nonEmpty(io.env.CHORUS_PROFILE);
      const profile = openProfile(dataDir, selectProfileName(dataDir, requested));
      try {
        const status = readProfileStatus(profile);
        print(
          status,
          [
            `profile      ${status.profile}`,
            `device id    ${status.deviceId}`,
            `lamport      ${status.lamport}`,
            `pending ops  ${status.pendingCount}`,
            `cursor       ${status.cursor}`,
            `server       ${status.serverUrl ?? "not bound"}`,
            "",
          ].join("\n"),
        );
      } finally {
        profile.close();
      }
      return 0;
    }
    throw new UsageError(
      command === undefined
        ? "no command given"
        : `unknown command "${[command, subcommand].filter(Boolean).join(" ")}"`,
    );
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

function expectOne(args: readonly string[], usage: string): string {
  const [only, ...extra] = args;
  if (only === undefined) throw new UsageError(`missing argument: ${usage}`);
  if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}": ${usage}`);
  return only;
}

function expectNone(args: readonly string[], usage: string): void {
  if (args.length) throw new UsageError(`unexpected argument "${args[0]}": ${usage}`);
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
