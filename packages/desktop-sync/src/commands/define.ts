import type { z } from "zod";
import type * as ContractModule from "../contract.js";
import type { Account, ProfileStatus, ProfileSummary, SyncMode } from "../contract.js";
import type { DeviceEngine } from "../engine.js";

/*
 * How a desktop command is defined: once, here, and every surface is derived from the
 * definition (the IPC handlers and the preload API of apps/desktop, the dev harness's routes,
 * the CLI's parsing, help and printing). This module and the table import nothing at run
 * time but zod and the contract (the engine is only a type): the sandboxed preload and the
 * renderer bundle it.
 */

/** What an entry builds its input schema from. */
export interface SchemaKit {
  z: typeof z;
  contract: typeof ContractModule;
}
export type Zod = SchemaKit["z"];

/** What the desktop's settings page shows; every account change answers with it. */
export interface Settings {
  account: Account | null;
  mode: SyncMode;
  /** The web app to sign in through when no account is bound yet (from the environment). */
  defaultWebUrl: string | null;
  /** True while a browser sign-in waits for its callback. */
  signInPending: boolean;
  /** The open profile: what the settings shown belong to. */
  profile: string;
  /** What the device is called at sign-in unless the user names it (the host name). */
  defaultDeviceName: string;
}

/**
 * The library as commands reach it: one narrow object (today the engine's library methods),
 * so the library can move behind another layer without touching a command.
 */
export type LibraryCommands = Pick<
  DeviceEngine,
  | "playlists"
  | "playlist"
  | "tracks"
  | "snapshot"
  | "createPlaylist"
  | "renamePlaylist"
  | "deletePlaylist"
  | "addTrack"
  | "deleteTrack"
  | "addEntry"
  | "moveEntry"
  | "removeEntry"
  | "setPlaylistCover"
  | "clearPlaylistCover"
  | "playlistCover"
  | "savePlaylistCover"
>;

/**
 * What a command runs against: the open profile's engine plus what only the host can do
 * (Electron main and the dev harness: EngineHost in apps/desktop; the CLI: one engine per
 * process, opened on first use).
 */
export interface CommandHost {
  readonly engine: DeviceEngine;
  readonly library: LibraryCommands;
  status(): ProfileStatus;
  listProfiles(): ProfileSummary[];
  createProfile(name: string): ProfileSummary & { deviceId?: string };
  switchProfile(name: string): Promise<void>;
  settings(): Settings;
  /** Browser sign-in under `deviceName` (default: the host's name for this computer). */
  signInWithBrowser(webUrl: string, deviceName?: string): Promise<Settings>;
  cancelSignIn(): Settings;
  /** How many playlists hold a track: what deleting it takes the track out of. */
  playlistsHoldingTrack(trackId: string): number;
  /** Where the profiles live. */
  readonly dataDir: string;
  /** How long one-shot commands wait for the server. */
  readonly timeoutMs: number;
  /** Aborted when the process is asked to stop (long-lived commands end cleanly). */
  readonly signal?: AbortSignal | undefined;
  /** One more value of a long-lived command's output (the CLI's watch). */
  stream(value: unknown, human: string): void;
  /** A warning beside the result (stderr in the CLI). */
  warn(text: string): void;
}

/**
 * What a one-shot CLI process does around `run`:
 * - `read`: in server-connected mode the library is loaded from the server first;
 * - `edit`: in server-connected mode the engine starts first; afterwards the edit is uploaded
 *   before the process exits (bounded by --timeout-ms) and the result says `uploaded`;
 * - `account`: refused at once on a revoked device;
 * - `plain`: nothing.
 */
export type CliKind = "plain" | "read" | "edit" | "account";

export interface CliOption {
  /** `--name` on the command line. */
  name: string;
  type: "string" | "boolean" | "number";
  /** The input key it fills; absent: the name in camelCase. */
  key?: string;
}

export interface CliHelp {
  section: "Profiles" | "Account and sync" | "Library";
  /** The left column; a long one gets a line of its own. */
  usage: string;
  /** The right column, one string per line (none for the library's lines). */
  text?: readonly string[];
}

export interface CliSpec<I, O> {
  /** The words that name the command: `["playlist", "create"]`. */
  path: readonly string[];
  /** Positional arguments, in order, as input keys. */
  args?: readonly string[];
  /**
   * A boolean option that picks this command among commands with the same words
   * (`status --explain`); the option is not part of the input.
   */
  selectedBy?: string;
  options?: readonly CliOption[];
  /** What a usage error quotes. */
  usage: string;
  /** Its line in --help, or the command whose line covers it. */
  help: CliHelp | { with: string };
  kind: CliKind;
  /** The engine error code a refused input is reported with (default invalid_input). */
  invalidCode?: "invalid_input" | "invalid_profile_name";
  /** A rule only the command line has (a usage error), checked before the input schema. */
  check?(raw: Record<string, unknown>): string | null;
  /** Before `run` (after what `kind` does). */
  prepare?(host: CommandHost, input: I): Promise<void> | void;
  /** After `run`, before printing. */
  settle?(host: CommandHost, result: O): void;
  /**
   * What is printed: the --json value, the human text, and the exit code (default 0); null:
   * nothing more (a long-lived command printed as it went).
   */
  print(
    result: O,
    input: I,
    host: CommandHost,
  ): { json: unknown; human: string; exitCode?: number } | null;
  /** After printing (may still fail the command: status on a revoked device). */
  afterPrint?(host: CommandHost): void;
}

export interface Command<N extends string, S extends z.ZodType, O, C extends string | null> {
  name: N;
  /**
   * What every surface parses the input with before `run`, built from the kit it is given
   * (zod and the contract's schemas) so the table loads without zod: the CLI's --help and
   * the window's preload never build a schema. `inputSchema` (schemas.ts) builds it once.
   */
  input(kit: SchemaKit): S;
  run(host: CommandHost, input: z.output<S>): O | Promise<O>;
  /** The IPC channel (and the dev harness's route); null: not offered to the window. */
  channel: C;
  /** Why the window does not offer it (required when `channel` is null). */
  desktopAbsent?: string;
  /** The command line; null: not on the CLI, with the reason in `cliAbsent`. */
  cli: CliSpec<z.output<S>, Awaited<O>> | null;
  cliAbsent?: string;
}

/** Keeps the literal name, channel and the input/result types of one table entry. */
export function defineCommand<N extends string, S extends z.ZodType, O, C extends string | null>(
  command: Command<N, S, O, C>,
): Command<N, S, O, C> {
  if (command.channel === null && !command.desktopAbsent) {
    throw new Error(`command ${command.name}: say why the window does not offer it`);
  }
  if (command.cli === null && !command.cliAbsent) {
    throw new Error(`command ${command.name}: say why the CLI does not offer it`);
  }
  return command;
}

/** Any entry, as the code that runs entries of every kind sees it. */
export type ErasedCommand = Command<string, z.ZodType, unknown, string | null>;
