import {
  type Account,
  type Diagnostics,
  type PlaylistDetail,
  type PlaylistSummary,
  type ProfileStatus,
  type ProfileSummary,
  playlistNameSchema,
  profileNameSchema,
  type SyncMode,
  syncModeSchema,
  type Track,
} from "@chorus/desktop-sync/contract";
import { z } from "zod";
import { IPC, type IpcChannel } from "./ipc-channels.js";

const id = z.string().min(1).max(128);
const placement = {
  after: id.optional(),
  before: id.optional(),
};

/**
 * What main accepts on each channel. The renderer is not trusted to send well-formed data:
 * main parses every payload with these before a handler sees it.
 */
export const ipcPayloadSchemas = {
  [IPC.getStatus]: z.undefined(),
  [IPC.listProfiles]: z.undefined(),
  [IPC.createProfile]: z.strictObject({ name: profileNameSchema }),
  [IPC.switchProfile]: z.strictObject({ name: profileNameSchema }),
  [IPC.getDiagnostics]: z.undefined(),
  [IPC.pushNow]: z.undefined(),
  [IPC.clearLastError]: z.undefined(),
  [IPC.getSettings]: z.undefined(),
  [IPC.setMode]: z.strictObject({ mode: syncModeSchema }),
  [IPC.signIn]: z.strictObject({
    webUrl: z.url({
      protocol: /^https?$/,
      error: "the web address must start with http:// or https://",
    }),
    deviceName: z.string().trim().min(1).max(80).optional(),
  }),
  [IPC.cancelSignIn]: z.undefined(),
  [IPC.signOut]: z.undefined(),
  [IPC.listPlaylists]: z.undefined(),
  [IPC.getPlaylist]: z.strictObject({ id }),
  [IPC.listTracks]: z.undefined(),
  [IPC.createPlaylist]: z.strictObject({ name: playlistNameSchema }),
  [IPC.renamePlaylist]: z.strictObject({ id, name: playlistNameSchema }),
  [IPC.deletePlaylist]: z.strictObject({ id }),
  [IPC.addTrack]: z.strictObject({
    title: z.string().trim().min(1).max(200),
    artist: z.string().trim().max(200).nullish(),
    album: z.string().trim().max(200).nullish(),
  }),
  [IPC.deleteTrack]: z.strictObject({ id }),
  [IPC.trackUsage]: z.strictObject({ id }),
  [IPC.addEntry]: z.strictObject({ playlistId: id, trackId: id, ...placement }),
  [IPC.moveEntry]: z.strictObject({ entryId: id, ...placement }),
  [IPC.removeEntry]: z.strictObject({ entryId: id }),
} satisfies Record<IpcChannel, z.ZodType>;

export type IpcPayload<C extends IpcChannel> = z.infer<(typeof ipcPayloadSchemas)[C]>;

export interface Settings {
  account: Account | null;
  mode: SyncMode;
  /** The web app to sign in through when no account is bound yet (from the environment). */
  defaultWebUrl: string | null;
  /** True while a browser sign-in waits for its callback. */
  signInPending: boolean;
  /** The open profile: what the settings shown belong to. */
  profile: string;
  /** What the device is called at sign-in unless the user names it (the host name). */
  defaultDeviceName: string;
}

/**
 * What "Sync now" did: uploaded some changes, found nothing to upload, could not upload
 * (the failure's code), or could not try because this profile does not sync (Local mode,
 * signed out).
 */
export type PushReport =
  | { outcome: "uploaded"; pushed: number; diagnostics: Diagnostics }
  | { outcome: "up_to_date"; pushed: 0; diagnostics: Diagnostics }
  | { outcome: "failed"; pushed: number; failure: string; diagnostics: Diagnostics }
  | { outcome: "not_syncing"; pushed: 0; diagnostics: Diagnostics };

/** What each channel answers with when it succeeds. */
export interface IpcResults {
  [IPC.getStatus]: ProfileStatus;
  [IPC.listProfiles]: ProfileSummary[];
  [IPC.createProfile]: ProfileSummary;
  [IPC.switchProfile]: ProfileStatus;
  [IPC.getDiagnostics]: Diagnostics;
  [IPC.pushNow]: PushReport;
  [IPC.clearLastError]: Diagnostics;
  [IPC.getSettings]: Settings;
  [IPC.setMode]: Settings;
  [IPC.signIn]: Settings;
  [IPC.cancelSignIn]: Settings;
  [IPC.signOut]: Settings;
  [IPC.listPlaylists]: PlaylistSummary[];
  [IPC.getPlaylist]: PlaylistDetail | null;
  [IPC.listTracks]: Track[];
  [IPC.createPlaylist]: { id: string; name: string };
  [IPC.renamePlaylist]: { id: string; name: string };
  [IPC.deletePlaylist]: { id: string };
  [IPC.addTrack]: { id: string; title: string };
  [IPC.deleteTrack]: { id: string };
  [IPC.trackUsage]: { playlists: number };
  [IPC.addEntry]: { id: string };
  [IPC.moveEntry]: { id: string };
  [IPC.removeEntry]: { id: string };
}
