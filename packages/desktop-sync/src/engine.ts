import type { SyncOp } from "@chorus/protocol";
import { type BrowserSignInOptions, signInWithBrowser } from "./auth/loopback.js";
import { refreshingSession } from "./auth/refreshing-session.js";
import { revokeRefreshToken, type TokenResponse } from "./auth/token-endpoint.js";
import { fileTokenStore, type TokenStore } from "./auth/token-store.js";
import { bindProfile } from "./bind.js";
import type {
  Account,
  ConnectionState,
  Diagnostics,
  EntryPlacement,
  LibrarySnapshot,
  NewTrack,
  PlaylistDetail,
  PlaylistSummary,
  ResyncProgress,
  SyncErrorInfo,
  SyncMode,
  Track,
} from "./contract.js";
import { syncErrorInfoSchema, syncModeSchema } from "./contract.js";
import { EngineError } from "./errors.js";
import * as plans from "./library/edit-plans.js";
import { getPlaylist, librarySnapshot, listPlaylists, listTracks } from "./library/read.js";
import { LibraryState, type LibraryStateHooks } from "./library-state.js";
import { openProfile, type Profile } from "./profiles.js";
import { oldestPendingAt, pendingCount, quarantinedCount, quarantinedOps } from "./queue.js";
import { deleteMeta, readMeta, writeMeta } from "./store/meta.js";
import { openMemoryStore, type SqliteDatabase } from "./store/sqlite.js";
import type { DrainOutcome } from "./sync/drain.js";
import { classifyFailure, failureCode, type SyncFailure } from "./sync/failure.js";
import type { SyncSession } from "./sync/session.js";
import { staticSession } from "./sync/session.js";
import { SyncLoop, type SyncTiming } from "./sync/sync-loop.js";

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
  timing?: SyncTiming;
  hooks?: LibraryStateHooks;
  log?: EngineLog;
  fetch?: typeof fetch;
  /**
   * The protocol version stated to the server (default: this build's PROTOCOL_VERSION). Only
   * tests set it, to play a build the server no longer serves.
   */
  protocolVersion?: number;
}

type Mutation<T> = (db: SqliteDatabase) => plans.Plan<T>;

