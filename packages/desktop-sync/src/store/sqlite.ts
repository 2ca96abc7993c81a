import Database from "better-sqlite3";
import { defineCaptureFunction } from "../sdk/capture.js";
import { migrate } from "./migrate.js";

export type SqliteDatabase = Database.Database;

export interface OpenStoreOptions {
  /** Create the file when it does not exist (profile creation only). */
  create?: boolean;
  /** How long a writer waits for another connection's lock before failing. */
  busyTimeoutMs?: number;
}

/**
 * Opens a profile's SQLite file, configured the same way for every caller, and migrates it
 * to the newest schema.
 */
export function openStore(file: string, options: OpenStoreOptions = {}): SqliteDatabase {
  const busyTimeoutMs = options.busyTimeoutMs ?? 5_000;
  const db = new Database(file, { fileMustExist: !options.create, timeout: busyTimeoutMs });
  try {
    // WAL: the Electron app and the CLI may read while the engine writes.
    const mode = db.pragma("journal_mode = WAL", { simple: true });
    if (mode !== "wal") throw new Error(`could not enable WAL on ${file} (got ${String(mode)})`);
    // FULL, not NORMAL: a drained op must never be lost locally after the server has it,
    // or the device would reuse its lamport values after a power cut. What the server holds
    // anyway (remote ops applied, the queue's removals) commits relaxed: withoutWaitingForDisk.
    db.pragma("synchronous = FULL");
    db.pragma("foreign_keys = ON");
    db.pragma(`busy_timeout = ${Math.trunc(busyTimeoutMs)}`);
    migrate(db);
    // The capture triggers of synced tables call it (on by default; see src/sdk/capture.ts).
    defineCaptureFunction(db);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * Runs `write` (one write transaction, not nested in another) without waiting at its COMMIT for
 * the disk to say the WAL is stored (`synchronous = NORMAL` for this commit only, ADR 0021).
 * For what the server holds and this device would fetch or be told again: remote ops applied
 * with the cursor, ops removed from the queue once pushed. An application crash loses nothing
 * (the WAL is in the operating system's hands); a power cut may roll the commit back, never
 * tear it, and the next FULL commit (a local edit, the cursor before an ACK) makes it durable
 * with everything before it, since the WAL is stored in order. A busy disk then holds up no
 * remote op on its way to the screen, and no next push behind the previous one's bookkeeping.
 */
export function withoutWaitingForDisk<T>(db: SqliteDatabase, write: () => T): T {
  if (db.memory || db.inTransaction) return write();
  const level = db.pragma("synchronous", { simple: true }) as number;
  db.pragma("synchronous = NORMAL");
  try {
    return write();
  } finally {
    db.pragma(`synchronous = ${level}`);
  }
}

/**
 * An in-memory database with the profile schema: server-connected mode keeps the library the
 * server sent here, so nothing of it is written to disk.
 */
export function openMemoryStore(): SqliteDatabase {
  const db = new Database(":memory:");
  db.pragma("foreign_keys = ON");
  migrate(db);
  defineCaptureFunction(db);
  return db;
}
