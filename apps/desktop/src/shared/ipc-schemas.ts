import { inputSchema } from "@chorus/desktop-sync/command-schemas";
import {
  DESKTOP_COMMANDS,
  type DesktopCommand,
  type InputSchemaOf,
  type PushReport,
  type Settings,
} from "@chorus/desktop-sync/commands";
import type { z } from "zod";
import type { IpcChannel } from "./ipc-channels.js";

/** The command behind a channel. */
export type CommandOfChannel<C extends IpcChannel> = Extract<DesktopCommand, { channel: C }>;

/**
 * What main accepts on each channel: the command table's input schemas. The renderer is not
 * trusted to send well-formed data: main parses every payload with these before a handler
 * sees it.
 */
export const ipcPayloadSchemas = Object.fromEntries(
  DESKTOP_COMMANDS.map((command) => [command.channel, inputSchema(command)]),
) as { [C in IpcChannel]: InputSchemaOf<CommandOfChannel<C>> };

export type IpcPayload<C extends IpcChannel> = z.input<InputSchemaOf<CommandOfChannel<C>>>;

/** What each channel answers with when it succeeds. */
export type IpcResults = {
  [C in IpcChannel]: Awaited<ReturnType<CommandOfChannel<C>["run"]>>;
};

export type { PushReport, Settings };
