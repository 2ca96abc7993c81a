import { copyFile, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Diagnosis } from "@chorus/api";
import { type AuditTrigger, PROTOCOL_VERSION, type SyncOp } from "@chorus/protocol";
import packageJson from "../package.json" with { type: "json" };
import { fileKeyStore, type KeyStore } from "./auth/key-store.js";
import { type BrowserSignInOptions, signInWithBrowser } from "./auth/loopback.js";
import { revokeRefreshToken, type TokenResponse } from "./auth/token-endpoint.js";
import { fileTokenStore, type TokenStore } from "./auth/token-store.js";
import { bindProfile } from "./bind.js";
import { type BlobSweep, BlobSync } from "./blobs/blob-sync.js";
import { LocalBlobStore } from "./blobs/local-store.js";
import type {
  Account,
  BlobSummary,
  ConnectionState,
  Diagnostics,
  DiscardOpResult,
  EncryptionStatus,
  EntryPlacement,
  FieldHistory,
  LibrarySnapshot,
  NewTrack,
  OverwrittenValue,
  PlaylistCover,
  PlaylistDetail,
  PlaylistSummary,
  RestoreValueResult,
  ResyncProgress,
  RetryOpResult,
  SyncErrorInfo,
  SyncMode,
  Track,
} from "./contract.js";
import { syncModeSchema } from "./contract.js";
import { collectTelemetry } from "./diagnostics/telemetry.js";
import {
  clearAccount,
  readAccount,
  readRevokedAt,
  restoreSession,
  revokedErrorFor,
  sessionFromTokens,
  writeRevocation,
} from "./engine/account.js";
import { AUDIT_REQUEST_TIMEOUT_MS, type ConvergenceAudit, runAudit } from "./engine/convergence.js";
import { readDiagnostics } from "./engine/diagnostics.js";
import { AccountEncryption, type KeyNeededError } from "./engine/encryption.js";
import {
  changeEncryptionPassword,
  type KeyActionDeps,
  resetKey,
  setPassword,
  unlock,
} from "./engine/encryption-actions.js";
import { fieldHistory, opStillShown, unknownOp } from "./engine/outbox.js";
import { type Mutation, writeThroughServer } from "./engine/server-write.js";
import { createSyncLoop } from "./engine/sync-wiring.js";
import { EngineError } from "./errors.js";
import { LibraryState, type LibraryStateHooks } from "./library-state.js";
import {
  dismissOverwritten,
  listOverwritten,
  type OverwrittenQuery,
  overwrittenRecord,
  rememberDevices,
  unnamedDevices,
} from "./lww/overwritten.js";
import { visibleEntities } from "./lww/registers.js";
import { checkCover, imageType } from "./music/cover.js";
import * as music from "./music/edits.js";
import {
  findPlaylistCover,
  getPlaylist,
  librarySnapshot,
  listPlaylists,
  listTracks,
} from "./music/read.js";
import { musicApp } from "./music/schema.js";
import { openProfile, type Profile } from "./profiles.js";
import { findQueued, pendingCount, removeQueued, requeueQuarantined } from "./queue.js";
import { type InstallResult, installApp, materializerOf } from "./sdk/install.js";
import { type QueueHealth, queueHealth, type RetentionBound } from "./sdk/retention.js";
import type { SyncApp } from "./sdk/schema.js";
import { captureWrite } from "./sdk/write.js";
import { deleteMeta, markSyncedAt, readMeta, writeMeta } from "./store/meta.js";
import { openMemoryStore, type SqliteDatabase } from "./store/sqlite.js";
import { createSyncClient, type SyncClient } from "./sync/client.js";
import type { DrainOutcome } from "./sync/drain.js";
import { classifyFailure, failureCode, type SyncFailure } from "./sync/failure.js";
import { rebuildFromServer } from "./sync/resync.js";
import type { SyncSession } from "./sync/session.js";
import { staticSession } from "./sync/session.js";
import type { SyncLoop, SyncTiming } from "./sync/sync-loop.js";

export type EngineEvent =
  | { type: "remote-ops"; ops: SyncOp[] }
  | { type: "local-change" }
  | { type: "resync"; progress: ResyncProgress | null }
  | { type: "status" };

export type EngineLog = (message: string, context?: Record<string, unknown>) => void;

export interface EngineOptions {
  dataDir: string;
  profile: string;
  /** Where the credential lives (default: a 0600 file in the profile folder). */
  tokenStore?: TokenStore;
  /**
   * Where the account's master key lives once the encryption password opened it (default: a
   * 0600 file in the profile folder; Electron: the OS keychain).
   */
  keyStore?: KeyStore;
  /** The Argon2id cost of new wrapped keys (default @chorus/crypto's; tests lower it). */
  kdfCost?: { memoryKiB: number; iterations: number; parallelism: number };
  timing?: SyncTiming;
  hooks?: LibraryStateHooks;
  log?: EngineLog;
  fetch?: typeof fetch;
  /**
   * The app whose tables sync (src/sdk/): its declaration is checked and its capture triggers
   * installed when the engine opens. Default: the music library, whose methods
   * (createPlaylist, ...) only an engine of that app offers.
   */
  app?: SyncApp;
  /**
   * The protocol version stated to the server (default: this build's PROTOCOL_VERSION). Only
   * tests set it, to play a build the server no longer serves.
   */
  protocolVersion?: number;
  /**
   * Whether pushes, ACKs and telemetry travel on the device's WebSocket beside its
   * subscription (default true, ADR 0025). False: they go over HTTP, for a network whose proxy
   * filters what uploads carry but cannot see into a socket, so its rules apply to them.
   */
  callsOverSocket?: boolean;
  /** The app version this engine reports (default: this package's version). */
  appVersion?: string;
  /** The wall clock telemetry reports (default Date.now; tests play a skewed device clock). */
  wallClock?: () => number;
}

/**
 * One profile's device engine: the library API, the account binding, the sync mode, and
 * the network loop that the mode asks for. Hosts (the CLI, Electron main, the dev harness)
 * open one per profile; switching profile is closing one engine and opening another, which
 * swaps the server identity together with the library.
 */
