import type { JsonValue, SyncOp } from "@chorus/protocol";
import type { OverwrittenValue } from "../contract.js";
import type { SqliteDatabase } from "../store/sqlite.js";
import type { FieldContest } from "./registers.js";

/*
 * Overwritten values: the conflicts this device took part in, kept so the person who made an
 * edit can learn that it lost (and to what, from which device), and the reverse.
 *
 * A record is made when a REMOTE op (one the server sent, applied by LibraryState.applyRemote)
 * settles a field contest (src/lww/registers.ts, foldOp) against a value THIS device wrote:
 *   - 'lost': the remote op replaced the value written here (a newer stamp, or a local edit
 *     still waiting in the queue that loses on arrival of the other device's write);
 *   - 'won':  the remote op's value lost to the value written here (the other device's edit
 *     was overwritten by this one).
 * Contests between two other devices, this device's own ops coming back from the server, and
 * the folds of a rebuild (resync, server-connected load) record nothing: a rebuild replays
 * history that was already settled, not news.
 *
 * Bounded: each profile file keeps the newest OVERWRITTEN_KEEP records; older ones are
 * deleted as new ones arrive (dismissed or not).
 */

/** How many records a profile keeps (the newest). */
export const OVERWRITTEN_KEEP = 200;

/** Records this fold's contests that this device took part in; returns how many. */
export function recordContests(
  db: SqliteDatabase,
  op: SyncOp,
  contests: readonly FieldContest[],
  self: string,
  now: number,
): number {
  const me = self.toLowerCase();
  // This device's own op coming back: whatever it settles was recorded when the other arrived.
  if (op.deviceId.toLowerCase() === me || contests.length === 0) return 0;
  const insert = db.prepare(
    `INSERT INTO sync_overwritten (entity, entity_id, field, outcome, lost_value, lost_device,
       lost_ts, won_value, won_device, won_ts, server_op_id, recorded_at)
     VALUES (@entity, @entityId, @field, @outcome, @lostValue, @lostDevice, @lostTs,
       @wonValue, @wonDevice, @wonTs, @serverOpId, @recordedAt)`,
  );
  let recorded = 0;
  for (const contest of contests) {
    const lostHere = contest.loser.deviceId.toLowerCase() === me;
    const wonHere = contest.winner.deviceId.toLowerCase() === me;
    if (lostHere === wonHere) continue;
    insert.run({
      entity: op.entity,
      entityId: op.entityId,
      field: contest.field,
      outcome: lostHere ? "lost" : "won",
      lostValue: JSON.stringify(contest.loser.value),
      lostDevice: contest.loser.deviceId,
      lostTs: contest.loser.lamportTs,
      wonValue: JSON.stringify(contest.winner.value),
      wonDevice: contest.winner.deviceId,
      wonTs: contest.winner.lamportTs,
      serverOpId: op.id,
      recordedAt: now,
    });
    recorded += 1;
  }
  if (recorded > 0) trimOverwritten(db);
  return recorded;
}

/** Keeps the newest `keep` records. */
export function trimOverwritten(db: SqliteDatabase, keep = OVERWRITTEN_KEEP): void {
  db.prepare(
    `DELETE FROM sync_overwritten WHERE id <= (
       SELECT id FROM sync_overwritten ORDER BY id DESC LIMIT 1 OFFSET ?)`,
  ).run(keep);
}

export interface OverwrittenQuery {
  entity?: string | undefined;
  entityId?: string | undefined;
  field?: string | undefined;
  /** Also the records the user dismissed (default: only the ones still to be seen). */
  includeDismissed?: boolean | undefined;
  /** At most this many, newest first (default 50). */
  limit?: number | undefined;
}

interface Row {
  id: number;
  entity: string;
  entity_id: string;
  field: string;
  outcome: "lost" | "won";
  lost_value: string;
  lost_device: string;
  lost_ts: number;
  won_value: string;
  won_device: string;
  won_ts: number;
  recorded_at: number;
  dismissed_at: number | null;
  lost_name: string | null;
  won_name: string | null;
}

/** Records with the names of both devices (where the account listed them). */
const SELECT_RECORDS = `SELECT o.*, l.name AS lost_name, w.name AS won_name
  FROM sync_overwritten o
  LEFT JOIN sync_known_device l ON l.device_id = o.lost_device
  LEFT JOIN sync_known_device w ON w.device_id = o.won_device`;