/** Tries this many re-stamps when a server-connected write meets a Lamport regression. */
const MAX_DIRECT_PUSH_ATTEMPTS = 3;
/** Sends of the same server-connected write without an answer before it is reported. */
const MAX_UNANSWERED_PUSHES = 4;
/** Wait before re-sending an unanswered write, times the number of sends so far. */
const UNANSWERED_RETRY_MS = 250;

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
  private readonly log: EngineLog;
  private transition: Promise<void> = Promise.resolve();

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
    this.session = this.restoreSession();
    if (this.revokedAt()) this.connection = "revoked";
  }

  static open(options: EngineOptions): DeviceEngine {
    return new DeviceEngine(openProfile(options.dataDir, options.profile), options);
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

  // ---- the library ------------------------------------------------------------------------

  playlists(): PlaylistSummary[] {
    return listPlaylists(this.active.db);
  }

  playlist(id: string): PlaylistDetail | null {
    return getPlaylist(this.active.db, id);
  }

  tracks(): Track[] {
    return listTracks(this.active.db);
  }

  snapshot(): LibrarySnapshot {
    return librarySnapshot(this.active.db);
  }

  createPlaylist(name: string) {
    return this.mutate(() => plans.planCreatePlaylist(name));
  }

  renamePlaylist(id: string, name: string) {
    return this.mutate((db) => plans.planRenamePlaylist(db, id, name));
  }

  deletePlaylist(id: string) {
    return this.mutate((db) => plans.planDeletePlaylist(db, id));
  }

  addTrack(track: NewTrack) {
    return this.mutate(() => plans.planAddTrack(track));
  }

  deleteTrack(id: string) {
    return this.mutate((db) => plans.planDeleteTrack(db, id));
  }

  addEntry(playlistId: string, trackId: string, placement: EntryPlacement = {}) {
    return this.mutate((db) => plans.planAddEntry(db, playlistId, trackId, placement));
  }

  moveEntry(entryId: string, placement: EntryPlacement) {
    return this.mutate((db) => plans.planMoveEntry(db, entryId, placement));
  }

  removeEntry(entryId: string) {
    return this.mutate((db) => plans.planRemoveEntry(db, entryId));
  }

  private async mutate<T>(plan: Mutation<T>): Promise<T> {
    if (this.mode() === "server") return this.mutateOnServer(plan);
    const library = this.durable;
    // IMMEDIATE: the plan reads (neighbour positions, existence) under the write lock, so a
    // second process on the same profile cannot interleave between read and write.
    const result = library.db
      .transaction(() => {
        const { drafts, result } = plan(library.db);
        library.commitLocal(drafts, { capture: true });
        return result;
      })
      .immediate();
    this.emit({ type: "local-change" });
    this.loop?.drain?.wake();
    return result;
  }

  /** Server-connected mode: the server must accept the edit before this device shows it. */
  private async mutateOnServer<T>(plan: Mutation<T>): Promise<T> {
    const loop = this.loop;
    const memory = this.memory;
    if (!this.session || !loop || !memory) {
      throw new EngineError(
        "not_signed_in",
        "server-connected mode needs an account: sign in, or switch to Local or Hybrid",
        {},
      );
    }
    if (!(await loop.whenLoaded()))
      throw offline("the library could not be loaded from the server");
    const { library } = memory;
    const { drafts, result } = plan(library.db);
    // Stamped once. A push that got no answer (a timeout, a cut connection, a 5xx) may have
    // been stored: it is re-sent under the SAME operation ids, which the server answers as
    // duplicates with the stored ids, so a lost answer never turns into a second entity. Only
    // a refusal that stored nothing (a Lamport regression, a 401) gets fresh stamps.
    let ops = drafts.map((draft) => library.stamp(draft));
    let unanswered = 0;
    for (let attempt = 1; ; attempt++) {
      try {
        await loop.push(ops);
        library.db.transaction(() => {
          for (const op of ops) library.foldOwn(op);
        })();
        this.markSynced();
        this.emit({ type: "local-change" });
        return result;
      } catch (error) {
        const failure = classifyFailure(error);
        this.recordFailure(failure);
        const retry = attempt < MAX_DIRECT_PUSH_ATTEMPTS;
        if (retry && failure.kind === "sync" && failure.error.type === "lamport_regression") {
          library.clock.observe(failure.error.storedMax);
          ops = drafts.map((draft) => library.stamp(draft));
          continue;
        }
        if (retry && failure.kind === "unauthorized") {
          this.session.tokenRejected();
          ops = drafts.map((draft) => library.stamp(draft));
          continue;
        }
        if (failure.kind === "revoked") throw this.revokedError();
        if (failure.kind === "offline" || failure.kind === "server") {
          unanswered += 1;
          if (unanswered < MAX_UNANSWERED_PUSHES) {
            await new Promise((resolve) => setTimeout(resolve, UNANSWERED_RETRY_MS * unanswered));
            attempt -= 1; // re-sending the same ops is not a new attempt at the edit
            continue;
          }
          throw offline(failure.message);
        }
        if (failure.kind === "sync" && failure.error.type === "upgrade_required") {
          throw new EngineError("update_required", `update required: ${failure.message}`, {
            code: failureCode(failure),
          });
        }
        throw new EngineError(
          "server_refused",
          `the server refused the change: ${failure.message}`,
          {
            code: failureCode(failure),
          },
        );
      }
    }
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
    await this.stop();
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
      library = new LibraryState(db, this.profile.clock, () => this.deviceId());
      this.memory = { db, library };
    }
    this.loop = new SyncLoop({
      session: this.session,
      library,
      withDrain: mode === "hybrid",
      loadFirst: mode === "server",
      timing: this.options.timing ?? {},
      ...(this.options.protocolVersion !== undefined
        ? { protocolVersion: this.options.protocolVersion }
        : {}),
      onRemoteOps: (ops) => {
        this.markSynced();
        this.emit({ type: "remote-ops", ops });
      },
      onState: (state) => {
        if (state === "connected") this.markSynced();
        this.setConnection(state);
      },
      onFailure: (failure) => {
        this.recordFailure(failure);
        // A fixed token cannot be refreshed: once the server refuses it, it never will again.
        if (failure.kind === "unauthorized" && this.session?.webUrl === null) {
          this.signedOutByServer("the server refused this device's token");
        }
      },
      onPushed: () => {
        this.markSynced();
        this.emit({ type: "status" });
      },
      onQuarantined: (ops) => {
        for (const { op, reason } of ops) {
          this.log("the server refused a change for good; it is set aside (quarantined)", {
            operationId: op.operationId,
            entity: op.entity,
            entityId: op.entityId,
            reason,
          });
        }
        this.emit({ type: "status" });
      },
      onResyncProgress: (progress) => {
        this.resyncProgress = progress;
        this.emit({ type: "resync", progress });
      },
      log: this.log,
    });
    this.setConnection("connecting");
    this.loop.start();
  }

  private setConnection(state: ConnectionState): void {
    if (state === this.connection) return;
    this.connection = state;
    this.emit({ type: "status" });
  }

  /** Remembers that the server was just reached and changes moved (shown as "Synced · …"). */
  private markSynced(): void {
    writeMeta(this.profile.db, "last_sync_at", new Date().toISOString());
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
    return readMeta(this.profile.db, "revoked_at") ?? null;
  }

  /**
   * The account revoked this device: remember it (a later process knows without asking the
   * server), forget the dead credential, and stop syncing for good. The library and its queued
   * edits stay; a new sign-in binds the profile as a new device and uploads them.
   */
  private markRevoked(detail: string): void {
    if (this.revokedAt()) return;
    const at = new Date().toISOString();
    const db = this.profile.db;
    db.transaction(() => {
      writeMeta(db, "revoked_at", at);
      const info: SyncErrorInfo = { code: "device_revoked", message: detail, at };
      writeMeta(db, "last_error", JSON.stringify(info));
    })();
    this.tokens.clear();
    this.session = null;
    this.log("device revoked by the account", { detail });
    this.setConnection("revoked");
    void this.reconfigure();
  }

  /** The error every account or sync action fails with once the device is revoked. */
  revokedError(): EngineError {
    const webUrl = readMeta(this.profile.db, "web_url");
    return new EngineError(
      "device_revoked",
      `this device was revoked from your account (${this.revokedAt() ?? "just now"}), so it no longer syncs. Its library and queued changes stay on this computer. To sync again, bind it anew: chorus-device signin --profile ${this.profile.name} --web-url ${webUrl ?? "<url of the Chorus web app>"}`,
      { revokedAt: this.revokedAt(), profile: this.profile.name, webUrl: webUrl ?? null },
    );
  }

  private restoreSession(): SyncSession | null {
    const db = this.profile.db;
    const userId = readMeta(db, "user_id");
    const syncUrl = readMeta(db, "server_url");
    const credential = this.tokens.load();
    if (!userId || !syncUrl || !credential || this.revokedAt()) return null;
    const binding = {
      syncUrl,
      userId,
      deviceId: this.deviceId(),
      email: readMeta(db, "email") ?? null,
    };
    if (credential.kind === "static") {
      return staticSession({ ...binding, token: credential.accessToken });
    }
    return refreshingSession({
      binding: { ...binding, webUrl: credential.webUrl },
      store: this.tokens,
      onSignedOut: (reason) => this.signedOutByServer(reason),
      onRevoked: (reason) => this.markRevoked(reason),
      ...(this.options.fetch ? { fetch: this.options.fetch } : {}),
    });
  }

  account(): Account | null {
    const db = this.profile.db;
    const userId = readMeta(db, "user_id");
    const syncUrl = readMeta(db, "server_url");
    if (!userId || !syncUrl) return null;
    return {
      userId,
      email: readMeta(db, "email") ?? null,
      webUrl: readMeta(db, "web_url") ?? null,
      syncUrl,
      signedIn: this.session !== null,
    };
  }

  /**
   * Binds the profile to an account (see bind.ts for what a first bind uploads) and starts
   * syncing when the engine runs. Binding again to the same account and device only
   * attaches the session (a restart, a refreshed sign-in).
   */
  async bind(session: SyncSession): Promise<void> {
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
    const session = refreshingSession({
      binding: {
        syncUrl: tokens.sync_url,
        userId: tokens.user_id,
        deviceId: tokens.device_id,
        email: tokens.email ?? null,
        webUrl,
      },
      store: this.tokens,
      initial: {
        accessToken: tokens.access_token,
        expiresAt: Date.now() + tokens.expires_in * 1000,
      },
      onSignedOut: (reason) => this.signedOutByServer(reason),
      onRevoked: (reason) => this.markRevoked(reason),
      ...(this.options.fetch ? { fetch: this.options.fetch } : {}),
    });
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
    db.transaction(() => {
      for (const key of [
        "user_id",
        "email",
        "server_url",
        "web_url",
        "last_sync_at",
        "revoked_at",
      ] as const) {
        deleteMeta(db, key);
      }
    })();
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

  // ---- diagnostics ------------------------------------------------------------------------

  diagnostics(): Diagnostics {
    const db = this.profile.db;
    return db.transaction(() => {
      const oldest = oldestPendingAt(db);
      const lastError = syncErrorInfoSchema.safeParse(
        JSON.parse(readMeta(db, "last_error") ?? "null"),
      );
      return {
        profile: this.profile.name,
        deviceId: this.deviceId(),
        mode: this.mode(),
        connection: this.connection,
        lamport: this.profile.clock.current(),
        pendingCount: pendingCount(db),
        oldestPendingAgeMs: oldest === null ? null : Math.max(0, Date.now() - oldest),
        cursor: this.active.cursor(),
        lastError: lastError.success ? lastError.data : null,
        lastSyncAt: readMeta(db, "last_sync_at") ?? null,
        quarantinedCount: quarantinedCount(db),
        quarantined: quarantinedOps(db).map(({ quarantinedAt, ...op }) => ({
          ...op,
          at: new Date(quarantinedAt).toISOString(),
        })),
        account: this.account(),
        resync: this.resyncProgress,
        revokedAt: this.revokedAt(),
      };
    })();
  }

  clearLastError(): void {
    deleteMeta(this.profile.db, "last_error");
    this.emit({ type: "status" });
  }
}

function offline(detail: string): EngineError {
  return new EngineError(
    "offline",
    `server-connected mode: the server cannot be reached or did not answer, so the change may not have been made (${detail}). If it was, it shows up in the library once the server answers; otherwise try again when online, or switch to Hybrid to edit offline.`,
    {},
  );
}
