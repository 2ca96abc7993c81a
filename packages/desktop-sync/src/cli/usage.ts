import type { AnyCommand, CliHelp, CliOption } from "../commands/index.js";
import { COMMANDS } from "../commands/index.js";
import { UsageError } from "./args.js";

/*
 * The command line derived from the command table: the help text, the options parseArgs
 * knows, which command the words name, and the input object built from the arguments.
 */

const COLUMN = 40;

/** The options every command takes. */
export const GLOBAL_OPTIONS = {
  "data-dir": { type: "string" },
  profile: { type: "string" },
  json: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
  "timeout-ms": { type: "string" },
  // signin: the URL is printed, and not opened in a browser.
  "no-open": { type: "boolean", default: false },
} as const;

type ParseOption = { type: "string" | "boolean"; short?: string; default?: string | boolean };

/** parseArgs' options: the global ones and every command's (numbers arrive as strings). */
export function parseOptions(): Record<string, ParseOption> {
  const options: Record<string, ParseOption> = { ...GLOBAL_OPTIONS };
  for (const command of COMMANDS) {
    const selector = command.cli?.selectedBy;
    if (selector) options[selector] = { type: "boolean", default: false };
    for (const option of command.cli?.options ?? []) {
      options[option.name] =
        option.type === "boolean" ? { type: "boolean", default: false } : { type: "string" };
    }
  }
  return options;
}

function helpLine({ usage, text = [] }: CliHelp): string {
  if (text.length === 0) return `  ${usage}`;
  const [first = "", ...more] = text;
  const rest = more.map((line) => `\n${" ".repeat(COLUMN)}${line}`).join("");
  return usage.length + 2 < COLUMN - 1
    ? `  ${usage.padEnd(COLUMN - 2)}${first}${rest}`
    : `  ${usage}\n${" ".repeat(COLUMN)}${first}${rest}`;
}

function renderUsage(): string {
  const sections = new Map<CliHelp["section"], string[]>();
  for (const command of COMMANDS) {
    const help = command.cli?.help;
    if (!help || "with" in help) continue;
    const lines = sections.get(help.section) ?? [];
    lines.push(helpLine(help));
    sections.set(help.section, lines);
  }
  const body = [...sections].map(([title, lines]) => `${title}\n${lines.join("\n")}\n`).join("\n");
  return `Usage: chorus-device <command> [options]

${body}
Options
  --data-dir <dir>    where profiles live (default: CHORUS_DATA_DIR, else the OS app data dir)
  --profile <name>    which profile (default: CHORUS_PROFILE, else the only one)
  --json              machine-readable output: one JSON value per line (errors on stderr)
  --timeout-ms <n>    how long one-shot commands wait for the server (default 5000)
  -h, --help          show this help
`;
}

export const USAGE = renderUsage();

export type CliCommand = AnyCommand & { cli: NonNullable<AnyCommand["cli"]> };

const CLI_COMMANDS = COMMANDS.filter((command): command is CliCommand => command.cli !== null);

/**
 * The command the words name: the longest path that matches, and among commands with the
 * same path (mode, mode <m>) the one taking as many arguments as were given; a command
 * `selectedBy` an option (status --explain) only when that option is given.
 */
export function resolveCommand(
  words: readonly string[],
  values: Readonly<Record<string, unknown>> = {},
): { command: CliCommand; rest: string[] } {
  const [first, second] = words;
  if (first === undefined) throw new UsageError("no command given");
  const matching = CLI_COMMANDS.filter(
    ({ cli }) =>
      cli.path.every((word, index) => words[index] === word) &&
      (cli.selectedBy === undefined || values[cli.selectedBy] === true),
  );
  if (matching.length === 0) {
    throw new UsageError(`unknown command "${[first, second].filter(Boolean).join(" ")}"`);
  }
  const longest = Math.max(...matching.map(({ cli }) => cli.path.length));
  const longestMatches = matching.filter(({ cli }) => cli.path.length === longest);
  // A command its option selected goes before the plain one with the same words.
  const selected = longestMatches.filter(({ cli }) => cli.selectedBy !== undefined);
  const candidates = selected.length > 0 ? selected : longestMatches;
  const rest = words.slice(longest);
  const command =
    candidates.find(({ cli }) => (cli.args?.length ?? 0) === rest.length) ??
    (candidates.at(-1) as CliCommand);
  return { command, rest };
}

const camel = (name: string) =>
  name.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());

/** The command's raw input from its arguments and options (before the table's schema). */
export function rawInput(
  command: CliCommand,
  rest: readonly string[],
  values: Record<string, unknown>,
): Record<string, unknown> | undefined {
  const { cli } = command;
  const names = cli.args ?? [];
  if (rest.length < names.length) throw new UsageError(`missing argument: ${cli.usage}`);
  if (rest.length > names.length) {
    throw new UsageError(`unexpected argument "${rest[names.length]}": ${cli.usage}`);
  }
  const input: Record<string, unknown> = {};
  names.forEach((name, index) => {
    input[name] = rest[index];
  });
  for (const option of cli.options ?? []) addOption(input, option, values[option.name]);
  if (names.length === 0 && (cli.options ?? []).length === 0) return undefined;
  return input;
}

function addOption(input: Record<string, unknown>, option: CliOption, value: unknown): void {
  const key = option.key ?? camel(option.name);
  if (value === undefined || value === false) return;
  input[key] = option.type === "number" && typeof value === "string" ? Number(value) : value;
}
