import { createReadStream, rmSync } from "node:fs";
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { type AccountKey, createBlobOpener, createBlobSealer, isCryptoError } from "@chorus/crypto";
import type { BlobSummary } from "../contract.js";
import { EngineError } from "../errors.js";
import type { ResolvedApp } from "../sdk/schema.js";
import type { SqliteDatabase } from "../store/sqlite.js";
import { type BackoffPolicy, DEFAULT_BACKOFF } from "../sync/backoff.js";
import { callBudget, callServer, retryDelay, type Verdict } from "../sync/call-server.js";
import type { SyncFailure } from "../sync/failure.js";
import type { SyncSession } from "../sync/session.js";
import { hashFile, type LocalBlobStore, writeHashed } from "./local-store.js";
import { BlobTransferError, downloadBlob, type TransferDeps, uploadBlob } from "./transfer.js";

/*
 * Blobs on the device (ADR 0024): files a blob column references, kept in the profile's
 * LocalBlobStore, moved to and from the sync server's blob endpoints.
 *
 * - attach: a file becomes a blob. An account whose key this device holds gets the file
 *   sealed (@chorus/crypto's createBlobSealer) and the reference is the SHA-256 of the sealed
 *   bytes, so the server never sees a hash of the plaintext; otherwise the reference is the
 *   SHA-256 of the file. The plaintext is kept under the reference either way.
 * - upload: made here and not yet on the server (sync_blob 'pending'): resumable chunks, then
 *   confirm. Judged by the engine's one call policy: a size or quota refusal is final
 *   ('refused', with the server's sentence), anything else backs off and is tried again.
 * - fetch: a reference in the app's rows whose file is missing here is downloaded, checked
 *   against its name, opened when sealed, and kept.
 *
 * The worker runs while the sync loop runs (Hybrid, Server-connected): after each wake (a
 * local write, ops from other devices) it uploads what is pending and fetches what is
 * missing, each blob with its own backoff.
 */

export interface BlobSyncDeps {
  db: SqliteDatabase;
  store: LocalBlobStore;
  fetch: typeof fetch;
  timeoutMs: number;
  backoff?: BackoffPolicy;
  /** The app's tables, where blob columns hold references. */
  app: ResolvedApp;
  /** The library the app's rows are read from now (the profile file, or memory). */
  libraryDb(): SqliteDatabase;
  /** Whether the account seals values, and the key this device holds for it. */
  encryption(): { readiness: "clear" | "sealed" | "locked" | "unknown"; key: AccountKey | null };
  onFailure(failure: SyncFailure): void;
  onChange(): void;
  log(message: string, context?: Record<string, unknown>): void;
}

interface BlobRow {
  sha256: string;
  size: number;
  sealed: number;
  state: "pending" | "uploaded" | "refused";
  attempts: number;
  last_error: string | null;
}

const MAGIC = Buffer.from([0x43, 0x48, 0x42, 0x01]);

/** Most files one sweep removes (the next sweep goes on). */
export const MAX_SWEEP_REMOVALS = 500;
/**
 * A blob attached here is kept this long whatever references it: attachBlob uploads before
 * the row that references it is written (ADR 0024), and a sweep in between must not take it.
 */
export const SWEEP_GRACE_MS = 10 * 60_000;
/** Least time between two sweeps of the worker. */
const SWEEP_INTERVAL_MS = 60_000;
const HEX_REF = /[0-9a-f]{64}/g;

/** What one sweep of the blob files did. */
export interface BlobSweep {
  /** References whose files were removed. */
  removed: string[];
  /** Why nothing was looked at (changes still wait to upload), or null. */
  skipped: "queue_not_empty" | null;
}

export type UploadOutcome =
  | { ok: true }
  | { ok: false; verdict: Verdict; failure: SyncFailure; error: unknown };

export class BlobSync {
  private session: SyncSession | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  /** Per blob: failures in a row and when it may be tried again. */
  private readonly waits = new Map<string, { failures: number; until: number; error: string }>();
  private readonly fetching = new Map<string, Promise<void>>();
  private readonly uploading = new Map<string, Promise<UploadOutcome>>();

