import type { Prisma, PrismaClient } from "@chorus/db";
import {
  type OpInput,
  type PushOpResult,
  type SyncOp,
  SyncProtocolError,
  syncError,
  toWireInt,
} from "@chorus/protocol";
import type { OpsEvent } from "./bus.js";

type Db = PrismaClient | Prisma.TransactionClient;

interface OpRow {
  id: bigint;
  device_id: string;
  operation_id: string;
  lamport_ts: bigint;
  entity: string;
  entity_id: string;
  field: string | null;
  op: SyncOp["op"];
  value: SyncOp["value"];
  created_at: Date;
}

function toSyncOp(row: OpRow): SyncOp {
  return {
    id: toWireInt(row.id),
    deviceId: row.device_id,
    operationId: row.operation_id,
    lamportTs: toWireInt(row.lamport_ts),
    entity: row.entity,
    entityId: row.entity_id,
    field: row.field,
    op: row.op,
    value: row.value ?? null,
    createdAt: row.created_at.toISOString(),
  };
}

export interface PushOutcome {
  results: PushOpResult[];
  maxId: number;
  /** What to publish after commit; null when every op was a duplicate. */
  event: OpsEvent | null;
  duplicates: number;
}

/**
 * One transaction per batch, under the user's advisory lock: (1) ops already stored are
 * reported with their existing id; (2) the new ops must be stamped above the device's stored
 * Lamport maximum, else the whole batch is refused; (3) insert in batch order. The lock makes a
 * user's ids become visible in id order: BIGSERIAL values are taken at insert, not at commit, so
 * without it a reader at id 101 could skip a late-committing id 100 forever.
 */
export async function pushOps(
  prisma: PrismaClient,
  userId: string,
  deviceId: string,
  ops: OpInput[],
): Promise<PushOutcome> {
  return await prisma.$transaction(
    async (tx) => {
      // Four statements in all (lock, read, write, commit): round trips are most of a push.
      await lockUser(tx, userId);
      const state = await readPushState(tx, userId, deviceId, ops);
      const stored = new Map(state.existing.map((row) => [row.operationId, row.id]));
      const fresh = ops.filter((op) => !stored.has(op.operationId));

      let event: OpsEvent | null = null;
      const first = fresh[0];
      if (first !== undefined) {
        if (first.lamportTs <= state.storedMax) {
          throw new SyncProtocolError(
            syncError("lamport_regression", { storedMax: state.storedMax }),
          );
        }
        const inserted = await insertOps(tx, userId, deviceId, fresh);
        for (const op of inserted) stored.set(op.operationId, op.id);
        event = { userId, afterId: state.newestId, ops: inserted };
      }

      const results = ops.map((op) => ({
        operationId: op.operationId,
        id: stored.get(op.operationId) as number,
        duplicate: !fresh.includes(op),
      }));
      return {
        results,
        maxId: Math.max(...results.map((r) => r.id)),
        event,
        duplicates: ops.length - fresh.length,
      };
    },
    { maxWait: 10_000, timeout: 20_000 },
  );
}

interface PushState {
  /** Ops of this batch already stored (idempotent retries). */
  existing: { operationId: string; id: number }[];
  /** The device's Lamport high-water mark (0 before its first push). */
  storedMax: number;
  /** The user's newest op id before this batch (0 when none). */
  newestId: number;
}

/** Everything push checks, in one statement (run after the user's lock is held). */
async function readPushState(
  tx: Prisma.TransactionClient,
  userId: string,
  deviceId: string,
  ops: OpInput[],
): Promise<PushState> {
  const [row] = await tx.$queryRaw<
    {
      stored_max: bigint | null;
      newest: bigint | null;
      existing: { o: string; i: string }[] | null;
    }[]
  >`
    SELECT (SELECT max_ts FROM device_lamport WHERE device_id = ${deviceId}::uuid) AS stored_max,
           (SELECT max(id) FROM sync_op WHERE user_id = ${userId}::uuid) AS newest,
           (SELECT json_agg(json_build_object('o', operation_id, 'i', id::text))
              FROM sync_op
             WHERE user_id = ${userId}::uuid AND device_id = ${deviceId}::uuid
               AND operation_id = ANY(${ops.map((op) => op.operationId)}::uuid[])) AS existing`;
  return {
    storedMax: row?.stored_max ? toWireInt(row.stored_max) : 0,
    newestId: row?.newest ? toWireInt(row.newest) : 0,
    existing: (row?.existing ?? []).map((e) => ({ operationId: e.o, id: toWireInt(BigInt(e.i)) })),
  };
}

