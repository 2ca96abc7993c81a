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
  /**
   * The account revoked this device: the server accepts none of its tokens again. The library
   * stays on this computer; signing in again binds the profile as a new device.
   */
  "device_revoked",
  /** An app's sync declaration is malformed or does not match its tables (a developer error). */
  "invalid_app_schema",
  /** The encryption password does not open the account's master key. */
  "wrong_password",
  /**
   * The account encrypts its data and this device does not hold the current master key (a
   * new device, or another device reset the key): enter the encryption password.
   */
  "encryption_locked",
  /** The account already has an encryption password: unlock with it instead of setting one. */
  "key_exists",
  /** The account has no encryption password yet (nothing to unlock, change or reset). */
  "encryption_not_set",
  /** Another device changed the account's key meanwhile: read the status and try again. */
  "key_changed",
  /** The server refused a file: larger than its limit of one file. Nothing was stored. */
  "blob_too_large",
  /** The server refused a file: the account's storage for files is full. Nothing was stored. */
  "quota_exceeded",
  /** A file a row references is not on this computer and cannot be fetched now. */
  "blob_missing",
  /** A fetched file does not open with the account's key (altered, or sealed under an older key). */
  "blob_unreadable",
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
  /**
   * The server answers over HTTP but the WebSocket cannot be opened (a proxy refusing
   * WebSocket upgrades): changes upload as usual, and other devices' changes are pulled every
   * few seconds instead of arriving live. The engine keeps trying the socket; once it opens,
   * the state is `connected` again.
   */
  "polling",
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

/** A value from the server this device refused to apply, because it did not open. */
export const unreadableOpSchema = z.object({
  /** The op's id in the account's log. */
  id: z.int().nonnegative(),
  operationId: z.string(),
  entity: z.string(),
  entityId: z.string(),
  field: z.string().nullable(),
  /**
   * Why: `tampered` (altered, or moved to another field, entity or op), `not_sealed`
   * (plaintext where the account seals every value), `key_epoch_mismatch` (sealed under an
   * older key, before a reset), `unsupported_envelope` (a newer build sealed it).
   */
  code: z.string(),
  reason: z.string(),
  /** ISO time it was refused. */
  at: z.string(),
});
export type UnreadableOp = z.infer<typeof unreadableOpSchema>;

/** End-to-end encryption as this device sees its account. */
export const encryptionStatusSchema = z.object({
  /**
   * `unknown`: the server was not asked yet; `off`: the account has no encryption password
   * (values travel in clear); `on`: it has one, and every value is sealed on the device.
   */
  account: z.enum(["unknown", "off", "on"]),
  /** The account's key epoch (a reset makes it one higher), when it has a key. */
  epoch: z.int().positive().nullable(),
  /** True when this device holds the account's current master key. */
  unlocked: z.boolean(),
  /**
   * The account encrypts and this device cannot read or write until the password is entered
   * (a new device, or another device reset the key). Nothing syncs meanwhile; edits wait.
   */
  needsPassword: z.boolean(),
  /** ISO time the account's key state was last read from the server. */
  checkedAt: z.string().nullable(),
  /** Values from the server refused because they did not open (never applied). */
  unreadableCount: z.int().nonnegative(),
  /** The newest of them. */
  unreadable: z.array(unreadableOpSchema),
});
export type EncryptionStatus = z.infer<typeof encryptionStatusSchema>;

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

/** A local op still waiting to be uploaded (the queue, oldest first). */
export const pendingOpSchema = z.object({
  operationId: z.string(),
  entity: z.string(),
  entityId: z.string(),
  field: z.string().nullable(),
  op: z.string(),
  /** ISO time the change was made. */
  madeAt: z.string(),
  /** Upload attempts that failed so far. */
  attempts: z.int().nonnegative(),
  /** Why the last attempt failed, if one did. */
  lastError: z.string().nullable(),
});
export type PendingOp = z.infer<typeof pendingOpSchema>;

/** One side of an overwritten value: what was written, and by which device. */
export const overwriteSideSchema = z.object({
  value: z.json(),
  deviceId: z.string(),
  /** The device's name as the account lists it; null until the server named it. */
  deviceName: z.string().nullable(),
  /** True when this device wrote it. */
  here: z.boolean(),
  lamportTs: z.int().nonnegative(),
});
export type OverwriteSide = z.infer<typeof overwriteSideSchema>;

/**
 * A field this device and another disagreed on, as the conflict rule settled it: `lost`, the
 * value written here was replaced by the other device's; `won`, the other device's value was
 * replaced by the one written here.
 */
export const overwrittenValueSchema = z.object({
  id: z.int().positive(),
  entity: z.string(),
  entityId: z.string(),
  field: z.string(),
  outcome: z.enum(["lost", "won"]),
  lost: overwriteSideSchema,
  won: overwriteSideSchema,
  /** ISO time this device noticed it (when the other device's write arrived). */
  at: z.string(),
  /** The user has seen it (the notice was dismissed). */
  dismissed: z.boolean(),
});
export type OverwrittenValue = z.infer<typeof overwrittenValueSchema>;

