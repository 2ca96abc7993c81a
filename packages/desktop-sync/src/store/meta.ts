import type { Statement } from "better-sqlite3";
import { type SqliteDatabase, withoutWaitingForDisk } from "./sqlite.js";

/** Keys of the sync_meta table; the values are text. */
export type MetaKey =
  | "device_id"
  | "server_url"
  | "cursor"
  | "lamport"
  /** local | hybrid | server */
  | "mode"
  /** The account this profile is bound to (set at bind, cleared at sign-out). */
  | "user_id"
  | "email"
  | "web_url"
  /** The account the library's history belongs to, kept across sign-out: another one re-bases. */
  | "bound_user_id"
  /** JSON { code, message, at } of the newest sync failure, until cleared. */
  | "last_error"
  /** ISO time changes last moved to or from the server (cleared at sign-out). */
  | "last_sync_at"
  /** ISO time this profile learnt its device was revoked; cleared by a new bind or sign-out. */
  | "revoked_at"
  /**
   * JSON of the account's encryption key state as last read from the server:
   * { kind: "off", checkedAt } or { kind: "on", epoch, version, checkedAt }; absent: unknown.
   */
  | "account_key"
  /**
   * ISO time a push was refused because the account's key changed (ADR 0026): until the next
   * push under the current key, the queue is re-stamped after catching up with the server.
   */
  | "key_changed_at";

interface MetaStatements {
  read: Statement<[MetaKey], unknown>;
  write: Statement<[MetaKey, string], unknown>;
  remove: Statement<[MetaKey], unknown>;
}

/**
 * Compiled once per database: the meta is read for every op a device applies (its cursor,
 * the account's key state), and compiling the statement cost more than running it.
 */
const statements = new WeakMap<SqliteDatabase, MetaStatements>();

function metaStatements(db: SqliteDatabase): MetaStatements {
  let prepared = statements.get(db);
  if (!prepared) {
    prepared = {
      read: db.prepare<[MetaKey]>("SELECT value FROM sync_meta WHERE key = ?").pluck(),
      write: db.prepare<[MetaKey, string]>(
        "INSERT INTO sync_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      ),
      remove: db.prepare<[MetaKey]>("DELETE FROM sync_meta WHERE key = ?"),
    };
    statements.set(db, prepared);
  }
  return prepared;
}

export function readMeta(db: SqliteDatabase, key: MetaKey): string | undefined {
  const value = metaStatements(db).read.get(key);
  return typeof value === "string" ? value : undefined;
}

export function writeMeta(db: SqliteDatabase, key: MetaKey, value: string): void {
  metaStatements(db).write.run(key, value);
}

export function deleteMeta(db: SqliteDatabase, key: MetaKey): void {
  metaStatements(db).remove.run(key);
}

/**
 * Remembers that changes just moved to or from the server (`last_sync_at`, shown as
 * "Synced · …"). Written after every push and every remote apply, before the engine announces
 * them, so it does not wait for the disk (ADR 0021): a power cut can only make it older.
 */
export function markSyncedAt(db: SqliteDatabase, at: Date): void {
  withoutWaitingForDisk(db, () =>
    db.transaction(() => writeMeta(db, "last_sync_at", at.toISOString()))(),
  );
}