  constructor(private readonly deps: BlobSyncDeps) {}

  // ---- attach ----------------------------------------------------------------------------

  /**
   * Makes a blob of the file at `path` (or of `bytes`): sealed for an encrypted account,
   * kept here, recorded to upload. Answers its reference. Nothing is recorded when it fails.
   */
  async attach(source: { path: string } | { bytes: Uint8Array }): Promise<BlobRow> {
    const { readiness, key } = this.deps.encryption();
    if (readiness === "locked") {
      throw new EngineError(
        "encryption_locked",
        "this account encrypts its data and this device does not hold the key: enter the encryption password before adding files",
        {},
      );
    }
    const { store } = this.deps;
    const open = () =>
      "path" in source ? createReadStream(source.path) : Readable.from([source.bytes]);
    const plainTemp = store.tempPath();
    try {
      const plain = await writeHashed(open(), plainTemp);
      if (plain.size === 0) throw new EngineError("invalid_input", "the file is empty", {});
      let ref = plain.sha256;
      let size = plain.size;
      const sealed = readiness === "sealed" && key !== null;
      if (sealed) {
        const sealedTemp = store.tempPath();
        try {
          const out = await writeHashed(
            createReadStream(plainTemp),
            sealedTemp,
            createBlobSealer(key),
          );
          ref = out.sha256;
          size = out.size;
          await store.place(sealedTemp, store.outgoingPath(ref));
        } finally {
          rmSync(sealedTemp, { force: true });
        }
      }
      await store.place(plainTemp, store.objectPath(ref));
      this.deps.db
        .prepare(
          `INSERT INTO sync_blob (sha256, size, sealed, state, added_at) VALUES (?, ?, ?, 'pending', ?)
           ON CONFLICT (sha256) DO UPDATE SET state = CASE WHEN state = 'uploaded' THEN 'uploaded' ELSE 'pending' END`,
        )
        .run(ref, size, sealed ? 1 : 0, Date.now());
      return this.row(ref) as BlobRow;
    } finally {
      rmSync(plainTemp, { force: true });
    }
  }

  /** Forgets a blob made here (its attach was refused, or the write that used it failed). */
  discard(ref: string): void {
    this.deps.db.prepare("DELETE FROM sync_blob WHERE sha256 = ?").run(ref);
    this.deps.store.remove(ref);
  }

  private row(ref: string): BlobRow | undefined {
    return this.deps.db.prepare("SELECT * FROM sync_blob WHERE sha256 = ?").get(ref) as
      | BlobRow
      | undefined;
  }

  // ---- upload ----------------------------------------------------------------------------

  private transfer(session: SyncSession): TransferDeps {
    return { session, fetch: this.deps.fetch, timeoutMs: this.deps.timeoutMs };
  }

  /**
   * One try at uploading a blob made here, under the call policy (a 401 refreshes once).
   * A refusal for good marks it 'refused' with the server's sentence.
   */
  upload(session: SyncSession, ref: string): Promise<UploadOutcome> {
    // One upload of a blob at a time: a caller arriving meanwhile shares its outcome.
    let running = this.uploading.get(ref);
    if (!running) {
      running = this.uploadOnce(session, ref).finally(() => this.uploading.delete(ref));
      this.uploading.set(ref, running);
    }
    return running;
  }

