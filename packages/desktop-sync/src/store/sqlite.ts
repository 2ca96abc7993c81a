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
    // or the device would reuse its lamport values after a power cut.
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
