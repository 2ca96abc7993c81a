import type { IpcError, IpcErrorCode, IpcResult } from "../shared/ipc-channels.js";

/** A failed bridge call, keeping main's code so the UI can say what to do. */
export class BridgeError extends Error {
  readonly code: IpcErrorCode;

  constructor(error: IpcError) {
    super(error.message);
    this.name = "BridgeError";
    this.code = error.code;
  }
}

/** Turns the bridge's result envelope into a value or a thrown BridgeError (for react-query). */
export async function unwrap<T>(pending: Promise<IpcResult<T>>): Promise<T> {
  const result = await pending;
  if (result.ok) return result.data;
  throw new BridgeError(result.error);
}

export const queryKeys = {
  status: ["profile-status"],
  profiles: ["profiles"],
  diagnostics: ["diagnostics"],
  settings: ["settings"],
  encryption: ["encryption"],
  playlists: ["library", "playlists"],
  playlist: (id: string) => ["library", "playlist", id],
  cover: (id: string) => ["library", "cover", id],
  tracks: ["library", "tracks"],
  library: ["library"],
  overwritten: ["overwritten"],
  overwrittenOf: (entity: string, entityId: string) => ["overwritten", entity, entityId],
} as const;

/** How often views re-read the engine: remote changes arrive without the window asking. */
export const LIVE_REFETCH_MS = 1_000;
