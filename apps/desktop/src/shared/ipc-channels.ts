import type { EngineErrorCode } from "@chorus/desktop-sync/contract";

/**
 * The IPC surface between the preload and main: channel names and the result envelope.
 * No runtime imports besides these constants: the sandboxed preload bundles this file.
 * The dev harness serves the same channels over HTTP (POST /api/<channel>).
 */
export const IPC = {
  getStatus: "chorus:profile:status",
  listProfiles: "chorus:profiles:list",
  createProfile: "chorus:profiles:create",
  switchProfile: "chorus:profiles:switch",
  getDiagnostics: "chorus:sync:diagnostics",
  pushNow: "chorus:sync:push-now",
  clearLastError: "chorus:sync:clear-last-error",
  getSettings: "chorus:settings:get",
  setMode: "chorus:settings:mode",
  signIn: "chorus:account:sign-in",
  cancelSignIn: "chorus:account:cancel-sign-in",
  signOut: "chorus:account:sign-out",
  listPlaylists: "chorus:library:playlists",
  getPlaylist: "chorus:library:playlist",
  listTracks: "chorus:library:tracks",
  createPlaylist: "chorus:library:create-playlist",
  renamePlaylist: "chorus:library:rename-playlist",
  deletePlaylist: "chorus:library:delete-playlist",
  addTrack: "chorus:library:add-track",
  deleteTrack: "chorus:library:delete-track",
  trackUsage: "chorus:library:track-usage",
  addEntry: "chorus:library:add-entry",
  moveEntry: "chorus:library:move-entry",
  removeEntry: "chorus:library:remove-entry",
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
