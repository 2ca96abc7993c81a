import { AccountKey, type CryptoError, isCryptoError, openOp, sealOp } from "@chorus/crypto";
import { isSealedValue, type OpInput, type SyncOp, type WrappedAccountKey } from "@chorus/protocol";
import type { KeyStore } from "../auth/key-store.js";
import type { EncryptionStatus, UnreadableOp } from "../contract.js";
import { EngineError } from "../errors.js";
import { deleteMeta, readMeta, writeMeta } from "../store/meta.js";
import type { SqliteDatabase } from "../store/sqlite.js";

/*
 * End-to-end encryption on the device (ADR 0018): what the engine knows of the account's key
 * (cached in sync_meta, read from the server once per connection and whenever a value needs a
 * key this device lacks), the master key it holds (in its KeyStore), and the two boundaries:
 * every op value is sealed just before it is pushed, and opened just before it is folded.
 * Locally the queue, the registers and the rows hold plaintext, as the device's own copy of
 * the library always did.
 */

/** sync_meta key: a push was refused for its key; re-stamp the queue before the next one. */
const KEY_CHANGED_META = "key_changed_at";

/** The account's key as the server last described it. */
export type KeyState =
  | { kind: "unknown" }
  | { kind: "off"; checkedAt: string }
  | { kind: "on"; epoch: number; version: number; checkedAt: string };

/** What the server's `keys.get` answers with (the part the engine uses). */
export interface ServerKeyView {
  epoch: number;
  version: number;
  wrapped: WrappedAccountKey;
}

/**
 * A value from the server needs a key this device does not hold (sealed under a newer epoch,
 * or sealed while this device believed the account had no key). Nothing of the batch is
 * applied and the cursor stays: the engine reads the key state again, and asks for the
 * password when the account's key is one this device does not hold.
 */
export class KeyNeededError extends Error {
  override name = "KeyNeededError";
  constructor(
    message: string,
    readonly epoch: number | null,
  ) {
    super(message);
  }
}

/** Seals op values before they leave, opens them before they are folded. */
export interface OpCipher {
  /** The op as it is pushed: sealed when the account encrypts (throws when it cannot). */
  seal(op: OpInput): OpInput;
  /**
   * The op as it is folded: opened when the account encrypts. A value that does not open
   * throws a CryptoError (the caller records it and skips the op); a value that needs a key
   * this device does not hold throws KeyNeededError.
   */
  open<T extends SyncOp>(op: T): T;
  /** Records a received op whose value did not open (in the profile, whatever library). */
  refuse(op: SyncOp, error: CryptoError): void;
  /**
   * `open` for a batch of ops received together (a page of a full pull): what `open` answers
   * for each, with the account's key state read once for the batch instead of once per op.
   */
  batchOpener?(): <T extends SyncOp>(op: T) => T;
}

function parseState(text: string | undefined): KeyState {
  if (!text) return { kind: "unknown" };
  try {
    const parsed = JSON.parse(text) as KeyState;
    if (parsed.kind === "off" || parsed.kind === "on") return parsed;
  } catch {
    // a damaged cache is an unknown state: the next connection asks again
  }
  return { kind: "unknown" };
}

/** The key epoch a sealed value names (0 when it names none a reader can use). */
function epochOf(sealed: unknown): number {
  const epoch = (sealed as { e?: unknown }).e;
  return typeof epoch === "number" ? epoch : 0;
}

/** The epochs of the sealed values an op carries (an insert seals each initial field). */
function sealedEpochs(op: SyncOp): number[] {
  const value = op.value;
  if (isSealedValue(value)) return [epochOf(value)];
  if (op.op === "insert" && op.field === null && value && typeof value === "object") {
    return Object.values(value as Record<string, unknown>)
      .filter(isSealedValue)
      .map(epochOf);
  }
  return [];
}