/** The records, newest first, with the devices' names where the account listed them. */
export function listOverwritten(
  db: SqliteDatabase,
  self: string,
  query: OverwrittenQuery = {},
): OverwrittenValue[] {
  const where: string[] = [];
  const params: Record<string, unknown> = { limit: query.limit ?? 50 };
  if (!query.includeDismissed) where.push("o.dismissed_at IS NULL");
  if (query.entity !== undefined) {
    where.push("o.entity = @entity");
    params.entity = query.entity;
  }
  if (query.entityId !== undefined) {
    where.push("o.entity_id = @entityId");
    params.entityId = query.entityId;
  }
  if (query.field !== undefined) {
    where.push("o.field = @field");
    params.field = query.field;
  }
  const rows = db
    .prepare(
      `${SELECT_RECORDS}
        ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
        ORDER BY o.id DESC LIMIT @limit`,
    )
    .all(params) as Row[];
  const me = self.toLowerCase();
  return rows.map((row) => fromRow(row, me));
}

function fromRow(row: Row, me: string): OverwrittenValue {
  return {
    id: row.id,
    entity: row.entity,
    entityId: row.entity_id,
    field: row.field,
    outcome: row.outcome,
    lost: {
      value: JSON.parse(row.lost_value) as JsonValue,
      deviceId: row.lost_device,
      deviceName: row.lost_name,
      here: row.lost_device.toLowerCase() === me,
      lamportTs: row.lost_ts,
    },
    won: {
      value: JSON.parse(row.won_value) as JsonValue,
      deviceId: row.won_device,
      deviceName: row.won_name,
      here: row.won_device.toLowerCase() === me,
      lamportTs: row.won_ts,
    },
    at: new Date(row.recorded_at).toISOString(),
    dismissed: row.dismissed_at !== null,
  };
}

/** One record, dismissed or not (null: no record has this id, or it was trimmed). */
export function overwrittenRecord(
  db: SqliteDatabase,
  self: string,
  id: number,
): OverwrittenValue | null {
  const row = db.prepare(`${SELECT_RECORDS} WHERE o.id = ?`).get(id) as Row | undefined;
  return row ? fromRow(row, self.toLowerCase()) : null;
}

/** How many records wait to be seen. */
export function undismissedCount(db: SqliteDatabase): number {
  return db
    .prepare("SELECT COUNT(*) FROM sync_overwritten WHERE dismissed_at IS NULL")
    .pluck()
    .get() as number;
}

/** Marks records as seen (all of them without ids); returns how many changed. */
export function dismissOverwritten(
  db: SqliteDatabase,
  ids: readonly number[] | "all",
  now: number,
): number {
  if (ids === "all") {
    return db
      .prepare("UPDATE sync_overwritten SET dismissed_at = ? WHERE dismissed_at IS NULL")
      .run(now).changes;
  }
  const update = db.prepare(
    "UPDATE sync_overwritten SET dismissed_at = ? WHERE id = ? AND dismissed_at IS NULL",
  );
  return db.transaction(() => ids.reduce((n, id) => n + update.run(now, id).changes, 0))();
}

/** Device ids named in records that the known-device list does not name yet. */
export function unnamedDevices(db: SqliteDatabase): string[] {
  return db
    .prepare(
      `SELECT device FROM (SELECT lost_device AS device FROM sync_overwritten
                           UNION SELECT won_device FROM sync_overwritten)
        WHERE device NOT IN (SELECT device_id FROM sync_known_device)`,
    )
    .pluck()
    .all() as string[];
}

/** Stores the account's devices as the server listed them (names shown in records). */
export function rememberDevices(
  db: SqliteDatabase,
  devices: ReadonlyArray<{ id: string; name: string }>,
  now: number,
): void {
  const upsert = db.prepare(
    `INSERT INTO sync_known_device (device_id, name, listed_at) VALUES (?, ?, ?)
     ON CONFLICT (device_id) DO UPDATE SET name = excluded.name, listed_at = excluded.listed_at`,
  );
  db.transaction(() => {
    for (const device of devices) upsert.run(device.id, device.name, now);
  })();
}
