import { randomUUID } from "node:crypto";
import { type JsonValue, jsonByteLength, MAX_BATCH_BYTES, type OpInput } from "@chorus/protocol";
import type { LamportClock } from "./clock.js";
import type { SqliteDatabase } from "./store/sqlite.js";

/**
 * The pending queue (sync_pending_op): local ops the server has not acknowledged yet, in
 * FIFO order (AUTOINCREMENT id). Every function here runs inside the caller's transaction.
 */
export interface PendingOp extends OpInput {
  readonly id: number;
  readonly createdAt: number;
  readonly attemptCount: number;
  readonly lastAttemptAt: number | null;
  readonly lastError: string | null;
}

interface PendingRow {
  id: number;
  operation_id: string;
  lamport_ts: number;
  entity: string;
  entity_id: string;
  field: string | null;
  op: OpInput["op"];
  value: string | null;
  created_at: number;
  attempt_count: number;
  last_attempt_at: number | null;
  last_error: string | null;
}

function fromRow(row: PendingRow): PendingOp {
  return {
    ...opFromRow(row),
    id: row.id,
    createdAt: row.created_at,
    attemptCount: row.attempt_count,
    lastAttemptAt: row.last_attempt_at,
    lastError: row.last_error,
  };
}

export function toOpInput(op: PendingOp): OpInput {
  return {
    operationId: op.operationId,
    lamportTs: op.lamportTs,
    entity: op.entity,
    entityId: op.entityId,
    field: op.field,
    op: op.op,
    value: op.value,
  };
}

