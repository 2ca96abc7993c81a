import type {
  LibrarySnapshot,
  PlaylistDetail,
  PlaylistEntry,
  PlaylistSummary,
  Track,
} from "../contract.js";
import type { SqliteDatabase } from "../store/sqlite.js";

/*
 * Reading the library. Entries whose playlist or track is not visible (deleted, or not
 * arrived yet) are hidden here rather than refused at write time: remote ops arrive in any
 * order (docs/design.md#conflict-rule) and the tables deliberately have no foreign keys.
 */

interface TrackRow {
  id: string;
  title: string;
  artist: string | null;
  album: string | null;
  duration_ms: number | null;
}

function toTrack(row: TrackRow): Track {
  return {
    id: row.id,
    title: row.title,
    artist: row.artist,
    album: row.album,
    durationMs: row.duration_ms,
  };
}

export function listPlaylists(db: SqliteDatabase): PlaylistSummary[] {
  return db
    .prepare(
      `SELECT p.id, p.name, p.cover,
              (SELECT COUNT(*) FROM playlist_entries e JOIN tracks t ON t.id = e.track_id
                WHERE e.playlist_id = p.id) AS entryCount
         FROM playlists p
        ORDER BY p.name COLLATE NOCASE, p.id`,
    )
    .all() as PlaylistSummary[];
}

export function listTracks(db: SqliteDatabase): Track[] {
  return (
    db
      .prepare(
        "SELECT id, title, artist, album, duration_ms FROM tracks ORDER BY title COLLATE NOCASE, id",
      )
      .all() as TrackRow[]
  ).map(toTrack);
}

export function findTrack(db: SqliteDatabase, id: string): Track | null {
  const row = db
    .prepare("SELECT id, title, artist, album, duration_ms FROM tracks WHERE id = ?")
    .get(id) as TrackRow | undefined;
  return row ? toTrack(row) : null;
}

export function findPlaylistName(db: SqliteDatabase, id: string): string | null {
  const name = db.prepare("SELECT name FROM playlists WHERE id = ?").pluck().get(id);
  return typeof name === "string" ? name : null;
}

/** The visible entries of a playlist in order: by position, ties broken by id. */
export function playlistEntries(db: SqliteDatabase, playlistId: string): PlaylistEntry[] {
  const rows = db
    .prepare(
      `SELECT e.id AS entryId, e.track_id, e.position,
              t.id, t.title, t.artist, t.album, t.duration_ms
         FROM playlist_entries e JOIN tracks t ON t.id = e.track_id
        WHERE e.playlist_id = ?
        ORDER BY e.position, e.id`,
    )
    .all(playlistId) as (TrackRow & { entryId: string; track_id: string; position: string })[];
  return rows.map((row) => ({
    id: row.entryId,
    trackId: row.track_id,
    position: row.position,
    track: toTrack(row),
  }));
}

/** Every entry row of a playlist, visible track or not (moves and deletes need them all). */
export function allEntryRows(
  db: SqliteDatabase,
  playlistId: string,
): { id: string; position: string }[] {
  return db
    .prepare(
      "SELECT id, position FROM playlist_entries WHERE playlist_id = ? ORDER BY position, id",
    )
    .all(playlistId) as { id: string; position: string }[];
}

export function findEntry(
  db: SqliteDatabase,
  id: string,
): { id: string; playlistId: string; trackId: string; position: string } | null {
  const row = db
    .prepare(
      "SELECT id, playlist_id AS playlistId, track_id AS trackId, position FROM playlist_entries WHERE id = ?",
    )
    .get(id) as { id: string; playlistId: string; trackId: string; position: string } | undefined;
  return row ?? null;
}

export function getPlaylist(db: SqliteDatabase, id: string): PlaylistDetail | null {
  const row = db.prepare("SELECT name, cover FROM playlists WHERE id = ?").get(id) as
    | { name: string; cover: string | null }
    | undefined;
  if (!row) return null;
  return { id, name: row.name, cover: row.cover, entries: playlistEntries(db, id) };
}

/** The cover reference of a playlist (null: none), or undefined when there is no such playlist. */
export function findPlaylistCover(db: SqliteDatabase, id: string): string | null | undefined {
  const row = db.prepare("SELECT cover FROM playlists WHERE id = ?").get(id) as
    | { cover: string | null }
    | undefined;
  return row ? row.cover : undefined;
}

/** The whole visible library in a canonical order (what converged devices agree on). */
export function librarySnapshot(db: SqliteDatabase): LibrarySnapshot {
  const playlists = (
    db.prepare("SELECT id, name, cover FROM playlists ORDER BY id").all() as {
      id: string;
      name: string;
      cover: string | null;
    }[]
  ).map(({ id, name, cover }) => ({ id, name, cover, entries: playlistEntries(db, id) }));
  const tracks = (
    db
      .prepare("SELECT id, title, artist, album, duration_ms FROM tracks ORDER BY id")
      .all() as TrackRow[]
  ).map(toTrack);
  return { playlists, tracks };
}