/** What retrying a waiting or refused change did. */
export const retryOpResultSchema = z.object({
  operationId: z.string(),
  /** `requeued`: a refused change went back into the queue; `queued`: it was waiting there. */
  outcome: z.enum(["requeued", "queued"]),
});
export type RetryOpResult = z.infer<typeof retryOpResultSchema>;

/**
 * What discarding a waiting or refused change did. `discarded` false: it reached the server
 * before it could be taken back (the server's copy stays and syncs as any other). `reverted`:
 * the items it touched were rebuilt from the server's state (its value is gone from this
 * computer too); false when nothing on this computer showed it any more.
 */
export const discardOpResultSchema = z.object({
  operationId: z.string(),
  discarded: z.boolean(),
  reverted: z.boolean(),
});
export type DiscardOpResult = z.infer<typeof discardOpResultSchema>;

/** One value a field held, as this device knows it (its register, and overwritten values). */
export const fieldVersionSchema = overwriteSideSchema.extend({
  /** The value the field holds now. */
  current: z.boolean(),
  /** When this device learnt it was replaced (ISO), and by which device; null: not replaced. */
  replacedAt: z.string().nullable(),
  replacedBy: z
    .object({ deviceId: z.string(), deviceName: z.string().nullable(), here: z.boolean() })
    .nullable(),
  /** How to write it again (restoreValue): the overwritten record and side that hold it. */
  restore: z.object({ recordId: z.int().positive(), side: z.enum(["lost", "won"]) }).nullable(),
});
export type FieldVersion = z.infer<typeof fieldVersionSchema>;

/** A field's recent history, newest first (the current value, then older ones). */
export const fieldHistorySchema = z.object({
  entity: z.string(),
  entityId: z.string(),
  field: z.string(),
  versions: z.array(fieldVersionSchema),
});
export type FieldHistory = z.infer<typeof fieldHistorySchema>;

/** What restoring an older value did: a new edit (`changed`), or none (it was the value). */
export const restoreValueResultSchema = z.object({
  entity: z.string(),
  entityId: z.string(),
  field: z.string(),
  value: z.json(),
  changed: z.boolean(),
});
export type RestoreValueResult = z.infer<typeof restoreValueResultSchema>;

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
  /** The oldest queued changes (at most 50), with their attempts: which writes still wait. */
  pending: z.array(pendingOpSchema),
  /** Overwritten values not yet dismissed (see `overwritten`). */
  overwrittenCount: z.int().nonnegative(),
  account: accountSchema.nullable(),
  resync: resyncProgressSchema.nullable(),
  /** When this engine learnt its device was revoked (ISO); null while it is not. */
  revokedAt: z.string().nullable(),
});
export type Diagnostics = z.infer<typeof diagnosticsSchema>;

/** Files (blobs) on this device: made here and waiting, uploaded, refused; referenced but missing. */
export const blobSummarySchema = z.object({
  pending: z.int().nonnegative(),
  uploaded: z.int().nonnegative(),
  refused: z.array(z.object({ sha256: z.string(), reason: z.string() })),
  missing: z.int().nonnegative(),
});
export type BlobSummary = z.infer<typeof blobSummarySchema>;

/** A playlist's cover image as the window and the CLI read it. */
export const playlistCoverSchema = z.object({
  playlistId: z.string(),
  /** The blob reference, or null when the playlist has no cover. */
  cover: z.string().nullable(),
  /** present: the image is here; missing: referenced, not fetched (yet); none: no cover. */
  state: z.enum(["none", "present", "missing"]),
  mediaType: z.string().nullable(),
  /** The image, base64 (present only). */
  data: z.string().nullable(),
  /** Why a missing image could not be fetched now. */
  problem: z.string().nullable(),
  /**
   * How the image moves now: uploading (here, made on this device, not on the server yet),
   * downloading (not here, being fetched or about to be), missing (not here, and the last try
   * to fetch it failed or this device is not syncing); null when nothing is under way.
   */
  transfer: z.enum(["uploading", "downloading", "missing"]).nullable(),
});
export type PlaylistCover = z.infer<typeof playlistCoverSchema>;

/** The media types a cover may be (found from the file's first bytes, never its name). */
export const COVER_MEDIA_TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp"] as const;
/** The largest cover image this app accepts (the server may allow less per file). */
export const COVER_MAX_BYTES = 10 * 1024 * 1024;

/** A playlist's cover: the SHA-256 its image file is synced under (src/blobs/), or null. */
const coverRef = z.string().nullable();

export const playlistSummarySchema = z.object({
  id: z.string(),
  name: z.string(),
  cover: coverRef,
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
  cover: coverRef,
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