/** The per-user lock push takes; compaction takes the same one. */
export async function lockUser(tx: Prisma.TransactionClient, userId: string): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`chorus:user:${userId}`}, 0))`;
}

/** The user's newest op id, 0 when none. */
export async function newestOpId(db: Db, userId: string): Promise<number> {
  const rows = await db.$queryRaw<{ newest: bigint | null }[]>`
    SELECT max(id) AS newest FROM sync_op WHERE user_id = ${userId}::uuid`;
  return rows[0]?.newest ? toWireInt(rows[0].newest) : 0;
}

async function insertOps(
  tx: Prisma.TransactionClient,
  userId: string,
  deviceId: string,
  ops: OpInput[],
): Promise<SyncOp[]> {
  // WITH ORDINALITY + ORDER BY: ids are handed out in batch order. The same statement raises
  // the device's Lamport high-water mark to the batch's last stamp.
  const last = ops[ops.length - 1] as OpInput;
  const rows = await tx.$queryRaw<OpRow[]>`
    WITH inserted AS (
      INSERT INTO sync_op (user_id, device_id, operation_id, lamport_ts, entity, entity_id, field, op, value)
      SELECT ${userId}::uuid, ${deviceId}::uuid, o.operation_id, o.lamport_ts, o.entity, o.entity_id,
             o.field, o.op::"SyncOpKind", o.value::jsonb
        FROM unnest(${ops.map((op) => op.operationId)}::uuid[],
                    ${ops.map((op) => BigInt(op.lamportTs))}::bigint[],
                    ${ops.map((op) => op.entity)}::text[],
                    ${ops.map((op) => op.entityId)}::text[],
                    ${ops.map((op) => op.field)}::text[],
                    ${ops.map((op) => op.op)}::text[],
                    ${ops.map((op) => JSON.stringify(op.value))}::text[])
             WITH ORDINALITY AS o(operation_id, lamport_ts, entity, entity_id, field, op, value, ord)
       ORDER BY o.ord
      RETURNING id, device_id, operation_id, lamport_ts, entity, entity_id, field, op, value, created_at
    ),
    lamport AS (
      INSERT INTO device_lamport (device_id, user_id, max_ts, updated_at)
      VALUES (${deviceId}::uuid, ${userId}::uuid, ${BigInt(last.lamportTs)}, now())
      ON CONFLICT (device_id) DO UPDATE
        SET max_ts = GREATEST(device_lamport.max_ts, EXCLUDED.max_ts), updated_at = now()
    )
    SELECT * FROM inserted`;
  return rows.map(toSyncOp).sort((a, b) => a.id - b.id);
}

/** The user's compaction watermark (0 when never compacted). */
export async function compactedUpTo(db: Db, userId: string): Promise<number> {
  const rows = await db.$queryRaw<{ compacted_up_to: bigint }[]>`
    SELECT compacted_up_to FROM sync_compaction_watermark WHERE user_id = ${userId}::uuid`;
  return rows[0] ? toWireInt(rows[0].compacted_up_to) : 0;
}

function resyncRequired(watermark: number): SyncProtocolError {
  return new SyncProtocolError(syncError("resync_required", { compactedUpTo: watermark }));
}

/**
 * The user's ops with id > since, ascending. The watermark and the ops are read in ONE
 * statement (one snapshot), so a compaction committing in between cannot delete ops this page
 * needed: a reader at `since` below the watermark may have missed deleted ops and must rebuild
 * from a full pull (since = 0 always works). A reader that has read in order from 0 — a full
 * resync paging on, or a subscription's own backfill after its first page — has every
 * surviving op below its position and skips the check (`checkWatermark: false`).
 */
export async function readOps(
  db: Db,
  userId: string,
  since: number,
  limit: number,
  options: { checkWatermark: boolean } = { checkWatermark: true },
): Promise<SyncOp[]> {
  const rows = await db.$queryRaw<(Partial<OpRow> & { watermark: bigint })[]>`
    SELECT w.watermark, o.*
      FROM (SELECT COALESCE((SELECT compacted_up_to FROM sync_compaction_watermark
                              WHERE user_id = ${userId}::uuid), 0) AS watermark) w
      LEFT JOIN LATERAL (
        SELECT id, device_id, operation_id, lamport_ts, entity, entity_id, field, op, value, created_at
          FROM sync_op
         WHERE user_id = ${userId}::uuid AND id > ${BigInt(since)}
         ORDER BY id
         LIMIT ${limit}) o ON true
     ORDER BY o.id`;
  const watermark = rows[0] ? toWireInt(rows[0].watermark) : 0;
  if (options.checkWatermark && since > 0 && since < watermark) throw resyncRequired(watermark);
  return rows.filter((row) => row.id != null).map((row) => toSyncOp(row as OpRow));
}
