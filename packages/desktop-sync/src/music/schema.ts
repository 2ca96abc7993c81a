import { defineSyncApp } from "../sdk/schema.js";

/*
 * The music library, the first app on the sync SDK: what it declares, nothing more. Its
 * tables (playlists, tracks, playlist_entries) were created by the engine's first schema step
 * (src/store/migrations.ts) before the SDK existed; they stay there, so existing profile files
 * need no rebuild, and later changes to them are steps of this app's `migrations`.
 *
 * The tables have no foreign keys to each other, so the declaration names no parents: an
 * entry may point at a track deleted on another device, and readers (read.ts) hide it rather
 * than the engine parking it. That was the library's rule before the SDK and every device
 * keeps it. Entity names on the wire are unchanged (`playlist`, `track`, `playlist_entry`),
 * so desktops of older builds and this one share an account (an older build keeps a cover's
 * register without showing it).
 */
export const ENTITY = {
  playlist: "playlist",
  track: "track",
  entry: "playlist_entry",
} as const;

const stamps = { created: "created_at", updated: "updated_at" };

export const musicApp = defineSyncApp({
  name: "music",
  migrations: [
    // A playlist's cover image: a blob reference (src/blobs/), the file beside the row.
    "ALTER TABLE playlists ADD COLUMN cover TEXT",
  ],
  tables: [
    {
      table: "playlists",
      entity: ENTITY.playlist,
      primaryKey: { column: "id", kind: "uuid" },
      columns: ["name", "cover"],
      blobs: ["cover"],
      fallbacks: { name: "" },
      timestamps: stamps,
    },
    {
      table: "tracks",
      entity: ENTITY.track,
      primaryKey: { column: "id", kind: "uuid" },
      columns: ["title", "artist", "album", "duration_ms"],
      fallbacks: { title: "" },
      timestamps: stamps,
    },
    {
      table: "playlist_entries",
      entity: ENTITY.entry,
      primaryKey: { column: "id", kind: "uuid" },
      columns: ["playlist_id", "track_id", "position"],
      fallbacks: { playlist_id: "", track_id: "", position: "" },
      timestamps: stamps,
    },
  ],
});
