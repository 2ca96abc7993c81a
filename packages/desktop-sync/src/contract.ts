import { z } from "zod";

/**
 * What the engine shows to the outside (the Electron renderer through IPC, the CLI's --json
 * output). Zod only, no Node APIs: the Electron renderer and preload import these types.
 */

/**
 * A profile's name is also its folder name, so it is restricted to characters that are
 * safe and case-unambiguous on every file system we ship to.
 */
export const profileNameSchema = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9_-]{0,63}$/,
    'a profile name is 1 to 64 lowercase letters, digits, "-" or "_", starting with a letter or digit',
  );
export type ProfileName = z.infer<typeof profileNameSchema>;

export const profileSummarySchema = z.object({
  name: profileNameSchema,
  /** The profile's folder: its SQLite file and, later, its credentials live there. */
  path: z.string(),
});
export type ProfileSummary = z.infer<typeof profileSummarySchema>;

export const profileStatusSchema = z.object({
  profile: profileNameSchema,
  deviceId: z.uuid(),
  lamport: z.int().nonnegative(),
  pendingCount: z.int().nonnegative(),
  /** The last server op id this device has applied. */
  cursor: z.int().nonnegative(),
  /** null until the profile is bound to an account. */
  serverUrl: z.string().nullable(),
});
export type ProfileStatus = z.infer<typeof profileStatusSchema>;

export const engineErrorCodeSchema = z.enum([
  "invalid_profile_name",
  "profile_exists",
  "profile_not_found",
  "profile_ambiguous",
  "profile_corrupt",
  "schema_too_new",
  "invalid_lamport",
  /** A playlist, track or entry that does not exist (or was deleted). */
  "not_found",
  /** A library input that breaks a rule (empty name, unknown neighbour, ...). */
  "invalid_input",
  /** Server-connected mode needs the server, and it cannot be reached. */
  "offline",
  /** The action needs an account and the profile is not signed in. */
  "not_signed_in",
  /** The browser sign-in failed or was declined; the message says why. */
  "sign_in_failed",
  /** The server refused the request for a reason the user cannot fix by retrying. */
  "server_refused",
  /** Local changes are waiting to be uploaded; the action would strand them. */
  "pending_changes",
  /** The server does not serve this build's protocol version: the app must be updated. */
  "update_required",
]);
export type EngineErrorCode = z.infer<typeof engineErrorCodeSchema>;

/**
 * How a profile uses the server:
 * - local: never touches the network; edits still queue, ready for a later bind;
 * - hybrid: the library lives on this computer and syncs in the background;
 * - server: no durable library; the state is pulled into memory and every edit goes
 *   straight to the server (refused while offline).
 */
export const syncModeSchema = z.enum(["local", "hybrid", "server"]);
export type SyncMode = z.infer<typeof syncModeSchema>;

export const connectionStateSchema = z.enum([
  /** Local mode, or no account: nothing to connect to. */
  "disabled",
  "connecting",
  "connected",
  /** The server cannot be reached; the engine keeps retrying. */
  "offline",
  /** Rebuilding from a full pull after the server compacted history this device needed. */
  "resyncing",
  /**
   * The server refused this device's credential (revoked on the web, refresh token refused,
   * or a bound token it no longer accepts): signed out until the user signs in again. Not
   * offline — retrying cannot help.
   */
  "revoked",
  /** The server does not serve this build's protocol version: no retries until an update. */
  "update_required",
]);
export type ConnectionState = z.infer<typeof connectionStateSchema>;

export const syncErrorInfoSchema = z.object({
  code: z.string(),
  message: z.string(),
  /** ISO time of the failure. */
  at: z.string(),
});
export type SyncErrorInfo = z.infer<typeof syncErrorInfoSchema>;

export const accountSchema = z.object({
  userId: z.uuid(),
  email: z.string().nullable(),
  /** The web app the profile signed in through; null for a token bound by a test or script. */
  webUrl: z.string().nullable(),
  syncUrl: z.string(),
  /** True when a usable credential is stored for this account on this computer. */
  signedIn: z.boolean(),
});
export type Account = z.infer<typeof accountSchema>;

