/*
 * @chorus/desktop-sync/commands: the table of desktop commands and the types derived from
 * it. No zod at run time (schemas are built from a kit by @chorus/desktop-sync/command-schemas;
 * the engine is only a type): the CLI's --help and the Electron preload and renderer load it.
 */
export type {
  CliHelp,
  CliKind,
  CliOption,
  CliSpec,
  Command,
  CommandHost,
  ErasedCommand,
  LibraryCommands,
  SchemaKit,
  Settings,
} from "./define.js";
export type { PushReport } from "./sync.js";
export {
  type AnyCommand,
  COMMANDS,
  type CommandInput,
  type CommandName,
  type CommandOf,
  type CommandResult,
  commandNamed,
  DESKTOP_COMMANDS,
  type DesktopCommand,
  type DesktopCommandName,
  type InputSchemaOf,
} from "./table.js";
