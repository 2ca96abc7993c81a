import { randomUUID } from "node:crypto";
import { unstorableStringProblem } from "@chorus/protocol";
import { generateKeyBetween, generateNKeysBetween } from "fractional-indexing";
import {
  type EntryPlacement,
  entryPlacementSchema,
  type NewTrack,
  newTrackSchema,
  playlistNameSchema,
} from "../contract.js";
import { EngineError } from "../errors.js";
import type { SqliteDatabase } from "../store/sqlite.js";
import { allEntryRows, findEntry, findPlaylistName, findTrack } from "./read.js";

/*
 * The music library's edits: each checks its input, reads what it needs and writes plain SQL
 * to the library's tables. It never builds an op: the SDK's capture triggers turn each write
 * into ops of the synced columns, in the same statement (see src/sdk/capture.ts). The engine
 * runs an edit inside its write transaction (or, in server-connected mode, captures its ops,
 * rolls it back and pushes them first).
 */
export type Edit<T> = (db: SqliteDatabase) => T;

function parse<T>(
  schema: {
    safeParse(
      v: unknown,
    ): { success: true; data: T } | { success: false; error: { issues: { message: string }[] } };
  },
  value: unknown,
  what: string,
): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new EngineError(
      "invalid_input",
      `${what}: ${parsed.error.issues[0]?.message ?? "invalid"}`,
      {},
    );
  }
  return parsed.data;
}

/**
 * Refuses text the server could never store (U+0000, a lone surrogate) before anything is
 * written. The capture check after the write cannot see a lone surrogate: SQLite's UTF-8
 * would already have turned it into U+FFFD.
 */
function storable(values: Record<string, string | null | undefined>): void {
  for (const [field, text] of Object.entries(values)) {
    const problem = typeof text === "string" ? unstorableStringProblem(text) : null;
    if (problem) {
      throw new EngineError("invalid_input", `this change cannot be synced: ${field} ${problem}`, {
        field,
      });
    }
  }
}

function requirePlaylist(db: SqliteDatabase, id: string): string {
  const name = findPlaylistName(db, id);
  if (name === null) throw notFound("playlist", id);
  return name;
}

function notFound(what: string, id: string): EngineError {
  return new EngineError("not_found", `no ${what} with id ${id}`, { what, id });
}

export function createPlaylist(name: string): Edit<{ id: string; name: string }> {
  const clean = parse(playlistNameSchema, name, "playlist name");
  storable({ name: clean });
  return (db) => {
    const id = randomUUID();
    const now = Date.now();
    db.prepare("INSERT INTO playlists (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)").run(
      id,
      clean,
      now,
      now,
    );
    return { id, name: clean };
  };
}

export function renamePlaylist(id: string, name: string): Edit<{ id: string; name: string }> {
  return (db) => {
    requirePlaylist(db, id);
    const clean = parse(playlistNameSchema, name, "playlist name");
    storable({ name: clean });
    db.prepare("UPDATE playlists SET name = ?, updated_at = ? WHERE id = ?").run(
      clean,
      Date.now(),
      id,
    );
    return { id, name: clean };
  };
}

/** Sets (or, with null, removes) a playlist's cover: a blob reference (src/blobs/). */
export function setPlaylistCover(
  id: string,
  cover: string | null,
): Edit<{ id: string; cover: string | null }> {
  return (db) => {
    requirePlaylist(db, id);
    db.prepare("UPDATE playlists SET cover = ?, updated_at = ? WHERE id = ?").run(
      cover,
      Date.now(),
      id,
    );
    return { id, cover };
  };
}

/** Deletes the playlist and its entries (so a later edit of the playlist does not revive them). */
export function deletePlaylist(id: string): Edit<{ id: string }> {
  return (db) => {
    requirePlaylist(db, id);
    const remove = db.prepare("DELETE FROM playlist_entries WHERE id = ?");
    for (const entry of allEntryRows(db, id)) remove.run(entry.id);
    db.prepare("DELETE FROM playlists WHERE id = ?").run(id);
    return { id };
  };
}