  private async uploadOnce(session: SyncSession, ref: string): Promise<UploadOutcome> {
    const row = this.row(ref);
    if (!row) return { ok: true };
    if (row.state === "uploaded") return { ok: true };
    const { readiness } = this.deps.encryption();
    if (!row.sealed && (readiness === "sealed" || readiness === "locked")) {
      const message =
        "this file was added in clear before the account encrypted its data; it is not uploaded in clear: add it again";
      this.markRefused(ref, message);
      const failure: SyncFailure = { kind: "refused", code: "not_sealed", message };
      return { ok: false, verdict: "refused", failure, error: new Error(message) };
    }
    const path = row.sealed ? this.deps.store.outgoingPath(ref) : this.deps.store.objectPath(ref);
    const outcome = await callServer(
      async () => {
        if ((await hashFile(path)) !== ref) {
          throw new BlobTransferError(
            {
              kind: "refused",
              code: "local_file_changed",
              message: `the file of blob ${ref} changed on this computer; it cannot be uploaded`,
            },
            "local_file_changed",
          );
        }
        await uploadBlob(this.transfer(session), { sha256: ref, path, size: row.size });
      },
      { tokenRejected: () => session.tokenRejected() },
      callBudget(),
    );
    if (outcome.ok) {
      this.deps.db
        .prepare(
          "UPDATE sync_blob SET state = 'uploaded', uploaded_at = ?, last_error = NULL WHERE sha256 = ?",
        )
        .run(Date.now(), ref);
      this.deps.store.removeOutgoing(ref);
      this.waits.delete(ref);
      return { ok: true };
    }
    this.deps.db
      .prepare("UPDATE sync_blob SET attempts = attempts + 1, last_error = ? WHERE sha256 = ?")
      .run(outcome.failure.message, ref);
    if (outcome.verdict === "refused") this.markRefused(ref, outcome.failure.message);
    return { ok: false, verdict: outcome.verdict, failure: outcome.failure, error: outcome.error };
  }

  private markRefused(ref: string, message: string): void {
    this.deps.db
      .prepare("UPDATE sync_blob SET state = 'refused', last_error = ? WHERE sha256 = ?")
      .run(message, ref);
    this.deps.store.removeOutgoing(ref);
  }

  // ---- fetch -----------------------------------------------------------------------------

  /** Whether the file of `ref` is on this computer. */
  has(ref: string): boolean {
    return this.deps.store.has(ref);
  }

  /**
   * Downloads blob `ref` into the store (once at a time per blob): checked against its name,
   * opened when sealed. Throws an EngineError the user can read when it cannot.
   */
  fetchNow(session: SyncSession, ref: string): Promise<void> {
    if (this.has(ref)) return Promise.resolve();
    let running = this.fetching.get(ref);
    if (!running) {
      running = this.download(session, ref).finally(() => this.fetching.delete(ref));
      this.fetching.set(ref, running);
    }
    return running;
  }

  private async download(session: SyncSession, ref: string): Promise<void> {
    const { store } = this.deps;
    const raw = store.tempPath();
    const plain = store.tempPath();
    try {
      const outcome = await callServer(
        async () => {
          rmSync(raw, { force: true });
          const body = await downloadBlob(this.transfer(session), ref);
          return writeHashed(Readable.fromWeb(body as WebReadableStream<Uint8Array>), raw);
        },
        { tokenRejected: () => session.tokenRejected() },
        callBudget(),
      );
      if (!outcome.ok) {
        if (outcome.error instanceof BlobTransferError && outcome.error.code === "not_found") {
          throw new EngineError(
            "blob_missing",
            "the file is not on the server yet (the device that added it has not uploaded it); it is fetched once it is",
            { sha256: ref },
            { cause: outcome.error },
          );
        }
        throw new EngineError(
          outcome.failure.kind === "offline" ? "offline" : "blob_missing",
          `the file could not be downloaded: ${outcome.failure.message}`,
          { sha256: ref },
          { cause: outcome.error },
        );
      }
      if (outcome.value.sha256 !== ref) {
        throw new EngineError(
          "blob_missing",
          "the server sent bytes that do not match the file's name; they were not kept",
          { sha256: ref },
        );
      }
      const { readiness, key } = this.deps.encryption();
      const sealedAccount = readiness === "sealed" || readiness === "locked";
      // In an account that seals, a file with the sealed header is opened; one without was
      // added in clear (its name, inside a sealed value, vouches for its bytes all the same).
      if (sealedAccount && (await isSealedBlob(raw))) {
        if (!key) {
          throw new EngineError(
            "encryption_locked",
            "this file is encrypted: enter the encryption password on this device to open it",
            { sha256: ref },
          );
        }
        try {
          await writeHashed(createReadStream(raw), plain, createBlobOpener(key));
        } catch (error) {
          if (!isCryptoError(error)) throw error;
          throw new EngineError(
            "blob_unreadable",
            `the file does not open with this account's key (${error.code}): ${error.message}`,
            { sha256: ref, reason: error.code },
          );
        }
        await store.place(plain, store.objectPath(ref));
      } else {
        await store.place(raw, store.objectPath(ref));
      }
    } finally {
      rmSync(raw, { force: true });
      rmSync(plain, { force: true });
    }
  }

