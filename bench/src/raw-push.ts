import type { OpInput } from "@chorus/protocol";
import type pg from "pg";

/**
 * The push of @chorus/api's pushOps through `pg` directly: the same one statement (the
 * `chorus_push_ops` function: advisory lock, idempotency, Lamport check, insert, Lamport
 * high-water mark), the same JSON parameter, the same shaping of the returned rows. This is
 * the floor Prisma on the push path is compared against.
 */
export interface RawPushResult {
  ids: number[];
}

interface PushRow {
  kind: "stored" | "duplicate" | "lamport_regression";
  stored_max: string;
  operation_id: string;
  id: string;
  created_at: Date;
}

export async function rawPush(
  client: pg.PoolClient,
  userId: string,
  deviceId: string,
  ops: OpInput[],
): Promise<RawPushResult> {
  const { rows } = await client.query<PushRow>(
    "SELECT * FROM chorus_push_ops($1::uuid, $2::uuid, $3::jsonb)",
    [userId, deviceId, JSON.stringify(ops)],
  );
  if (rows[0]?.kind === "lamport_regression") {
    throw new Error(`lamport_regression: stored max ${rows[0].stored_max}`);
  }
  // The same shaping pushOps does (the ops it publishes: wire ints, ISO dates).
  const byOperation = new Map(rows.map((row) => [row.operation_id, row]));
  const ids: number[] = [];
  const inserted: unknown[] = [];
  for (const op of ops) {
    const row = byOperation.get(op.operationId);
    if (!row) throw new Error(`chorus_push_ops returned no row for ${op.operationId}`);
    const id = Number(row.id);
    ids.push(id);
    if (row.kind === "stored") {
      inserted.push({ ...op, id, deviceId, createdAt: row.created_at.toISOString() });
    }
  }
  return { ids };
}

/**
 * The floor for push throughput: the same rows inserted with one `pg` unnest INSERT
 * (autocommit), with no lock, no idempotency and no Lamport check.
 */
export async function rawUnnestInsert(
  client: pg.PoolClient,
  userId: string,
  deviceId: string,
  ops: OpInput[],
): Promise<RawPushResult> {
  const { rows } = await client.query<{ id: string }>(
    `INSERT INTO sync_op (user_id, device_id, operation_id, lamport_ts, entity, entity_id, field, op, value)
     SELECT $1::uuid, $2::uuid, o.operation_id, o.lamport_ts, o.entity, o.entity_id, o.field,
            o.op::"SyncOpKind", o.value::jsonb
       FROM unnest($3::uuid[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
            AS o(operation_id, lamport_ts, entity, entity_id, field, op, value)
     RETURNING id`,
    [
      userId,
      deviceId,
      ops.map((op) => op.operationId),
      ops.map((op) => op.lamportTs),
      ops.map((op) => op.entity),
      ops.map((op) => op.entityId),
      ops.map((op) => op.field),
      ops.map((op) => op.op),
      ops.map((op) => JSON.stringify(op.value)),
    ],
  );
  return { ids: rows.map((row) => Number(row.id)) };
}