export const resyncProgressSchema = z.object({
  phase: z.enum(["pulling", "applying", "done"]),
  /** Ops received (pulling) or applied (applying) so far. */
  done: z.int().nonnegative(),
  /** The newest op id the server reported so far (pulling), or the ops to apply. */
  total: z.int().nonnegative().nullable(),
});
export type ResyncProgress = z.infer<typeof resyncProgressSchema>;

/** A local op the server refused for good: kept out of the queue so the rest flows on. */
export const quarantinedOpSchema = z.object({
  operationId: z.string(),
  entity: z.string(),
  entityId: z.string(),
  field: z.string().nullable(),
  op: z.string(),
  /** Why the server refused it (the protocol rule it breaks). */
  reason: z.string(),
  /** ISO time it was set aside. */
  at: z.string(),
});
export type QuarantinedOp = z.infer<typeof quarantinedOpSchema>;

export const diagnosticsSchema = z.object({
  profile: profileNameSchema,
  deviceId: z.uuid(),
  mode: syncModeSchema,
  connection: connectionStateSchema,
  lamport: z.int().nonnegative(),
  pendingCount: z.int().nonnegative(),
  /** Milliseconds since the oldest queued op was made; null when the queue is empty. */
  oldestPendingAgeMs: z.int().nonnegative().nullable(),
  cursor: z.int().nonnegative(),
  lastError: syncErrorInfoSchema.nullable(),
  /**
   * ISO time this device last exchanged changes with the server (connected, uploaded or
   * received); null until it first has. A lastError older than this has been recovered from.
   */
  lastSyncAt: z.string().nullable(),
  /** Local ops the server refused for good (never uploaded; the rest of the queue flows on). */
  quarantinedCount: z.int().nonnegative(),
  /** The newest of them (at most 20), with the reasons. */
  quarantined: z.array(quarantinedOpSchema),
  account: accountSchema.nullable(),
  resync: resyncProgressSchema.nullable(),
});
export type Diagnostics = z.infer<typeof diagnosticsSchema>;

export const playlistSummarySchema = z.object({
  id: z.string(),
  name: z.string(),
  entryCount: z.int().nonnegative(),
});
export type PlaylistSummary = z.infer<typeof playlistSummarySchema>;

export const trackSchema = z.object({
  id: z.string(),
  title: z.string(),
  artist: z.string().nullable(),
  album: z.string().nullable(),
  durationMs: z.int().nonnegative().nullable(),
});
export type Track = z.infer<typeof trackSchema>;

export const playlistEntrySchema = z.object({
  id: z.string(),
  trackId: z.string(),
  position: z.string(),
  track: trackSchema,
});
export type PlaylistEntry = z.infer<typeof playlistEntrySchema>;

export const playlistDetailSchema = z.object({
  id: z.string(),
  name: z.string(),
  entries: z.array(playlistEntrySchema),
});
export type PlaylistDetail = z.infer<typeof playlistDetailSchema>;

/** The whole visible library, in a canonical order: what two converged devices agree on. */
export const librarySnapshotSchema = z.object({
  playlists: z.array(playlistDetailSchema),
  tracks: z.array(trackSchema),
});
export type LibrarySnapshot = z.infer<typeof librarySnapshotSchema>;

const nameText = z
  .string()
  .trim()
  .min(1, "a name cannot be empty")
  .max(200, "at most 200 characters");

export const newTrackSchema = z.object({
  title: nameText,
  artist: z.string().trim().max(200).nullish(),
  album: z.string().trim().max(200).nullish(),
  durationMs: z.int().nonnegative().nullish(),
});
export type NewTrack = z.infer<typeof newTrackSchema>;

/** Where an entry goes: after or before another entry of the same playlist, else at the end. */
export const entryPlacementSchema = z
  .object({ after: z.string().optional(), before: z.string().optional() })
  .refine((p) => !(p.after !== undefined && p.before !== undefined), {
    message: "give either after or before, not both",
  });
export type EntryPlacement = z.infer<typeof entryPlacementSchema>;

export const playlistNameSchema = nameText;