export class DeviceEngine {
  private readonly durable: LibraryState;
  private memory: { db: SqliteDatabase; library: LibraryState } | null = null;
  private session: SyncSession | null = null;
  private loop: SyncLoop | null = null;
  private started = false;
  private connection: ConnectionState = "disabled";
  /** The server refused the credential this run; cleared by the next bind or sign-out. */
  private revoked = false;
  private resyncProgress: ResyncProgress | null = null;
  private readonly listeners = new Set<(event: EngineEvent) => void>();
  private readonly tokens: TokenStore;
  private readonly encryption: AccountEncryption;
  private readonly blobSync: BlobSync;
  /** When a received value last needed a key this device lacks (a lying server must not spin us). */
  private lastKeyNeededAt = 0;
  private keyRetryTimer: NodeJS.Timeout | null = null;
  private readonly log: EngineLog;
  private transition: Promise<void> = Promise.resolve();
  readonly app: SyncApp;

  private constructor(
    readonly profile: Profile,
    private readonly options: EngineOptions,
  ) {
    this.tokens = options.tokenStore ?? fileTokenStore(profile.dir);
    this.log = options.log ?? (() => {});
    this.durable = new LibraryState(
      profile.db,
      profile.clock,
      () => this.deviceId(),
      options.hooks,
    );
    this.encryption = new AccountEncryption(
      profile.db,
      options.keyStore ?? fileKeyStore(profile.dir),
      () => readMeta(profile.db, "user_id") ?? null,
    );
    this.app = options.app ?? musicApp;
    const installed: InstallResult = installApp(profile.db, this.app);
    this.blobSync = new BlobSync({
      db: profile.db,
      store: new LocalBlobStore(join(profile.dir, "blobs")),
      fetch: options.fetch ?? fetch,
      timeoutMs: options.timing?.requestTimeoutMs ?? 20_000,
      ...(options.timing?.backoff ? { backoff: options.timing.backoff } : {}),
      app: installed.app,
      libraryDb: () => this.active.db,
      encryption: () => ({
        readiness: this.encryption.readiness(),
        key: this.encryption.heldKey(),
      }),
      onFailure: (failure) => this.recordFailure(failure),
      onChange: () => this.emit({ type: "status" }),
      log: (message, context) => this.log(message, context),
    });
    this.session = this.restoreSession();
    if (this.revokedAt()) this.connection = "revoked";
  }

  static open(options: EngineOptions): DeviceEngine {
    const profile = openProfile(options.dataDir, options.profile);
    try {
      return new DeviceEngine(profile, options);
    } catch (error) {
      profile.close();
      throw error;
    }
  }

  get profileName(): string {
    return this.profile.name;
  }

  deviceId(): string {
    return readMeta(this.profile.db, "device_id") ?? this.profile.deviceId;
  }

  mode(): SyncMode {
    const parsed = syncModeSchema.safeParse(readMeta(this.profile.db, "mode"));
    return parsed.success ? parsed.data : "hybrid";
  }