export function addTrack(input: NewTrack): Edit<{ id: string; title: string }> {
  const track = parse(newTrackSchema, input, "track");
  storable({ title: track.title, artist: track.artist, album: track.album });
  return (db) => {
    const id = randomUUID();
    const now = Date.now();
    db.prepare(
      `INSERT INTO tracks (id, title, artist, album, duration_ms, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      id,
      track.title,
      track.artist ?? null,
      track.album ?? null,
      track.durationMs ?? null,
      now,
      now,
    );
    return { id, title: track.title };
  };
}

export function deleteTrack(id: string): Edit<{ id: string }> {
  return (db) => {
    if (!findTrack(db, id)) throw notFound("track", id);
    db.prepare("DELETE FROM tracks WHERE id = ?").run(id);
    return { id };
  };
}

/**
 * Where `entryId` goes at `placement` among the other entries: usually one key between its
 * new neighbours (`{ key }`). When the neighbours share a key (two devices inserted at the
 * same place concurrently) or carry one that is not a valid index, there is no key between
 * them: the whole playlist is re-spaced (`{ respaced }`: the new key of every entry whose key
 * changes, the placed entry included).
 */
function placeEntry(
  db: SqliteDatabase,
  playlistId: string,
  entryId: string,
  placement: EntryPlacement,
): { key: string } | { key: string; respaced: Array<{ id: string; position: string }> } {
  const others = allEntryRows(db, playlistId).filter((entry) => entry.id !== entryId);
  const anchorId = placement.after ?? placement.before;
  let index = others.length;
  if (anchorId !== undefined) {
    const anchor = others.findIndex((entry) => entry.id === anchorId);
    if (anchor < 0) {
      throw new EngineError(
        "invalid_input",
        `entry ${anchorId} is not in playlist ${playlistId}; place the entry next to one of its own entries`,
        { anchorId, playlistId },
      );
    }
    index = placement.after !== undefined ? anchor + 1 : anchor;
  }
  const before = others[index - 1]?.position ?? null;
  const after = others[index]?.position ?? null;
  try {
    return { key: generateKeyBetween(before, after) };
  } catch {
    const ordered = [
      ...others.slice(0, index),
      { id: entryId, position: "" },
      ...others.slice(index),
    ];
    const keys = generateNKeysBetween(null, null, ordered.length);
    return {
      key: keys[index] as string,
      respaced: ordered.flatMap((entry, i) =>
        entry.id === entryId || entry.position === keys[i]
          ? []
          : [{ id: entry.id, position: keys[i] as string }],
      ),
    };
  }
}

function respace(db: SqliteDatabase, moves: Array<{ id: string; position: string }>): void {
  const move = db.prepare("UPDATE playlist_entries SET position = ?, updated_at = ? WHERE id = ?");
  for (const { id, position } of moves) move.run(position, Date.now(), id);
}

export function addEntry(
  playlistId: string,
  trackId: string,
  placement: EntryPlacement = {},
): Edit<{ id: string; playlistId: string; trackId: string }> {
  return (db) => {
    requirePlaylist(db, playlistId);
    if (!findTrack(db, trackId)) throw notFound("track", trackId);
    const where = parse(entryPlacementSchema, placement, "placement");
    const id = randomUUID();
    const placed = placeEntry(db, playlistId, id, where);
    const now = Date.now();
    db.prepare(
      `INSERT INTO playlist_entries (id, playlist_id, track_id, position, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
    ).run(id, playlistId, trackId, placed.key, now, now);
    if ("respaced" in placed) respace(db, placed.respaced);
    return { id, playlistId, trackId };
  };
}

export function moveEntry(entryId: string, placement: EntryPlacement): Edit<{ id: string }> {
  return (db) => {
    const entry = findEntry(db, entryId);
    if (!entry) throw notFound("entry", entryId);
    const where = parse(entryPlacementSchema, placement, "placement");
    const placed = placeEntry(db, entry.playlistId, entryId, where);
    respace(db, [
      { id: entryId, position: placed.key },
      ...("respaced" in placed ? placed.respaced : []),
    ]);
    return { id: entryId };
  };
}

export function removeEntry(entryId: string): Edit<{ id: string }> {
  return (db) => {
    if (!findEntry(db, entryId)) throw notFound("entry", entryId);
    db.prepare("DELETE FROM playlist_entries WHERE id = ?").run(entryId);
    return { id: entryId };
  };
}