  /** References the app's rows hold (every blob column of every table). */
  referenced(): string[] {
    return this.referencedIn(this.deps.libraryDb());
  }

  private referencedIn(db: SqliteDatabase): string[] {
    const refs = new Set<string>();
    for (const table of this.deps.app.tables) {
      for (const column of table.columns.filter((c) => c.blob)) {
        const q = (name: string) => `"${name.replaceAll('"', '""')}"`;
        const rows = db
          .prepare(
            `SELECT DISTINCT ${q(column.name)} FROM ${q(table.table)} WHERE ${q(column.name)} IS NOT NULL`,
          )
          .pluck()
          .all() as string[];
        for (const ref of rows) refs.add(ref);
      }
    }
    return [...refs];
  }

  /**
   * How a referenced blob moves now (what the window shows beside a cover): uploading (its
   * file is here and waits to go to the server), downloading (not here; being fetched, or due
   * to be at the worker's next run), missing (not here; the worker's last try failed and
   * waits out its backoff, or nothing syncs now), null (here, nothing under way).
   */
  movement(ref: string): "uploading" | "downloading" | "missing" | null {
    if (this.has(ref)) return this.row(ref)?.state === "pending" ? "uploading" : null;
    if (this.fetching.has(ref)) return "downloading";
    if (!this.session || this.waits.has(ref)) return "missing";
    return "downloading";
  }

  // ---- the sweep -------------------------------------------------------------------------

  /**
   * Removes the files (and the sync_blob rows) of blobs nothing on this device needs any more:
   * a cover cleared, a playlist deleted. It runs only once sync has settled (the queue is
   * empty: every change that stopped referencing a blob is acknowledged, so no discard of a
   * queued change can bring a reference back), and keeps a blob when:
   * - a row references it (the library read now, and the profile's rows, which differ in
   *   server-connected mode);
   * - a quarantined change mentions it (it may be retried or restored);
   * - it waits to upload (`pending`), or was attached less than SWEEP_GRACE_MS ago (its row
   *   may not be written yet);
   * - it is being uploaded or downloaded now.
   * Synchronous from reading the references to the last removal, so nothing of this process
   * interleaves. At most MAX_SWEEP_REMOVALS files per sweep. A file removed while another
   * device's op brings its reference back is fetched again, as any missing one.
   */
  sweep(now = Date.now()): BlobSweep {
    const { db, store } = this.deps;
    const queued = db.prepare("SELECT COUNT(*) FROM sync_pending_op").pluck().get() as number;
    if (queued > 0) return { removed: [], skipped: "queue_not_empty" };
    const keep = new Set(this.referenced());
    for (const ref of this.referencedIn(db)) keep.add(ref);
    const quarantined = db
      .prepare("SELECT value FROM sync_quarantined_op WHERE value IS NOT NULL")
      .pluck()
      .all() as string[];
    for (const value of quarantined) for (const [ref] of value.matchAll(HEX_REF)) keep.add(ref);
    const held = db
      .prepare("SELECT sha256 FROM sync_blob WHERE state = 'pending' OR added_at > ?")
      .pluck()
      .all(now - SWEEP_GRACE_MS) as string[];
    for (const ref of held) keep.add(ref);
    const removed: string[] = [];
    const forget = db.prepare("DELETE FROM sync_blob WHERE sha256 = ?");
    for (const ref of store.list()) {
      if (removed.length >= MAX_SWEEP_REMOVALS) break;
      if (keep.has(ref) || this.fetching.has(ref) || this.uploading.has(ref)) continue;
      store.remove(ref);
      forget.run(ref);
      removed.push(ref);
    }
    if (removed.length > 0) {
      this.deps.log("removed blob files nothing references any more", { count: removed.length });
    }
    return { removed, skipped: null };
  }

