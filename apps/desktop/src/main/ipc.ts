import { type IpcMainInvokeEvent, ipcMain } from "electron";
import { IPC } from "../shared/ipc-channels.js";
import { type DispatchDeps, dispatchIpc } from "./ipc-dispatch.js";
import type { SenderFacts } from "./sender-guard.js";

/**
 * Registers one handler per channel; each goes through dispatchIpc (sender check, payload
 * validation, error envelope). Returns a function that removes them again.
 */
export function registerIpcHandlers(deps: DispatchDeps): () => void {
  const channels = Object.values(IPC);
  for (const channel of channels) {
    ipcMain.handle(channel, (event, ...args: unknown[]) =>
      dispatchIpc(channel, senderFacts(event), args, deps),
    );
  }
  return () => {
    for (const channel of channels) ipcMain.removeHandler(channel);
  };
}

function senderFacts(event: IpcMainInvokeEvent): SenderFacts {
  const frame = event.senderFrame;
  return {
    webContentsId: event.sender.id,
    frameUrl: frame?.url,
    isMainFrame: frame !== null && frame.parent === null,
  };
}