export class AccountEncryption implements OpCipher {
  /** The key read from the store (undefined: not read yet). */
  private cached: AccountKey | null | undefined;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly store: KeyStore,
    /** The account the profile is bound to (null: none). */
    private readonly userId: () => string | null,
  ) {}

  state(): KeyState {
    return parseState(readMeta(this.db, "account_key"));
  }

  /** Records what the server said of the account's key (null: it has none). */
  record(view: ServerKeyView | null): KeyState {
    const checkedAt = new Date().toISOString();
    const state: KeyState = view
      ? { kind: "on", epoch: view.epoch, version: view.version, checkedAt }
      : { kind: "off", checkedAt };
    writeMeta(this.db, "account_key", JSON.stringify(state));
    return state;
  }

  /** The master key this device holds for the account's current epoch, or null. */
  heldKey(): AccountKey | null {
    const state = this.state();
    const userId = this.userId();
    if (state.kind !== "on" || !userId) return null;
    const key = this.storedKey();
    if (!key || key.userId !== userId.toLowerCase() || key.epoch !== state.epoch) return null;
    return key;
  }

  private storedKey(): AccountKey | null {
    if (this.cached === undefined) {
      const stored = this.store.load();
      try {
        this.cached = stored ? AccountKey.import(stored) : null;
      } catch {
        this.cached = null;
      }
    }
    return this.cached;
  }

  /** Keeps the master key (in the store: a 0600 file, or the OS keychain). */
  keep(key: AccountKey): void {
    this.store.save(key.exportKey());
    this.cached = key;
  }

  /** Forgets the key and the cached state (sign-out, another account). */
  forget(): void {
    this.store.clear();
    this.cached = null;
    deleteMeta(this.db, "account_key");
    deleteMeta(this.db, KEY_CHANGED_META);
  }

  /**
   * The server refused a push because the account's key is not the one it was sealed under
   * (`key_epoch_stale`, `key_missing`): the queue stays, and before it is pushed again under
   * the key now current, the loop catches up with the server and re-stamps it (ADR 0026).
   * Kept in the profile, so a restart before the password is entered still does it.
   */
  markKeyChanged(): void {
    writeMeta(this.db, KEY_CHANGED_META, new Date().toISOString());
  }

  /** True while a push refused for its key waits to be re-stamped and sent again. */
  keyChanged(): boolean {
    return readMeta(this.db, KEY_CHANGED_META) !== undefined;
  }

  clearKeyChanged(): void {
    deleteMeta(this.db, KEY_CHANGED_META);
  }

  /** Whether values can move, and how: in clear, sealed, or not at all. */
  readiness(): "clear" | "sealed" | "locked" | "unknown" {
    const state = this.state();
    if (state.kind === "unknown") return "unknown";
    if (state.kind === "off") return "clear";
    return this.heldKey() ? "sealed" : "locked";
  }

  lockedError(): EngineError {
    const state = this.state();
    return new EngineError(
      "encryption_locked",
      state.kind === "on" && this.storedKey()
        ? "the account's encryption key was reset on another device: enter the new encryption password on this one to sync again (changes made here wait)"
        : "this account encrypts its data: enter the encryption password on this device to sync (changes made here wait)",
      { epoch: state.kind === "on" ? state.epoch : null },
    );
  }

  seal(op: OpInput): OpInput {
    const readiness = this.readiness();
    if (readiness === "clear") return op;
    const key = this.heldKey();
    const userId = this.userId();
    if (readiness !== "sealed" || !key || !userId) throw this.lockedError();
    return sealOp(key, userId, op);
  }

  open<T extends SyncOp>(op: T): T {
    const readiness = this.readiness();
    const epochs = sealedEpochs(op);
    if (readiness === "clear" || readiness === "unknown") {
      if (epochs.length === 0 && readiness === "clear") return op;
      throw new KeyNeededError(
        `op ${op.operationId} carries a value sealed under key epoch ${epochs[0] ?? "?"}; this device has no key for it`,
        epochs[0] ?? null,
      );
    }
    const key = this.heldKey();
    const userId = this.userId();
    if (readiness === "locked" || !key || !userId) {
      throw new KeyNeededError("this device does not hold the account's key", null);
    }
    const newer = epochs.find((epoch) => epoch > key.epoch);
    if (newer !== undefined) {
      throw new KeyNeededError(
        `op ${op.operationId} is sealed under key epoch ${newer}, newer than this device's ${key.epoch}`,
        newer,
      );
    }
    return openOp(key, userId, op);
  }

  refuse(op: SyncOp, error: CryptoError): void {
    recordUnreadable(this.db, op, error);
  }

  /**
   * The state is read now, for the whole batch: a batch is opened in one synchronous pass, so
   * nothing can change it between its ops. In clear, an op with no sealed value is itself
   * (as `open` answers); anything else goes through `open`.
   */
  batchOpener(): <T extends SyncOp>(op: T) => T {
    if (this.readiness() !== "clear") return (op) => this.open(op);
    return (op) => (sealedEpochs(op).length === 0 ? op : this.open(op));
  }

  status(): EncryptionStatus {
    const state = this.state();
    const readiness = this.readiness();
    return {
      account: state.kind,
      epoch: state.kind === "on" ? state.epoch : null,
      unlocked: readiness === "sealed",
      needsPassword: readiness === "locked",
      checkedAt: state.kind === "unknown" ? null : state.checkedAt,
      unreadableCount: unreadableCount(this.db),
      unreadable: unreadableOps(this.db),
    };
  }
}

/** Records an op whose value did not open (it is never applied); its value is not kept. */
export function recordUnreadable(db: SqliteDatabase, op: SyncOp, error: CryptoError): void {
  db.prepare(
    `INSERT OR REPLACE INTO sync_unreadable_op
       (id, operation_id, entity, entity_id, field, code, reason, refused_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    op.id,
    op.operationId,
    op.entity,
    op.entityId,
    op.field,
    error.code,
    error.message,
    Date.now(),
  );
}

export function unreadableCount(db: SqliteDatabase): number {
  return db.prepare("SELECT COUNT(*) FROM sync_unreadable_op").pluck().get() as number;
}

export function unreadableOps(db: SqliteDatabase, limit = 20): UnreadableOp[] {
  const rows = db
    .prepare(
      `SELECT id, operation_id, entity, entity_id, field, code, reason, refused_at
         FROM sync_unreadable_op ORDER BY id DESC LIMIT ?`,
    )
    .all(limit) as Array<{
    id: number;
    operation_id: string;
    entity: string;
    entity_id: string;
    field: string | null;
    code: string;
    reason: string;
    refused_at: number;
  }>;
  return rows.map((row) => ({
    id: row.id,
    operationId: row.operation_id,
    entity: row.entity,
    entityId: row.entity_id,
    field: row.field,
    code: row.code,
    reason: row.reason,
    at: new Date(row.refused_at).toISOString(),
  }));
}

/**
 * Opens a remote op for folding: the opened op, or null when its value does not open (it is
 * recorded in the profile's sync_unreadable_op, also in server-connected mode whose library
 * is in memory, and never applied). KeyNeededError passes through.
 */
export function openRemote<T extends SyncOp>(cipher: OpCipher, op: T): T | null {
  try {
    return cipher.open(op);
  } catch (error) {
    if (isCryptoError(error)) {
      cipher.refuse(op, error);
      return null;
    }
    throw error;
  }
}
