import { IPC, type IpcChannel, type IpcResult } from "./ipc-channels.js";
import type { IpcPayload, IpcResults } from "./ipc-schemas.js";

export type Invoke = <C extends IpcChannel>(
  channel: C,
  payload: IpcPayload<C>,
) => Promise<IpcResult<IpcResults[C]>>;

/**
 * The renderer's whole view of the engine: a few named calls. The preload builds it over
 * ipcRenderer.invoke (ipcRenderer itself is never exposed); the dev harness builds the same
 * object over fetch, so one renderer runs in Electron and in a plain browser.
 */
export function createChorusApi(invoke: Invoke) {
  return {
    getStatus: () => invoke(IPC.getStatus, undefined),
    listProfiles: () => invoke(IPC.listProfiles, undefined),
    createProfile: (name: string) => invoke(IPC.createProfile, { name }),
    switchProfile: (name: string) => invoke(IPC.switchProfile, { name }),
    getDiagnostics: () => invoke(IPC.getDiagnostics, undefined),
    pushNow: () => invoke(IPC.pushNow, undefined),
    clearLastError: () => invoke(IPC.clearLastError, undefined),
    getSettings: () => invoke(IPC.getSettings, undefined),
    setMode: (mode: IpcPayload<typeof IPC.setMode>["mode"]) => invoke(IPC.setMode, { mode }),
    signIn: (webUrl: string, deviceName?: string) =>
      invoke(IPC.signIn, deviceName ? { webUrl, deviceName } : { webUrl }),
    cancelSignIn: () => invoke(IPC.cancelSignIn, undefined),
    signOut: () => invoke(IPC.signOut, undefined),
    listPlaylists: () => invoke(IPC.listPlaylists, undefined),
    getPlaylist: (id: string) => invoke(IPC.getPlaylist, { id }),
    listTracks: () => invoke(IPC.listTracks, undefined),
    createPlaylist: (name: string) => invoke(IPC.createPlaylist, { name }),
    renamePlaylist: (id: string, name: string) => invoke(IPC.renamePlaylist, { id, name }),
    deletePlaylist: (id: string) => invoke(IPC.deletePlaylist, { id }),
    addTrack: (track: IpcPayload<typeof IPC.addTrack>) => invoke(IPC.addTrack, track),
    deleteTrack: (id: string) => invoke(IPC.deleteTrack, { id }),
    trackUsage: (id: string) => invoke(IPC.trackUsage, { id }),
    addEntry: (entry: IpcPayload<typeof IPC.addEntry>) => invoke(IPC.addEntry, entry),
    moveEntry: (move: IpcPayload<typeof IPC.moveEntry>) => invoke(IPC.moveEntry, move),
    removeEntry: (entryId: string) => invoke(IPC.removeEntry, { entryId }),
  };
}

export type ChorusApi = ReturnType<typeof createChorusApi>;
