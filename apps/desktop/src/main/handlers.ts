import {
  type CommandHost,
  DESKTOP_COMMANDS,
  type ErasedCommand,
} from "@chorus/desktop-sync/commands";
import type { IpcHandlers } from "./ipc-dispatch.js";

/**
 * What each bridge call does, shared by Electron's IPC and the dev harness's HTTP server:
 * the command table's `run`, one per channel, against the engine host. Payloads arrive
 * already validated (ipc-dispatch.ts).
 */
export function createHandlers(host: CommandHost): IpcHandlers {
  return Object.fromEntries(
    DESKTOP_COMMANDS.map((command) => [
      command.channel,
      (payload: unknown) => (command as unknown as ErasedCommand).run(host, payload),
    ]),
  ) as IpcHandlers;
}