  on(listener: (event: EngineEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: EngineEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  /** The library edits and reads go to: the profile file, or memory in server-connected mode. */
  private get active(): LibraryState {
    return this.mode() === "server" && this.memory ? this.memory.library : this.durable;
  }

  // ---- the app's data (any app on the SDK) ------------------------------------------------

  /**
   * Writes with plain SQL on the engine's connection, in ONE IMMEDIATE transaction: the
   * capture triggers queue, stamp and fold every op of the synced columns in the same
   * statements, so the rows and their ops commit together or not at all. In server-connected
   * mode the ops are pushed first and the rows appear once the server accepted them.
   */
  write<T>(fn: (db: SqliteDatabase) => T): Promise<T> {
    return this.mutate(fn);
  }

  /** Reads the app's tables (the profile file, or memory in server-connected mode). */
  read<T>(fn: (db: SqliteDatabase) => T): T {
    return fn(this.active.db);
  }

  /** Whether the queue is within its retention bound (src/sdk/retention.ts). */
  queueHealth(bound?: RetentionBound): QueueHealth {
    return queueHealth(this.profile.db, Date.now(), bound);
  }

  /** Rows parked because their parent has not arrived (or was deleted elsewhere). */
  parkedCount(): number {
    return this.active.db.prepare("SELECT COUNT(*) FROM sdk_parked").pluck().get() as number;
  }

  // ---- the music library (the music app's methods) ----------------------------------------

  private get musicDb(): SqliteDatabase {
    if (this.app.name !== musicApp.name) {
      throw new EngineError(
        "invalid_app_schema",
        `this engine runs app "${this.app.name}"; the library methods belong to the music app`,
        {},
      );
    }
    return this.active.db;
  }

  playlists(): PlaylistSummary[] {
    return listPlaylists(this.musicDb);
  }

  playlist(id: string): PlaylistDetail | null {
    return getPlaylist(this.musicDb, id);
  }

  tracks(): Track[] {
    return listTracks(this.musicDb);
  }

  snapshot(): LibrarySnapshot {
    return librarySnapshot(this.musicDb);
  }

  createPlaylist(name: string) {
    return this.mutateMusic(() => music.createPlaylist(name));
  }

  renamePlaylist(id: string, name: string) {
    return this.mutateMusic(() => music.renamePlaylist(id, name));
  }

  deletePlaylist(id: string) {
    return this.mutateMusic(() => music.deletePlaylist(id));
  }

  addTrack(track: NewTrack) {
    return this.mutateMusic(() => music.addTrack(track));
  }

  deleteTrack(id: string) {
    return this.mutateMusic(() => music.deleteTrack(id));
  }

  addEntry(playlistId: string, trackId: string, placement: EntryPlacement = {}) {
    return this.mutateMusic(() => music.addEntry(playlistId, trackId, placement));
  }

  moveEntry(entryId: string, placement: EntryPlacement) {
    return this.mutateMusic(() => music.moveEntry(entryId, placement));
  }

  removeEntry(entryId: string) {
    return this.mutateMusic(() => music.removeEntry(entryId));
  }

  /**
   * Sets a playlist's cover image (a PNG, JPEG, GIF or WebP file, or its bytes). The image
   * becomes a blob (attachBlob: sealed for an encrypted account, uploaded first when the
   * server can be reached); a size or quota refusal fails the call and changes nothing.
   */
  async setPlaylistCover(
    playlistId: string,
    source: { path: string } | { bytes: Uint8Array },
  ): Promise<{ id: string; cover: string; uploaded: boolean }> {
    if (findPlaylistCover(this.musicDb, playlistId) === undefined) {
      throw new EngineError("not_found", `no playlist with id ${playlistId}`, {
        what: "playlist",
        id: playlistId,
      });
    }
    await checkCover(source);
    const blob = await this.attachBlob(source);
    await this.mutateMusic(() => music.setPlaylistCover(playlistId, blob.sha256));
    return { id: playlistId, cover: blob.sha256, uploaded: blob.uploaded };
  }

  /** Removes a playlist's cover (the image stays until no row references it). */
  clearPlaylistCover(playlistId: string): Promise<{ id: string; cover: string | null }> {
    return this.mutateMusic(() => music.setPlaylistCover(playlistId, null));
  }

  /**
   * A playlist's cover: the image when it is here; when it is not, it is fetched first
   * (`fetch`, the default), and a cover that cannot be fetched now reads `missing` with why.
   */
  async playlistCover(
    playlistId: string,
    options: { fetch?: boolean } = {},
  ): Promise<PlaylistCover> {
    const cover = findPlaylistCover(this.musicDb, playlistId);
    if (cover === undefined) {
      throw new EngineError("not_found", `no playlist with id ${playlistId}`, {
        what: "playlist",
        id: playlistId,
      });
    }
    const none = { playlistId, cover, mediaType: null, data: null, problem: null, transfer: null };
    if (cover === null) return { ...none, state: "none" };
    let problem: string | null = null;
    if (!this.blobSync.has(cover) && (options.fetch ?? true)) {
      try {
        await this.fetchBlob(cover);
      } catch (error) {
        problem = error instanceof Error ? error.message : String(error);
      }
    }
    const path = this.blobPath(cover);
    if (!path) {
      const transfer = problem ? "missing" : this.blobSync.movement(cover);
      return { ...none, state: "missing", problem, transfer: transfer ?? "missing" };
    }
    const data = await readFile(path);
    return {
      playlistId,
      cover,
      state: "present",
      mediaType: imageType(data.subarray(0, 16)),
      data: data.toString("base64"),
      problem: null,
      transfer: this.blobSync.movement(cover),
    };
  }

  /** Writes a playlist's cover image to `file` (fetched first when it is not here). */
  async savePlaylistCover(
    playlistId: string,
    file: string,
  ): Promise<{ id: string; cover: string; file: string; bytes: number }> {
    const cover = await this.playlistCover(playlistId);
    if (cover.state === "none" || cover.cover === null) {
      throw new EngineError("not_found", `playlist ${playlistId} has no cover`, {
        what: "cover",
        id: playlistId,
      });
    }
    if (cover.state === "missing") {
      throw new EngineError("blob_missing", cover.problem ?? "the cover image is not here yet", {
        sha256: cover.cover,
      });
    }
    await copyFile(this.profileBlobPath(cover.cover), file);
    return { id: playlistId, cover: cover.cover, file, bytes: (await stat(file)).size };
  }

  /** Runs a music edit; its input checks throw inside the promise, as every engine error does. */
  private async mutateMusic<T>(edit: () => Mutation<T>): Promise<T> {
    void this.musicDb;
    return this.mutate(edit());
  }

  private async mutate<T>(edit: Mutation<T>): Promise<T> {
    if (this.mode() === "server") return this.mutateOnServer(edit);
    const library = this.durable;
    const hooks = this.options.hooks;
    // IMMEDIATE: the edit reads (neighbour positions, existence) under the write lock, so a
    // second process on the same profile cannot interleave between read and write.
    const result = library.db
      .transaction(
        () => captureWrite(library.db, edit, hooks?.afterDomainWrite?.bind(hooks)).result,
      )
      .immediate();
    this.emit({ type: "local-change" });
    this.loop?.drain?.wake();
    this.blobSync.wake();
    return result;
  }

  /** Server-connected mode: the server must accept the edit before this device shows it. */
  private async mutateOnServer<T>(edit: Mutation<T>): Promise<T> {
    if (this.session && this.encryption.readiness() === "locked") {
      throw this.encryption.lockedError();
    }
    try {
      return await this.writeThroughServer(edit);
    } catch (error) {
      // The load found the account locked meanwhile: say so rather than "offline".
      if (this.encryption.readiness() === "locked") throw this.encryption.lockedError();
      throw error;
    }
  }

  private writeThroughServer<T>(edit: Mutation<T>): Promise<T> {
    return writeThroughServer(
      {
        session: this.session,
        loop: this.loop,
        library: this.memory?.library ?? null,
        recordFailure: (failure) => this.recordFailure(failure),
        onWritten: () => {
          this.markSynced();
          this.emit({ type: "local-change" });
        },
        revokedError: () => this.revokedError(),
        seal: (op) => this.encryption.seal(op),
        onKeyChanged: (failure) => this.keyChanged(failure.message),
      },
      edit,
    );
  }

  // ---- blobs (files beside rows: ADR 0024) ------------------------------------------------

  /**
   * Makes a file (a path, or bytes) a blob a blob column may reference, and answers its
   * reference. An encrypted account's file is sealed first, and the reference names the
   * sealed bytes. When the server can be reached the blob is uploaded now, before any row
   * references it: a refusal (`blob_too_large`, `quota_exceeded`) throws and nothing is kept.
   * Otherwise it waits here and uploads once the device is online (`uploaded: false`).
   */
  async attachBlob(
    source: { path: string } | { bytes: Uint8Array },
  ): Promise<{ sha256: string; uploaded: boolean }> {
    const referencedBefore = (ref: string) => this.blobSync.referenced().includes(ref);
    const row = await this.blobSync.attach(source);
    const ref = row.sha256;
    if (row.state === "uploaded") return { sha256: ref, uploaded: true };
    const session = this.session;
    if (!session || this.mode() === "local" || this.revokedAt()) {
      return { sha256: ref, uploaded: false };
    }
    const outcome = await this.blobSync.upload(session, ref);
    if (outcome.ok) return { sha256: ref, uploaded: true };
    if (outcome.verdict === "refused") {
      // Refused for good: keep nothing of it (unless a row already references the same file).
      if (!referencedBefore(ref)) this.blobSync.discard(ref);
      const code =
        outcome.failure.kind === "refused" &&
        (outcome.failure.code === "blob_too_large" || outcome.failure.code === "quota_exceeded")
          ? outcome.failure.code
          : "server_refused";
      throw new EngineError(code, outcome.failure.message, { sha256: ref });
    }
    if (outcome.verdict === "revoked") throw this.revokedError();
    this.log("a file waits to be uploaded", { sha256: ref, message: outcome.failure.message });
    this.blobSync.wake();
    return { sha256: ref, uploaded: false };
  }

  /** The file of blob `ref` on this computer, or null when it is not here (yet). */
  blobPath(ref: string): string | null {
    return this.blobSync.has(ref) ? this.profileBlobPath(ref) : null;
  }

  private profileBlobPath(ref: string): string {
    return join(this.profile.dir, "blobs", "objects", ref.slice(0, 2), ref);
  }

  /** Downloads blob `ref` now (signed in), unless it is here already. */
  async fetchBlob(ref: string): Promise<string> {
    if (!this.blobSync.has(ref)) {
      const session = this.session;
      if (!session) {
        throw new EngineError(
          "blob_missing",
          "this file is not on this computer, and fetching it needs a signed-in account",
          { sha256: ref },
        );
      }
      if (this.mode() === "local") {
        throw new EngineError(
          "blob_missing",
          "this file is not on this computer, and Local mode does not reach the server",
          { sha256: ref },
        );
      }
      await this.blobSync.fetchNow(session, ref);
    }
    return this.profileBlobPath(ref);
  }

  /** Files on this device: waiting to upload, uploaded, refused, referenced but missing. */
  blobs(): BlobSummary {
    return this.blobSync.summary();
  }

  /**
   * Removes the local files of blobs nothing on this device references any more (see
   * BlobSync.sweep); the worker does it by itself after its runs. `now` moves the attach grace
   * period (tests).
   */
  async sweepBlobs(now?: number): Promise<BlobSweep> {
    await this.blobSync.settle();
    return this.blobSync.sweep(now);
  }

  /** Uploads and fetches what is due now, and waits for it (tests, the CLI before exit). */
  async syncBlobsNow(): Promise<BlobSummary> {
    await this.blobSync.settle();
    this.blobSync.wake();
    await this.blobSync.settle();
    return this.blobs();
  }

  // ---- sync lifecycle ---------------------------------------------------------------------

  /** Starts the network side the mode asks for (nothing in Local or without an account). */
  start(): Promise<void> {
    this.started = true;
    return this.reconfigure();
  }

  /** Stops the network side; the library stays open. */
  stop(): Promise<void> {
    this.started = false;
    return this.reconfigure();
  }

  async close(): Promise<void> {
    if (this.keyRetryTimer) clearTimeout(this.keyRetryTimer);
    await this.stop();
    // A blob transfer under way ends before the profile file closes under it.
    await this.blobSync.settle();
    this.memory?.db.close();
    this.memory = null;
    this.profile.close();
  }

  async setMode(mode: SyncMode): Promise<void> {
    const next = syncModeSchema.parse(mode);
    if (next === this.mode()) return;
    if (next === "server") {
      if (!this.session) {
        throw new EngineError(
          "not_signed_in",
          "sign in before switching to server-connected mode",
          {},
        );
      }
      if (pendingCount(this.profile.db) > 0 && this.mode() === "hybrid") await this.pushNow();
      const waiting = pendingCount(this.profile.db);
      if (waiting > 0) {
        throw new EngineError(
          "pending_changes",
          `${waiting} local change(s) are not uploaded yet; stay in Hybrid until they are, so they are not left behind`,
          { pendingCount: waiting },
        );
      }
    }
    writeMeta(this.profile.db, "mode", next);
    this.log("mode changed", { mode: next });
    await this.reconfigure();
  }

  /**
   * A full resync on request: rebuilds this device's synced state from the server's log (a
   * full pull; local changes not yet uploaded are kept and re-applied on top), then runs the
   * convergence audit on the rebuilt state. What the runbook prescribes when an audit found
   * the device's state different from the server's.
   */
  async resync(): Promise<{ cursor: number; audit: ConvergenceAudit }> {
    if (this.revokedAt()) throw this.revokedError();
    const loop = this.loop;
    if (!loop) {
      throw new EngineError(
        "not_signed_in",
        "a full resync needs a signed-in profile that syncs (Hybrid or Server mode)",
        {},
      );
    }
    if (!(await loop.resyncNow())) {
      if (this.revokedAt()) throw this.revokedError();
      const message = this.diagnostics().lastError?.message ?? "the server could not be reached";
      throw new EngineError("offline", `could not resync: ${message}`, {});
    }
    // The rebuild started an audit of its own ("resync"); this joins it.
    const audit = await this.auditConvergence("resync");
    return { cursor: this.active.cursor(), audit };
  }

  /** Drains the queue now, ignoring any backoff. */
  async pushNow(): Promise<DrainOutcome | null> {
    return (await this.loop?.pushNow()) ?? null;
  }

  /** Stops and rebuilds the network side for the current mode and account (serialized). */
  private reconfigure(): Promise<void> {
    this.transition = this.transition.then(() => this.applyConfiguration());
    return this.transition;
  }

  private async applyConfiguration(): Promise<void> {
    const previous = this.loop;
    this.loop = null;
    this.blobSync.stop();
    await previous?.stop();
    const mode = this.mode();
    if (mode !== "server" && this.memory) {
      this.memory.db.close();
      this.memory = null;
    }
    if (this.revokedAt()) {
      this.setConnection("revoked");
      return;
    }
    if (!this.started || mode === "local" || !this.session) {
      this.setConnection(this.started && mode !== "local" && this.revoked ? "revoked" : "disabled");
      return;
    }
    let library = this.durable;
    if (mode === "server") {
      this.memory?.db.close();
      const db = openMemoryStore();
      installApp(db, this.app, { baseline: false });
      library = new LibraryState(db, this.profile.clock, () => this.deviceId());
      // Overwritten values outlive the in-memory library: they are the user's history.
      library.overwrittenDb = this.profile.db;
      this.memory = { db, library };
    }
    this.loop = createSyncLoop({
      mode,
      session: this.session,
      library,
      timing: this.options.timing ?? {},
      protocolVersion: this.options.protocolVersion,
      callsOverSocket: this.options.callsOverSocket ?? true,
      telemetry: () =>
        collectTelemetry({
          db: this.profile.db,
          cursor: () => library.cursor(),
          appVersion: this.options.appVersion ?? packageJson.version,
          protocolVersion: this.options.protocolVersion ?? PROTOCOL_VERSION,
          now: this.options.wallClock ?? Date.now,
        }),
      cipher: this.encryption,
      prepareKeys: (client) => this.prepareKeys(client),
      keyChange: {
        pending: () => this.encryption.keyChanged(),
        done: () => this.encryption.clearKeyChanged(),
      },
      events: {
        locked: () => this.locked(),
        keyNeeded: (error) => this.keyNeeded(error),
        keyChanged: (failure) => this.keyChanged(failure.message),
        markSynced: () => this.markSynced(),
        remoteOps: (ops) => {
          this.nameDevicesSoon();
          this.emit({ type: "remote-ops", ops });
          this.blobSync.wake();
        },
        connection: (state) => this.setConnection(state),
        failure: (failure) => {
          this.recordFailure(failure);
          // A fixed token cannot be refreshed: once the server refuses it, it never will again.
          if (failure.kind === "unauthorized" && this.session?.webUrl === null) {
            this.signedOutByServer("the server refused this device's token");
          }
        },
        status: () => {
          this.emit({ type: "status" });
          // The queue moved: once it is empty, blob files nothing references may go.
          this.blobSync.wake();
        },
        resyncProgress: (progress) => {
          this.resyncProgress = progress;
          this.emit({ type: "resync", progress });
        },
        // After every full resync, and when an administrator asks: compare with the server.
        resynced: () => this.auditInBackground("resync"),
        auditRequested: () => this.auditInBackground("requested"),
        log: this.log,
      },
    });
    this.setConnection("connecting");
    this.loop.start();
    this.blobSync.start(this.session);
  }

  /**
   * Before a loop moves anything: the account's key state, read once per start of the loop
   * (not before every push). When the server cannot be asked, the cached state serves; with
   * no cached state nothing moves (a value must never leave in clear by mistake).
   */
  private async prepareKeys(client: SyncClient): Promise<"ready" | "locked"> {
    try {
      const { key } = await client.trpc.keys.get.query(undefined, {
        signal: AbortSignal.timeout(this.options.timing?.requestTimeoutMs ?? 20_000),
      });
      this.encryption.record(key);
    } catch (error) {
      if (this.encryption.state().kind === "unknown") throw error;
      this.log("could not read the account's key state; using the cached one", {
        message: error instanceof Error ? error.message : String(error),
      });
    }
    return this.encryption.readiness() === "locked" ? "locked" : "ready";
  }

  /** The account encrypts and this device lacks its key: nothing syncs until it is unlocked. */
  private locked(): void {
    const error = this.encryption.lockedError();
    this.log("sync waits for the encryption password", {});
    writeMeta(
      this.profile.db,
      "last_error",
      JSON.stringify({ code: error.code, message: error.message, at: new Date().toISOString() }),
    );
    this.setConnection("disabled");
    this.emit({ type: "status" });
  }

  /**
   * A received value needs a key this device lacks (another device set or reset the key):
   * start the loop again, which reads the key state first.
   */
  private keyNeeded(error: KeyNeededError): void {
    this.log("a received value needs another key; reading the account's key state", {
      message: error.message,
    });
    this.readKeyStateAgain(error.message);
  }

  /**
   * The server refused a push because the account's key is not the one it was sealed under
   * (a reset on another device, or a key set while this device pushed in clear; ADR 0026).
   * Nothing was stored and nothing is set aside: the queue waits, the loop starts again and
   * reads the key state (locked until the new password is entered), and the queue is
   * re-stamped and pushed sealed under the current key.
   */
  private keyChanged(message: string): void {
    this.log("the server refused a push sealed under another key; reading the key state", {
      message,
    });
    this.encryption.markKeyChanged();
    this.readKeyStateAgain(message);
  }

  /**
   * Starts the loop again, which reads the key state first. Again within 10 s (the server
   * insists on a key it does not describe): wait before asking once more.
   */
  private readKeyStateAgain(message: string): void {
    const now = Date.now();
    const soon = now - this.lastKeyNeededAt < 10_000;
    this.lastKeyNeededAt = now;
    if (this.keyRetryTimer) return;
    if (!soon) {
      void this.reconfigure();
      return;
    }
    this.recordFailure({ kind: "server", message });
    this.keyRetryTimer = setTimeout(() => {
      this.keyRetryTimer = null;
      void this.reconfigure();
    }, 10_000);
    this.keyRetryTimer.unref();
  }

  private setConnection(state: ConnectionState): void {
    if (state === this.connection) return;
    this.connection = state;
    this.emit({ type: "status" });
  }

  /** Remembers that the server was just reached and changes moved (shown as "Synced · …"). */
  private markSynced(): void {
    markSyncedAt(this.profile.db, new Date());
  }

  private recordFailure(failure: SyncFailure): void {
    if (failure.kind === "revoked") {
      this.markRevoked(failure.message);
      return;
    }
    const info: SyncErrorInfo = {
      code: failureCode(failure),
      message: failure.message,
      at: new Date().toISOString(),
    };
    writeMeta(this.profile.db, "last_error", JSON.stringify(info));
    this.log("sync failure", { code: info.code, message: info.message });
    if (failure.kind === "sync" && failure.error.type === "upgrade_required") {
      this.setConnection("update_required");
    }
    this.emit({ type: "status" });
  }

  // ---- account ----------------------------------------------------------------------------

  /** When this profile learnt that the account revoked its device (ISO), or null. */
  revokedAt(): string | null {
    return readRevokedAt(this.profile.db);
  }

  /**
   * The account revoked this device: remember it (a later process knows without asking the
   * server), forget the dead credential, and stop syncing for good. The library and its queued
   * edits stay; a new sign-in binds the profile as a new device and uploads them.
   */
  private markRevoked(detail: string): void {
    if (this.revokedAt()) return;
    writeRevocation(this.profile.db, detail);
    this.tokens.clear();
    this.session = null;
    this.log("device revoked by the account", { detail });
    this.setConnection("revoked");
    void this.reconfigure();
  }

  /** The error every account or sync action fails with once the device is revoked. */
  revokedError(): EngineError {
    return revokedErrorFor(this.profile.db, this.profile.name);
  }

  private restoreSession(): SyncSession | null {
    return restoreSession(this.profile.db, this.tokens, this.deviceId(), this.sessionCallbacks());
  }

  /** How a refreshing session tells this engine that the server ended the sign-in. */
  private sessionCallbacks() {
    return {
      onSignedOut: (reason: string) => this.signedOutByServer(reason),
      onRevoked: (reason: string) => this.markRevoked(reason),
      fetch: this.options.fetch,
    };
  }

  account(): Account | null {
    return readAccount(this.profile.db, this.session !== null);
  }

  /**
   * Binds the profile to an account (see bind.ts for what a first bind uploads) and starts
   * syncing when the engine runs. Binding again to the same account and device only
   * attaches the session (a restart, a refreshed sign-in).
   */
  async bind(session: SyncSession): Promise<void> {
    if (readMeta(this.profile.db, "user_id") !== session.userId) this.encryption.forget();
    const outcome = bindProfile(this.durable, session);
    // A new binding ends a revocation: the server knows this profile as a new device now.
    if (this.revokedAt()) {
      deleteMeta(this.profile.db, "revoked_at");
      this.connection = "disabled";
    }
    this.log("bound", { userId: session.userId, deviceId: session.deviceId, outcome });
    this.session = session;
    this.revoked = false;
    this.emit({ type: "status" });
    await this.reconfigure();
  }

  /** Binds with a fixed access token (tests, scripts, the dev harness), and stores it. */
  async bindWithToken(options: {
    syncUrl: string;
    token: string;
    userId: string;
    deviceId: string;
    email?: string | null;
  }): Promise<void> {
    this.tokens.save({ kind: "static", accessToken: options.token });
    await this.bind(staticSession(options));
  }

  /** Binds with what the token endpoint answered (browser sign-in). */
  async bindWithTokens(webUrl: string, tokens: TokenResponse): Promise<void> {
    this.tokens.save({ kind: "refresh", refreshToken: tokens.refresh_token, webUrl });
    const session = sessionFromTokens(webUrl, tokens, this.tokens, this.sessionCallbacks());
    writeMeta(this.profile.db, "web_url", webUrl);
    await this.bind(session);
  }

  /** RFC 8252 browser sign-in (ADR 0002), then bind. */
  async signInWithBrowser(
    options: Omit<BrowserSignInOptions, "deviceName" | "fetch"> & { deviceName?: string },
  ): Promise<Account> {
    const { tokens } = await signInWithBrowser({
      ...options,
      deviceName: options.deviceName ?? `Chorus — ${this.profile.name}`,
      ...(this.options.fetch ? { fetch: this.options.fetch } : {}),
    });
    await this.bindWithTokens(options.webUrl, tokens);
    return this.account() as Account;
  }

  /**
   * Revokes the refresh token on the server (which ends this device's binding there) when the
   * web app can be reached, then forgets the credential and stops syncing; the library stays
   * on this computer. Returns whether the server confirmed the revocation.
   */
  async signOut(): Promise<{ revokedOnServer: boolean }> {
    const credential = this.tokens.load();
    const revokedOnServer =
      credential?.kind === "refresh"
        ? await revokeRefreshToken(
            { webUrl: credential.webUrl, refreshToken: credential.refreshToken },
            this.options.fetch ?? fetch,
          )
        : false;
    if (credential?.kind === "refresh" && !revokedOnServer) {
      this.log("sign-out: the web app could not revoke the token; forgetting it locally", {});
    }
    this.tokens.clear();
    this.session = null;
    this.revoked = false;
    const db = this.profile.db;
    // The master key is as secret as the password: it leaves with the account.
    this.encryption.forget();
    clearAccount(db);
    if (this.mode() === "server") writeMeta(db, "mode", "hybrid");
    await this.reconfigure();
    return { revokedOnServer };
  }

  private signedOutByServer(reason: string): void {
    this.log("signed out by the server", { reason });
    if (!this.session) return;
    this.session = null;
    this.revoked = true;
    this.recordFailure({ kind: "unauthorized", message: `signed out: ${reason}` });
    void this.reconfigure();
  }

  // ---- end-to-end encryption (ADR 0018) ---------------------------------------------------

  /** The account's encryption as this device sees it (the cached key state; no request). */
  encryptionStatus(): EncryptionStatus {
    return this.encryption.status();
  }

  /**
   * First device: sets the account's encryption password (a new master key, wrapped under it;
   * only the wrapped key is uploaded) and re-states this device's library sealed. Refused
   * with `key_exists` when the account has a key already. There is no recovery: whoever loses
   * the password loses what only this key opens (a reset starts over from one device).
   */
  async setEncryptionPassword(password: string): Promise<EncryptionStatus> {
    await this.keyAction(async (deps) => {
      await setPassword(deps, password);
      this.restateLibrary();
    });
    return this.encryptionStatus();
  }

  /** Another device: opens the account's key with the password, keeps it, and syncs. */
  async unlockEncryption(password: string): Promise<EncryptionStatus> {
    await this.keyAction((deps) => unlock(deps, password).then(() => undefined));
    return this.encryptionStatus();
  }

  /** Rewraps the master key under a new password; every device keeps working. */
  async changeEncryptionPassword(current: string, next: string): Promise<EncryptionStatus> {
    await this.keyAction((deps) => changeEncryptionPassword(deps, current, next));
    return this.encryptionStatus();
  }

  /**
   * The password is lost: a new master key (one epoch higher) under `password`, and this
   * device's library re-stated under it. Other devices are told to enter the new password;
   * values only the old key opens stay unreadable to devices that only hold the new one.
   */
  async resetEncryption(password: string): Promise<EncryptionStatus> {
    await this.keyAction(async (deps) => {
      await resetKey(deps, password);
      this.restateLibrary();
    });
    return this.encryptionStatus();
  }

  /** Runs a key action with a client of the account, then restarts the loop on the new state. */
  private async keyAction(action: (deps: KeyActionDeps) => Promise<void>): Promise<void> {
    if (this.revokedAt()) throw this.revokedError();
    const session = this.session;
    if (!session) {
      throw new EngineError(
        "not_signed_in",
        "sign in first: the encryption key is kept with the account",
        {},
      );
    }
    const own = this.loop
      ? null
      : createSyncClient(session, {
          callsOverSocket: false,
          ...(this.options.protocolVersion !== undefined
            ? { protocolVersion: this.options.protocolVersion }
            : {}),
        });
    const client = this.loop?.client ?? own;
    try {
      if (!client) throw new Error("no client");
      await action({
        trpc: client.trpc,
        encryption: this.encryption,
        userId: session.userId,
        signal: () => AbortSignal.timeout(this.options.timing?.requestTimeoutMs ?? 20_000),
        kdfCost: this.options.kdfCost,
      });
    } finally {
      await own?.close();
      this.emit({ type: "status" });
    }
    if (readMeta(this.profile.db, "last_error")?.includes('"encryption_locked"')) {
      deleteMeta(this.profile.db, "last_error");
    }
    await this.reconfigure();
  }

  /**
   * Re-states the library as new local ops (one insert per visible entity, every field), so
   * that the account's current state exists sealed under the key just set: older ops (in
   * clear, or under a key that is gone) lose to these by LWW and are compacted away later.
   */
  private restateLibrary(): void {
    if (this.mode() === "server") return;
    const library = this.durable;
    library.db
      .transaction(() => {
        library.batch(() =>
          library.commitLocal(
            visibleEntities(library.db).map((view) => ({
              entity: view.entity,
              entityId: view.entityId,
              field: null,
              op: "insert" as const,
              value: { ...view.fields },
            })),
            { capture: true, check: false },
          ),
        );
      })
      .immediate();
    this.emit({ type: "local-change" });
  }

  // ---- diagnostics ------------------------------------------------------------------------

  diagnostics(): Diagnostics {
    return readDiagnostics(this.profile, {
      deviceId: () => this.deviceId(),
      mode: () => this.mode(),
      connection: this.connection,
      cursor: () => this.active.cursor(),
      account: () => this.account(),
      resync: this.resyncProgress,
      revokedAt: () => this.revokedAt(),
    });
  }

  /**
   * "Why is this device behind?", answered by the server from both ends: a fresh telemetry
   * report first (over the running loop's socket, or a one-off client), then the diagnosis.
   */
  async explain(): Promise<Diagnosis> {
    return this.withServer("explain this device", async (trpc, signal) => {
      const telemetry = collectTelemetry({
        db: this.profile.db,
        cursor: () => this.active.cursor(),
        appVersion: this.options.appVersion ?? packageJson.version,
        protocolVersion: this.options.protocolVersion ?? PROTOCOL_VERSION,
        now: this.options.wallClock ?? Date.now,
      });
      await trpc.diagnostics.report.mutate({ telemetry }, { signal: signal() });
      return await trpc.diagnostics.explainSelf.query(undefined, { signal: signal() });
    });
  }

  // ---- overwritten values -----------------------------------------------------------------

  /** The conflicts this device took part in, newest first (src/lww/overwritten.ts). */
  overwritten(query: OverwrittenQuery = {}): OverwrittenValue[] {
    return listOverwritten(this.profile.db, this.deviceId(), query);
  }

  /** Marks overwritten values as seen (all without ids); returns how many changed. */
  dismissOverwritten(ids: readonly number[] | "all"): number {
    const changed = dismissOverwritten(this.profile.db, ids, Date.now());
    if (changed > 0) this.emit({ type: "status" });
    return changed;
  }

  /**
   * A field's recent history, newest first: the value it holds now and the values this device
   * saw it lose or win against, with devices, when each was replaced and how to restore it.
   */
  fieldHistory(target: { entity: string; entityId: string; field: string }): FieldHistory {
    return fieldHistory(this.profile.db, this.active.db, this.deviceId(), target);
  }

  /**
   * Writes an older value of a field again (one side of an overwritten record) as a NEW edit:
   * the normal write path, a fresh Lamport stamp, queued and synced like any edit, so it wins
   * over the value it replaces on every device. The field's records are dismissed (the user
   * answered them). `changed` false: the field holds that value already (no edit is made).
   */
  async restoreValue(recordId: number, side: "lost" | "won" = "lost"): Promise<RestoreValueResult> {
    const record = overwrittenRecord(this.profile.db, this.deviceId(), recordId);
    if (!record) {
      throw new EngineError(
        "not_found",
        `no overwritten value has the id ${recordId} on this device (older records are removed as new ones arrive)`,
        { recordId },
      );
    }
    const { entity, entityId, field } = record;
    const value = record[side].value;
    const outcome = await this.write((db) => {
      const written = materializerOf(db)?.writeField(entity, entityId, field, value) ?? "unknown";
      if (written === "missing") {
        throw new EngineError(
          "not_found",
          `the ${entity} this value belongs to no longer exists here (deleted), so it cannot be restored`,
          { entity, entityId },
        );
      }
      if (written === "unknown") {
        throw new EngineError(
          "invalid_input",
          `${entity}.${field} is not a synced field of app "${this.app.name}"`,
          { entity, field },
        );
      }
      return written;
    });
    const ids = listOverwritten(this.profile.db, this.deviceId(), {
      entity,
      entityId,
      field,
      limit: 200,
    }).map((r) => r.id);
    this.dismissOverwritten(ids);
    this.log("value restored", { entity, entityId, field, changed: outcome === "written" });
    return { entity, entityId, field, value, changed: outcome === "written" };
  }

  // ---- the outbox: changes waiting or refused -----------------------------------------------

  /**
   * Sends a change again. A change the server refused for good goes back into the queue at
   * the place it had (same stamp, same operation id, no failed attempts), e.g. once the cause
   * was fixed; one still waiting stays where it is. Either way an upload starts now, ignoring
   * any backoff. If the server refuses it again it is set aside again, with the new reason.
   */
  retryOp(operationId: string): RetryOpResult {
    const db = this.profile.db;
    const outcome = db
      .transaction(() => {
        const found = findQueued(db, operationId);
        if (!found) throw unknownOp(operationId);
        if (found.place === "pending") return "queued" as const;
        requeueQuarantined(db, operationId);
        return "requeued" as const;
      })
      .immediate();
    this.log("retry a change", { operationId, outcome });
    this.emit({ type: "status" });
    void this.pushNow().catch((error: unknown) =>
      this.log("upload after retry failed", { error: String(error) }),
    );
    return { operationId, outcome };
  }

  /**
   * Takes back a change that waits or was refused: it never reaches the server, and this
   * computer stops showing it. When the change still decides what an item shows here, the
   * library is rebuilt from the server's state (the last synced values) with the rest of the
   * queue and the refused changes on top, in the transaction that removes it: the device never
   * keeps a value the server will not have (docs/adr/0022). That needs the server; offline,
   * in Local mode or signed out it is refused and nothing is discarded. A profile never bound
   * holds every edit in its queue, so it is rebuilt from the queue alone.
   */
  async discardOp(operationId: string): Promise<DiscardOpResult> {
    const db = this.profile.db;
    const library = this.durable;
    const drop = () => removeQueued(db, operationId) > 0;
    const quick = db
      .transaction(() => {
        if (!findQueued(db, operationId)) throw unknownOp(operationId);
        // Another write decides every register it touched: nothing here shows it.
        return opStillShown(db, operationId) ? null : drop();
      })
      .immediate();
    let result: DiscardOpResult;
    if (quick !== null) {
      result = { operationId, discarded: quick, reverted: false };
    } else {
      let discarded = false;
      const inRebuild = () => {
        discarded = drop();
      };
      if (readMeta(db, "bound_user_id") === undefined) {
        db.transaction(() => {
          inRebuild();
          library.clearLibrary();
          library.batch(() => library.refoldPending());
        }).immediate();
      } else if (this.mode() === "local") {
        throw new EngineError(
          "offline",
          "Local mode does not reach the server, whose value must replace the discarded change here; switch to Hybrid to discard it (nothing was discarded)",
          { operationId },
        );
      } else if (this.mode() !== "server" && this.loop) {
        try {
          await this.loop.rebuildNow(inRebuild);
        } catch (error) {
          throw this.serverError("discard this change", error);
        }
      } else {
        await this.withServer("discard this change", (trpc, signal) =>
          rebuildFromServer({
            library,
            pull: (input) => trpc.sync.pull.query(input, { signal: signal() }),
            onProgress: (progress) => {
              this.resyncProgress = progress.phase === "done" ? null : progress;
              this.emit({ type: "resync", progress: this.resyncProgress });
            },
            cipher: this.encryption,
            inRebuild,
          }),
        );
      }
      result = { operationId, discarded, reverted: true };
    }
    this.log("discard a change", { ...result });
    this.emit({ type: "local-change" });
    this.emit({ type: "status" });
    return result;
  }

  private naming: Promise<void> | null = null;
  private namedAt = 0;

  /**
   * When a record names a device the account has not listed to this profile yet, asks the
   * server for the account's devices (`devices.list`) so the record can say "studio", not a
   * UUID. At most one request at a time and one per 10 s; a failure is only logged (the
   * record keeps the id, and the next remote op tries again).
   */
  private nameDevicesSoon(): void {
    const trpc = this.loop?.client.trpc;
    if (!trpc || this.naming || Date.now() - this.namedAt < 10_000) return;
    if (unnamedDevices(this.profile.db).length === 0) return;
    this.namedAt = Date.now();
    const timeout = AbortSignal.timeout(this.options.timing?.requestTimeoutMs ?? 20_000);
    this.naming = trpc.devices.list
      .query(undefined, { signal: timeout })
      .then((devices) => {
        rememberDevices(this.profile.db, devices, Date.now());
        this.emit({ type: "status" });
      })
      .catch((error: unknown) => {
        this.log("could not list the account's devices", { error: String(error) });
      })
      .finally(() => {
        this.naming = null;
      });
  }

  /** Waits for a device listing in flight (tests and one-shot processes). */
  async settleDeviceNames(): Promise<void> {
    await this.naming;
  }

  private auditing: Promise<ConvergenceAudit> | null = null;

  /**
   * The convergence audit: digests this device's synced state at its cursor and has the server
   * compare it with the log at the same position; a mismatch names the first differing entity
   * and field. The server records every audit (the console shows them). One at a time: a
   * second call while one runs gets the running one's answer.
   */
  auditConvergence(trigger: AuditTrigger = "on_demand"): Promise<ConvergenceAudit> {
    if (this.auditing) return this.auditing;
    // The server reads the user's whole log up to the cursor (about 12 s for 1,000,000 ops on
    // a busy 2-core machine): its calls get the server's own bound on that read, not the
    // request timeout of a sync call.
    const timeoutMs = Math.max(
      this.options.timing?.requestTimeoutMs ?? 20_000,
      AUDIT_REQUEST_TIMEOUT_MS,
    );
    this.auditing = this.withServer("compare with the server", (trpc) =>
      runAudit(trpc, this.active, trigger, () => AbortSignal.timeout(timeoutMs)),
    ).finally(() => {
      this.auditing = null;
    });
    return this.auditing;
  }

  private auditInBackground(trigger: AuditTrigger): void {
    void this.auditConvergence(trigger).then(
      (audit) =>
        this.log("convergence audit", {
          trigger,
          outcome: audit.outcome,
          reason: audit.reason,
          cursor: audit.cursor,
          firstDifference: audit.firstDifference,
        }),
      (error: unknown) =>
        this.log("convergence audit failed", {
          trigger,
          error: error instanceof Error ? error.message : String(error),
        }),
    );
  }

  /**
   * Runs `fn` against the sync server: over the running loop's client, or a one-off client
   * (HTTP only) when the engine is not syncing. A refused credential marks the device revoked.
   */
  private async withServer<T>(
    what: string,
    fn: (trpc: NonNullable<SyncLoop["client"]>["trpc"], signal: () => AbortSignal) => Promise<T>,
  ): Promise<T> {
    if (this.revokedAt()) throw this.revokedError();
    const session = this.session;
    if (!session) {
      throw new EngineError("not_signed_in", `sign in first: ${what} needs the server`, {});
    }
    const own = this.loop
      ? null
      : createSyncClient(session, {
          callsOverSocket: false,
          ...(this.options.protocolVersion !== undefined
            ? { protocolVersion: this.options.protocolVersion }
            : {}),
        });
    const trpc = (this.loop?.client ?? own)?.trpc;
    try {
      if (!trpc) throw new Error("no client");
      const signal = () => AbortSignal.timeout(this.options.timing?.requestTimeoutMs ?? 20_000);
      return await fn(trpc, signal);
    } catch (error) {
      throw this.serverError(what, error);
    } finally {
      await own?.close();
    }
  }

  /** A failed call to the server as the error the user is shown (a revoked device is marked). */
  private serverError(what: string, error: unknown): EngineError {
    if (error instanceof EngineError) return error;
    const failure = classifyFailure(error);
    if (failure.kind === "revoked") {
      this.markRevoked(failure.message);
      return this.revokedError();
    }
    return new EngineError(
      failure.kind === "offline" ? "offline" : "server_refused",
      `could not ${what}: ${failure.message}`,
      { code: failureCode(failure) },
      // The low-level error (a reset, a timeout) stays reachable for logs and diagnostics.
      { cause: error },
    );
  }

  clearLastError(): void {
    deleteMeta(this.profile.db, "last_error");
    this.emit({ type: "status" });
  }
}
