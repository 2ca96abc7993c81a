import type { EngineErrorCode } from "@chorus/desktop-sync/contract";

/**
 * The IPC surface between the preload and main: channel names and the result envelope.
 * No runtime imports besides these constants: the sandboxed preload bundles this file.
 */
export const IPC = {
  getStatus: "chorus:profile:status",
  listProfiles: "chorus:profiles:list",
  createProfile: "chorus:profiles:create",
} as const;

export type IpcChannel = (typeof IPC)[keyof typeof IPC];

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
