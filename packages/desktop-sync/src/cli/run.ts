import { parseArgs } from "node:util";
import { resolveDataDir } from "../data-dir.js";
import { isEngineError } from "../errors.js";
import { UsageError } from "./args.js";
import { parseOptions, rawInput, resolveCommand, USAGE } from "./usage.js";

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

export { USAGE };

/** Runs one command and resolves to the process exit code: 0 on success, 1 on any failure. */
/**
 * Checks a command line as runCli does (its options, the command its words name, its
 * arguments and input) without running it or touching a profile: for a runbook's command that
 * cannot run in a test. Throws the error runCli would report; answers the command's name.
 */
export async function checkCommandLine(argv: readonly string[]): Promise<string> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: parseOptions(),
  });
  const { command, rest } = resolveCommand(positionals, values);
  const { checkedInput } = await import("./execute.js");
  checkedInput(command, rawInput(command, rest, values));
  return command.name;
}

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let json = argv.includes("--json");
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: parseOptions(),
    });
    json = values.json === true;
    if (values.help) {
      io.stdout(USAGE);
      return 0;
    }
    const dataDir = resolveDataDir({
      flag: typeof values["data-dir"] === "string" ? values["data-dir"] : undefined,
      env: io.env,
      platform: io.platform,
      homedir: io.homedir,
      cwd: io.cwd,
    });
    const print = (value: unknown, human: string) =>
      io.stdout(json ? `${JSON.stringify(value)}\n` : human);
    const { command, rest } = resolveCommand(positionals, values);
    const raw = rawInput(command, rest, values);

    const requested =
      (typeof values.profile === "string" ? values.profile : undefined) ??
      nonEmpty(io.env.CHORUS_PROFILE);
    const timeout = values["timeout-ms"] === undefined ? 5_000 : Number(values["timeout-ms"]);
    if (!Number.isInteger(timeout) || timeout < 0) {
      throw new UsageError("--timeout-ms takes a whole number of milliseconds");
    }
    // Loaded on demand: --help and usage errors answer without SQLite or the network stack.
    const [{ selectProfileName }, { executeCommand }] = await Promise.all([
      import("../profiles.js"),
      import("./execute.js"),
    ]);
    return await executeCommand(command, raw, {
      dataDir,
      profile: () => selectProfileName(dataDir, requested),
      io,
      timeoutMs: timeout,
      print,
      noOpen: values["no-open"] === true,
      logToStderr: command.name === "run" || command.name === "watch",
    });
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