export function enqueue(db: SqliteDatabase, op: OpInput, now: number): void {
  db.prepare(
    `INSERT INTO sync_pending_op (operation_id, lamport_ts, entity, entity_id, field, op, value, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    op.operationId,
    op.lamportTs,
    op.entity,
    op.entityId,
    op.field,
    op.op,
    op.value === null ? null : JSON.stringify(op.value),
    now,
  );
}

export function allPending(db: SqliteDatabase): PendingOp[] {
  return (db.prepare("SELECT * FROM sync_pending_op ORDER BY id").all() as PendingRow[]).map(
    fromRow,
  );
}

/** The oldest queued ops, at most `limit` (what diagnostics lists as still waiting). */
export function oldestPending(db: SqliteDatabase, limit: number): PendingOp[] {
  return (
    db.prepare("SELECT * FROM sync_pending_op ORDER BY id LIMIT ?").all(limit) as PendingRow[]
  ).map(fromRow);
}

/**
 * The oldest ops, at most `maxOps` of them and no more than fit in one push by bytes
 * (`maxBytes`, by default MAX_BATCH_BYTES, with room for the envelope).
 */
export function nextBatch(
  db: SqliteDatabase,
  maxOps: number,
  maxBytes: number = MAX_BATCH_BYTES,
): PendingOp[] {
  const rows = db
    .prepare("SELECT * FROM sync_pending_op ORDER BY id LIMIT ?")
    .all(maxOps) as PendingRow[];
  const batch: PendingOp[] = [];
  let bytes = 64;
  for (const row of rows) {
    const op = fromRow(row);
    bytes += jsonByteLength(toOpInput(op)) + 1;
    if (batch.length > 0 && bytes > maxBytes) break;
    batch.push(op);
  }
  return batch;
}

export function markAttempt(
  db: SqliteDatabase,
  ids: readonly number[],
  error: string,
  now: number,
): void {
  const mark = db.prepare(
    `UPDATE sync_pending_op SET attempt_count = attempt_count + 1, last_attempt_at = ?, last_error = ?
     WHERE id = ?`,
  );
  for (const id of ids) mark.run(now, error, id);
}

/** Deletes the ops the server has stored (each push result names one). */
export function removeAcknowledged(db: SqliteDatabase, operationIds: readonly string[]): number {
  const remove = db.prepare("DELETE FROM sync_pending_op WHERE operation_id = ?");
  let removed = 0;
  for (const id of operationIds) removed += remove.run(id).changes;
  return removed;
}

export function pendingCount(db: SqliteDatabase): number {
  return db.prepare("SELECT COUNT(*) FROM sync_pending_op").pluck().get() as number;
}

export function oldestPendingAt(db: SqliteDatabase): number | null {
  const value = db.prepare("SELECT MIN(created_at) FROM sync_pending_op").pluck().get();
  return typeof value === "number" ? value : null;
}

export function clearQueue(db: SqliteDatabase): void {
  db.prepare("DELETE FROM sync_pending_op").run();
}

/**
 * After a lamport_regression: gives every pending op, oldest first, a fresh timestamp from
 * the clock (already raised above the server's stored maximum) and a fresh operation id.
 *
 * Why a fresh id too: an op of a refused batch may have been stored by an earlier attempt
 * whose answer was lost. Re-sent under its old id, the server would keep the old timestamp
 * while this device folds the new one, and the two would disagree on who wins. Under a new
 * id both copies are stored, every device folds both, and the newer one wins everywhere.
 * Returns the re-stamped ops, for the caller to fold into its registers.
 */
export function restampPending(db: SqliteDatabase, clock: LamportClock): PendingOp[] {
  const update = db.prepare(
    "UPDATE sync_pending_op SET lamport_ts = ?, operation_id = ? WHERE id = ?",
  );
  const restamped: PendingOp[] = [];
  for (const op of allPending(db)) {
    const lamportTs = clock.next();
    const operationId = randomUUID();
    update.run(lamportTs, operationId, op.id);
    restamped.push({ ...op, lamportTs, operationId });
  }
  return restamped;
}

/** An op the server refused for good, set aside with the reason (see sync_quarantined_op). */
export interface QuarantinedOp {
  readonly operationId: string;
  readonly entity: string;
  readonly entityId: string;
  readonly field: string | null;
  readonly op: string;
  readonly reason: string;
  /** When it was set aside (ms since the epoch). */
  readonly quarantinedAt: number;
}

/**
 * Moves queued ops the server refused for good out of the queue, with the reason: the rest
 * of the queue flows on, and diagnostics show what was set aside and why.
 */
export function quarantine(
  db: SqliteDatabase,
  refused: ReadonlyArray<{ id: number; reason: string }>,
  now: number,
): number {
  const copy = db.prepare(
    `INSERT OR REPLACE INTO sync_quarantined_op
       (id, operation_id, lamport_ts, entity, entity_id, field, op, value, created_at, quarantined_at, reason)
     SELECT id, operation_id, lamport_ts, entity, entity_id, field, op, value, created_at, ?, ?
       FROM sync_pending_op WHERE id = ?`,
  );
  const remove = db.prepare("DELETE FROM sync_pending_op WHERE id = ?");
  let moved = 0;
  for (const { id, reason } of refused) {
    copy.run(now, reason, id);
    moved += remove.run(id).changes;
  }
  return moved;
}

export function quarantinedCount(db: SqliteDatabase): number {
  return db.prepare("SELECT COUNT(*) FROM sync_quarantined_op").pluck().get() as number;
}

/** The newest quarantined ops first, at most `limit`. */
export function quarantinedOps(db: SqliteDatabase, limit = 20): QuarantinedOp[] {
  const rows = db
    .prepare(
      `SELECT operation_id, entity, entity_id, field, op, reason, quarantined_at
         FROM sync_quarantined_op ORDER BY quarantined_at DESC, id DESC LIMIT ?`,
    )
    .all(limit) as Array<{
    operation_id: string;
    entity: string;
    entity_id: string;
    field: string | null;
    op: string;
    reason: string;
    quarantined_at: number;
  }>;
  return rows.map((row) => ({
    operationId: row.operation_id,
    entity: row.entity,
    entityId: row.entity_id,
    field: row.field,
    op: row.op,
    reason: row.reason,
    quarantinedAt: row.quarantined_at,
  }));
}

const OP_COLUMNS = "operation_id, lamport_ts, entity, entity_id, field, op, value";
type OpRow = Pick<
  PendingRow,
  "operation_id" | "lamport_ts" | "entity" | "entity_id" | "field" | "op" | "value"
>;

function opFromRow(row: OpRow): OpInput {
  return {
    operationId: row.operation_id,
    lamportTs: row.lamport_ts,
    entity: row.entity,
    entityId: row.entity_id,
    field: row.field,
    op: row.op,
    value: row.value === null ? null : (JSON.parse(row.value) as JsonValue),
  };
}

/** Where an op of this device waits: still queued, or set aside after a refusal for good. */
export type QueuedPlace = "pending" | "quarantined";

/** The op with this operation id, in the queue or in quarantine (null: neither holds it). */
export function findQueued(
  db: SqliteDatabase,
  operationId: string,
): { place: QueuedPlace; op: OpInput } | null {
  for (const place of ["pending", "quarantined"] as const) {
    const table = place === "pending" ? "sync_pending_op" : "sync_quarantined_op";
    const row = db
      .prepare(`SELECT ${OP_COLUMNS} FROM ${table} WHERE operation_id = ?`)
      .get(operationId) as OpRow | undefined;
    if (row) return { place, op: opFromRow(row) };
  }
  return null;
}

/**
 * Puts a quarantined op back in the queue, at the place it had (its queue id, so the FIFO
 * order of the device's edits holds), with its stamp and operation id and no failed attempts:
 * the next drain pushes it again. Returns false when quarantine does not hold it.
 */
export function requeueQuarantined(db: SqliteDatabase, operationId: string): boolean {
  const moved = db
    .prepare(
      `INSERT INTO sync_pending_op
         (id, operation_id, lamport_ts, entity, entity_id, field, op, value, created_at)
       SELECT id, operation_id, lamport_ts, entity, entity_id, field, op, value, created_at
         FROM sync_quarantined_op WHERE operation_id = ?`,
    )
    .run(operationId).changes;
  if (moved === 0) return false;
  db.prepare("DELETE FROM sync_quarantined_op WHERE operation_id = ?").run(operationId);
  return true;
}

/** Deletes the op from the queue or from quarantine; returns how many rows went (0 or 1). */
export function removeQueued(db: SqliteDatabase, operationId: string): number {
  return (
    db.prepare("DELETE FROM sync_pending_op WHERE operation_id = ?").run(operationId).changes +
    db.prepare("DELETE FROM sync_quarantined_op WHERE operation_id = ?").run(operationId).changes
  );
}

/** Every quarantined op, oldest first, as made (to fold again after a rebuild). */
export function allQuarantined(db: SqliteDatabase): OpInput[] {
  return (
    db.prepare(`SELECT ${OP_COLUMNS} FROM sync_quarantined_op ORDER BY id`).all() as OpRow[]
  ).map(opFromRow);
}

/** The ops queued after queue id `afterId`, oldest first (what one write captured). */
export function pendingAfter(db: SqliteDatabase, afterId: number): PendingOp[] {
  return (
    db
      .prepare("SELECT * FROM sync_pending_op WHERE id > ? ORDER BY id")
      .all(afterId) as PendingRow[]
  ).map(fromRow);
}

/** The newest queue id (0 for a queue that never held an op). */
export function lastPendingId(db: SqliteDatabase): number {
  return db
    .prepare("SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'sync_pending_op'), 0)")
    .pluck()
    .get() as number;
}
