import type { SqliteDatabase } from "./sqlite.js";

/** Keys of the sync_meta table; the values are text. */
export type MetaKey = "device_id" | "server_url" | "cursor" | "lamport";

export function readMeta(db: SqliteDatabase, key: MetaKey): string | undefined {
  const value = db.prepare("SELECT value FROM sync_meta WHERE key = ?").pluck().get(key);
  return typeof value === "string" ? value : undefined;
}

export function writeMeta(db: SqliteDatabase, key: MetaKey, value: string): void {
  db.prepare(
    "INSERT INTO sync_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
  ).run(key, value);
}
