import {
  type ProfileStatus,
  type ProfileSummary,
  profileNameSchema,
} from "@chorus/desktop-sync/contract";
import { z } from "zod";
import { IPC, type IpcChannel } from "./ipc-channels.js";

/**
 * What main accepts on each channel. The renderer is not trusted to send well-formed data:
 * main parses every payload with these before a handler sees it.
 */
export const ipcPayloadSchemas = {
  [IPC.getStatus]: z.undefined(),
  [IPC.listProfiles]: z.undefined(),
  [IPC.createProfile]: z.strictObject({ name: profileNameSchema }),
} satisfies Record<IpcChannel, z.ZodType>;

export type IpcPayload<C extends IpcChannel> = z.infer<(typeof ipcPayloadSchemas)[C]>;

/** What each channel answers with when it succeeds. */
export interface IpcResults {
  [IPC.getStatus]: ProfileStatus;
  [IPC.listProfiles]: ProfileSummary[];
  [IPC.createProfile]: ProfileSummary;
}
