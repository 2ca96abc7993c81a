import type { z } from "zod";
import { accountCommands } from "./account.js";
import { encryptionCommands } from "./encryption.js";
import { libraryCommands } from "./library.js";
import { profileCommands } from "./profiles.js";
import { syncCommands } from "./sync.js";

/**
 * Every desktop command, once. The IPC handlers, the preload API and the dev harness's routes
 * of apps/desktop and the CLI's parsing, help and printing are derived from this list (in
 * this order, which is the order of the CLI's help). Adding a command is adding an entry to
 * one of these groups.
 */
export const COMMANDS = [
  ...profileCommands,
  ...accountCommands,
  ...encryptionCommands,
  ...syncCommands,
  ...libraryCommands,
] as const;

export type AnyCommand = (typeof COMMANDS)[number];
export type CommandName = AnyCommand["name"];
export type CommandOf<N extends CommandName> = Extract<AnyCommand, { name: N }>;
export type InputSchemaOf<C extends AnyCommand> = ReturnType<C["input"]>;
export type CommandInput<N extends CommandName> = z.input<InputSchemaOf<CommandOf<N>>>;
export type CommandResult<N extends CommandName> = Awaited<ReturnType<CommandOf<N>["run"]>>;

/** The commands the desktop window may call (over IPC, or the dev harness's HTTP). */
export type DesktopCommand = Extract<AnyCommand, { channel: string }>;
export type DesktopCommandName = DesktopCommand["name"];

export const DESKTOP_COMMANDS = COMMANDS.filter(
  (command): command is DesktopCommand => command.channel !== null,
);

export function commandNamed(name: string): AnyCommand | undefined {
  return COMMANDS.find((command) => command.name === name);
}
