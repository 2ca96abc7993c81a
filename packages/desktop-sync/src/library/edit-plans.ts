import { randomUUID } from "node:crypto";
import { generateKeyBetween, generateNKeysBetween } from "fractional-indexing";
import {
  type EntryPlacement,
  entryPlacementSchema,
  type NewTrack,
  newTrackSchema,
  playlistNameSchema,
} from "../contract.js";
import { EngineError } from "../errors.js";
import type { OpDraft } from "../library-state.js";
import type { SqliteDatabase } from "../store/sqlite.js";
import { ENTITY } from "./domain.js";
import { allEntryRows, findEntry, findPlaylistName, findTrack } from "./read.js";

/*
 * Edit plans: each reads the current state and says which ops express the
 * edit (the drafts) and what to answer. The engine commits the drafts in the way its mode
 * requires (one local transaction with the queue, or a push first in server-connected mode).
 */
export interface Plan<T> {
  drafts: OpDraft[];
  result: T;
}

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

function requirePlaylist(db: SqliteDatabase, id: string): string {
  const name = findPlaylistName(db, id);
  if (name === null) throw notFound("playlist", id);
  return name;
}

function notFound(what: string, id: string): EngineError {
  return new EngineError("not_found", `no ${what} with id ${id}`, { what, id });
}

export function planCreatePlaylist(name: string): Plan<{ id: string; name: string }> {
  const clean = parse(playlistNameSchema, name, "playlist name");
  const id = randomUUID();
  return {
    drafts: [
      { entity: ENTITY.playlist, entityId: id, field: null, op: "insert", value: { name: clean } },
    ],
    result: { id, name: clean },
  };
}

export function planRenamePlaylist(
  db: SqliteDatabase,
  id: string,
  name: string,
): Plan<{ id: string; name: string }> {
  requirePlaylist(db, id);
  const clean = parse(playlistNameSchema, name, "playlist name");
  return {
    drafts: [{ entity: ENTITY.playlist, entityId: id, field: "name", op: "set", value: clean }],
    result: { id, name: clean },
  };
}

/** Deletes the playlist and its entries (so a later edit of the playlist does not revive them). */
export function planDeletePlaylist(db: SqliteDatabase, id: string): Plan<{ id: string }> {
  requirePlaylist(db, id);
  const drafts: OpDraft[] = allEntryRows(db, id).map((entry) => ({
    entity: ENTITY.entry,
    entityId: entry.id,
    field: null,
    op: "delete",
    value: null,
  }));
  drafts.push({ entity: ENTITY.playlist, entityId: id, field: null, op: "delete", value: null });
  return { drafts, result: { id } };
}

export function planAddTrack(input: NewTrack): Plan<{ id: string; title: string }> {
  const track = parse(newTrackSchema, input, "track");
  const id = randomUUID();
  return {
    drafts: [
      {
        entity: ENTITY.track,
        entityId: id,
        field: null,
        op: "insert",
        value: {
          title: track.title,
          artist: track.artist ?? null,
          album: track.album ?? null,
          duration_ms: track.durationMs ?? null,
        },
      },
    ],
    result: { id, title: track.title },
  };
}

export function planDeleteTrack(db: SqliteDatabase, id: string): Plan<{ id: string }> {
  if (!findTrack(db, id)) throw notFound("track", id);
  return {
    drafts: [{ entity: ENTITY.track, entityId: id, field: null, op: "delete", value: null }],
    result: { id },
  };
}

/**
 * Positions for putting `entryId` at `placement` among the other entries: usually one key
 * between its new neighbours. When the neighbours share a key (two devices inserted at the
 * same place concurrently) or carry one that is not a valid index, there is no key between
 * them: the whole playlist is re-spaced and every entry whose key changes gets a set op.
 */
function placeEntry(
  db: SqliteDatabase,
  playlistId: string,
  entryId: string,
  placement: EntryPlacement,
): OpDraft[] | string {
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
    return generateKeyBetween(before, after);
  } catch {
    const ordered = [
      ...others.slice(0, index),
      { id: entryId, position: "" },
      ...others.slice(index),
    ];
    const keys = generateNKeysBetween(null, null, ordered.length);
    return ordered.flatMap((entry, i) =>
      entry.position === keys[i]
        ? []
        : [
            {
              entity: ENTITY.entry,
              entityId: entry.id,
              field: "position",
              op: "set" as const,
              value: keys[i] ?? null,
            },
          ],
    );
  }
}

export function planAddEntry(
  db: SqliteDatabase,
  playlistId: string,
  trackId: string,
  placement: EntryPlacement = {},
): Plan<{ id: string; playlistId: string; trackId: string }> {
  requirePlaylist(db, playlistId);
  if (!findTrack(db, trackId)) throw notFound("track", trackId);
  const where = parse(entryPlacementSchema, placement, "placement");
  const id = randomUUID();
  const placed = placeEntry(db, playlistId, id, where);
  const insert = (position: string | null): OpDraft => ({
    entity: ENTITY.entry,
    entityId: id,
    field: null,
    op: "insert",
    value: { playlist_id: playlistId, track_id: trackId, position },
  });
  const drafts =
    typeof placed === "string"
      ? [insert(placed)]
      : [
          insert(placed.find((d) => d.entityId === id)?.value as string),
          ...placed.filter((d) => d.entityId !== id),
        ];
  return { drafts, result: { id, playlistId, trackId } };
}

export function planMoveEntry(
  db: SqliteDatabase,
  entryId: string,
  placement: EntryPlacement,
): Plan<{ id: string }> {
  const entry = findEntry(db, entryId);
  if (!entry) throw notFound("entry", entryId);
  const where = parse(entryPlacementSchema, placement, "placement");
  const placed = placeEntry(db, entry.playlistId, entryId, where);
  const drafts: OpDraft[] =
    typeof placed === "string"
      ? [{ entity: ENTITY.entry, entityId: entryId, field: "position", op: "set", value: placed }]
      : placed;
  return { drafts, result: { id: entryId } };
}

export function planRemoveEntry(db: SqliteDatabase, entryId: string): Plan<{ id: string }> {
  if (!findEntry(db, entryId)) throw notFound("entry", entryId);
  return {
    drafts: [{ entity: ENTITY.entry, entityId: entryId, field: null, op: "delete", value: null }],
    result: { id: entryId },
  };
}
