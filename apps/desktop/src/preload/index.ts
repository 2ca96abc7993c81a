import { contextBridge, ipcRenderer } from "electron";
import { IPC, type IpcChannel, type IpcResult } from "../shared/ipc-channels.js";
import type { IpcPayload, IpcResults } from "../shared/ipc-schemas.js";

/**
 * The whole bridge: a few named calls. ipcRenderer itself is never exposed, so a page
 * cannot reach channels it was not given.
 */
function invoke<C extends IpcChannel>(
  channel: C,
  payload: IpcPayload<C>,
): Promise<IpcResult<IpcResults[C]>> {
  return ipcRenderer.invoke(channel, payload);
}

const api = {
  getStatus: () => invoke(IPC.getStatus, undefined),
  listProfiles: () => invoke(IPC.listProfiles, undefined),
  createProfile: (name: string) => invoke(IPC.createProfile, { name }),
};

export type ChorusApi = typeof api;

contextBridge.exposeInMainWorld("chorus", api);
