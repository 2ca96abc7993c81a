import { DESKTOP_COMMANDS, type DesktopCommand } from "@chorus/desktop-sync/commands";
import type { EngineErrorCode } from "@chorus/desktop-sync/contract";

/**
 * The IPC surface between the preload and main, derived from the command table of
 * @chorus/desktop-sync: each command the window may call has its channel there. The dev
 * harness serves the same channels over HTTP (POST /api/<channel>).
 */
export const IPC = Object.fromEntries(
  DESKTOP_COMMANDS.map((command) => [command.name, command.channel]),
) as { readonly [C in DesktopCommand as C["name"]]: C["channel"] };

export type IpcChannel = DesktopCommand["channel"];

const CHANNELS = new Set<string>(Object.values(IPC));

/** True for the channels of the table's desktop commands (the dev harness's routes). */
export function isIpcChannel(channel: string): channel is IpcChannel {
  return CHANNELS.has(channel);
}

export type IpcErrorCode = "untrusted_sender" | "invalid_payload" | "internal" | EngineErrorCode;

export interface IpcError {
  code: IpcErrorCode;
  message: string;
}

/**
 * Every handler answers with a value, never a thrown error: Electron reduces a rejection
 * to a message string, and the renderer needs the code to decide what to show.
 */
export type IpcResult<T> = { ok: true; data: T } | { ok: false; error: IpcError };
