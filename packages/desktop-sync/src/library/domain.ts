import type { JsonValue, MaterializedEntity } from "@chorus/protocol";
import type { SqliteDatabase } from "../store/sqlite.js";

/**
 * The music library's entities on the wire (entity names and fields of ops) and how a
 * materialized entity becomes a row of the domain tables. Fields absent after a delete and
 * a later partial write get neutral defaults; readers hide entries whose playlist or track
 * is not visible, so an order of arrival never leaves a broken join.
 */
export const ENTITY = {
  playlist: "playlist",
  track: "track",
  entry: "playlist_entry",
} as const;
export type EntityName = (typeof ENTITY)[keyof typeof ENTITY];

export const PLAYLIST_FIELDS = ["name"] as const;
export const TRACK_FIELDS = ["title", "artist", "album", "duration_ms"] as const;
export const ENTRY_FIELDS = ["playlist_id", "track_id", "position"] as const;

function text(value: JsonValue | undefined, fallback: string): string {
  return typeof value === "string" ? value : fallback;
}

function optionalText(value: JsonValue | undefined): string | null {
  return typeof value === "string" ? value : null;
}

function duration(value: JsonValue | undefined): number | null {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0 ? value : null;
}

/** Rewrites the domain row of one entity from its view (deleted: the row goes). */
export function writeDomainRow(db: SqliteDatabase, view: MaterializedEntity, now: number): void {
  const { entityId: id, fields } = view;
  switch (view.entity) {
    case ENTITY.playlist:
      if (view.deleted) db.prepare("DELETE FROM playlists WHERE id = ?").run(id);
      else
        db.prepare(
          `INSERT INTO playlists (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at`,
        ).run(id, text(fields.name, ""), now, now);
      return;
    case ENTITY.track:
      if (view.deleted) db.prepare("DELETE FROM tracks WHERE id = ?").run(id);
      else
        db.prepare(
          `INSERT INTO tracks (id, title, artist, album, duration_ms, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET title = excluded.title, artist = excluded.artist,
             album = excluded.album, duration_ms = excluded.duration_ms,
             updated_at = excluded.updated_at`,
        ).run(
          id,
          text(fields.title, ""),
          optionalText(fields.artist),
          optionalText(fields.album),
          duration(fields.duration_ms),
          now,
          now,
        );
      return;
    case ENTITY.entry:
      if (view.deleted) db.prepare("DELETE FROM playlist_entries WHERE id = ?").run(id);
      else
        db.prepare(
          `INSERT INTO playlist_entries (id, playlist_id, track_id, position, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET playlist_id = excluded.playlist_id,
             track_id = excluded.track_id, position = excluded.position,
             updated_at = excluded.updated_at`,
        ).run(
          id,
          text(fields.playlist_id, ""),
          text(fields.track_id, ""),
          text(fields.position, ""),
          now,
          now,
        );
      return;
    default:
      // An entity this version does not know: its registers are kept (a newer peer may rely
      // on them) but it has no table to show it in.
      return;
  }
}

/** Empties the domain tables (resync and re-binding rebuild them from the registers). */
export function clearDomain(db: SqliteDatabase): void {
  db.exec("DELETE FROM playlist_entries; DELETE FROM tracks; DELETE FROM playlists;");
}
