import { contextBridge, ipcRenderer } from "electron";
import { createChorusApi } from "../shared/api.js";

/**
 * The whole bridge: named calls built over ipcRenderer.invoke. ipcRenderer itself is never
 * exposed, so a page cannot reach channels it was not given.
 */
const api = createChorusApi((channel, payload) => ipcRenderer.invoke(channel, payload));

export type { ChorusApi } from "../shared/api.js";

contextBridge.exposeInMainWorld("chorus", api);