  private lastSweepAt = 0;

  // ---- the worker ------------------------------------------------------------------------

  /** Starts moving blobs for `session` (the sync loop started). */
  start(session: SyncSession): void {
    this.session = session;
    this.waits.clear();
    this.wake();
  }

  stop(): void {
    this.session = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Something may have changed: upload and fetch what is due (now, or after the run). */
  wake(): void {
    if (!this.session) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.run()
      .catch((error) => this.deps.log("blob sync failed", { message: String(error) }))
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  /** Waits for the current run (tests, shutdown). */
  async settle(): Promise<void> {
    while (this.running) await this.running;
  }

  private due(ref: string, now: number): boolean {
    const wait = this.waits.get(ref);
    return !wait || wait.until <= now;
  }

  private backOff(ref: string, failure: SyncFailure): void {
    const failures = (this.waits.get(ref)?.failures ?? 0) + 1;
    const delay = retryDelay(failure, failures, this.deps.backoff ?? DEFAULT_BACKOFF);
    this.waits.set(ref, { failures, until: Date.now() + delay, error: failure.message });
  }

  private async run(): Promise<void> {
    const session = this.session;
    if (!session) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const now = Date.now();
    const pending = this.deps.db
      .prepare("SELECT sha256 FROM sync_blob WHERE state = 'pending' ORDER BY added_at, sha256")
      .pluck()
      .all() as string[];
    let changed = false;
    for (const ref of pending) {
      if (this.session !== session) return;
      if (!this.due(ref, now)) continue;
      const outcome = await this.upload(session, ref);
      changed = true;
      if (outcome.ok || outcome.verdict === "refused") continue;
      this.deps.onFailure(outcome.failure);
      this.backOff(ref, outcome.failure);
      if (outcome.verdict === "revoked" || outcome.verdict === "update_required") return;
    }
    for (const ref of this.referenced()) {
      if (this.session !== session) return;
      if (this.has(ref) || !this.due(ref, now)) continue;
      try {
        await this.fetchNow(session, ref);
        this.waits.delete(ref);
        changed = true;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        this.deps.log("a blob could not be fetched; trying again later", { sha256: ref, message });
        this.backOff(ref, { kind: "server", message });
      }
    }
    if (this.session !== session) return;
    // After the transfers of this run, at most once a minute (and at the first run after a
    // start): the files nothing needs any more.
    if (Date.now() - this.lastSweepAt >= SWEEP_INTERVAL_MS) {
      this.lastSweepAt = Date.now();
      if (this.sweep().removed.length > 0) changed = true;
    }
    if (changed) this.deps.onChange();
    this.schedule();
  }

  /** Wakes again when the earliest backoff ends. */
  private schedule(): void {
    if (!this.session || this.waits.size === 0) return;
    const until = Math.min(...[...this.waits.values()].map((w) => w.until));
    this.timer = setTimeout(() => this.wake(), Math.max(0, until - Date.now()) + 10);
    this.timer.unref();
  }

  // ---- what the device shows -------------------------------------------------------------

  summary(): BlobSummary {
    const counts = this.deps.db
      .prepare("SELECT state, COUNT(*) AS n FROM sync_blob GROUP BY state")
      .all() as Array<{ state: string; n: number }>;
    const count = (state: string) => counts.find((c) => c.state === state)?.n ?? 0;
    const refused = this.deps.db
      .prepare(
        "SELECT sha256, last_error FROM sync_blob WHERE state = 'refused' ORDER BY added_at DESC LIMIT 20",
      )
      .all() as Array<{ sha256: string; last_error: string | null }>;
    const missing = this.referenced().filter((ref) => !this.has(ref));
    return {
      pending: count("pending"),
      uploaded: count("uploaded"),
      refused: refused.map((r) => ({ sha256: r.sha256, reason: r.last_error ?? "" })),
      missing: missing.length,
    };
  }
}

/** Whether a downloaded blob is sealed (createBlobSealer's header). */
async function isSealedBlob(path: string): Promise<boolean> {
  const stream = createReadStream(path, { start: 0, end: MAGIC.length - 1 });
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).equals(MAGIC);
}
