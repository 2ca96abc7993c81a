import type { OpInput } from "@chorus/protocol";
import type pg from "pg";

/**
 * The push of @chorus/api's pushOps through `pg` directly: the same one statement (the
 * `chorus_push_ops` function: advisory lock, idempotency, Lamport check, insert, Lamport
 * high-water mark), the same JSON parameter, the same shaping of the answer, through a
 * `pg.Pool` as hand-written SQL in the server would run it. This is the floor Prisma on the
 * push path is compared against.
 */
export interface RawPushResult {
  ids: number[];
}

type PushAnswer =
  | {
      kind: "ok";
      stored: { operationId: string; id: number; createdAt: string }[];
      duplicates: { operationId: string; id: number }[];
    }
  | { kind: "lamport_regression"; storedMax: number };

export async function rawPush(
  pool: pg.Pool,
  userId: string,
  deviceId: string,
  ops: OpInput[],
): Promise<RawPushResult> {
  const { rows } = await pool.query<{ answer: PushAnswer }>(
    "SELECT chorus_push_ops($1::uuid, $2::uuid, $3::jsonb) AS answer",
    [userId, deviceId, JSON.stringify(ops)],
  );
  const answer = rows[0]?.answer;
  if (!answer) throw new Error("chorus_push_ops returned nothing");
  if (answer.kind === "lamport_regression") {
    throw new Error(`lamport_regression: stored max ${answer.storedMax}`);
  }
  // The same shaping pushOps does (results in batch order; the ops it would publish).
  const stored = new Map(answer.stored.map((op) => [op.operationId, op]));
  const duplicates = new Map(answer.duplicates.map((op) => [op.operationId, op.id]));
  const ids: number[] = [];
  const inserted: unknown[] = [];
  for (const op of ops) {
    const fresh = stored.get(op.operationId);
    const id = fresh?.id ?? duplicates.get(op.operationId);
    if (id === undefined) throw new Error(`chorus_push_ops returned no id for ${op.operationId}`);
    ids.push(id);
    if (fresh) inserted.push({ ...op, id, deviceId, createdAt: fresh.createdAt });
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
