import type { OpInput } from "@chorus/protocol";
import type pg from "pg";

/**
 * The push of @chorus/api's pushOps through `pg` directly: the same one statement (the
 * `chorus_push_ops` function: advisory lock, key check, idempotency, Lamport check, insert,
 * Lamport high-water mark), the same typed-array parameters, the same shaping of the answer,
 * through a `pg.Pool` as hand-written SQL in the server would run it, prepared by name as
 * pushOps runs it. This is the floor pushOps on the push path is compared against.
 */
export interface RawPushResult {
  ids: number[];
}

interface PushAnswerRow {
  kind: string;
  stored_max: string | null;
  stored_ords: number[] | null;
  stored_ids: string[] | null;
  stored_ms: string[] | null;
  dup_ords: number[] | null;
  dup_ids: string[] | null;
}

export async function rawPush(
  pool: pg.Pool,
  userId: string,
  deviceId: string,
  ops: OpInput[],
): Promise<RawPushResult> {
  const { rows } = await pool.query<PushAnswerRow>({
    name: "raw_chorus_push_ops",
    text: `SELECT * FROM chorus_push_ops($1::uuid, $2::uuid, $3::uuid[], $4::bigint[], $5::text[],
                                         $6::text[], $7::text[], $8::text[], $9::jsonb, $10::int,
                                         $11::int, $12::boolean)`,
    values: [
      userId,
      deviceId,
      ops.map((op) => op.operationId),
      ops.map((op) => op.lamportTs),
      ops.map((op) => op.entity),
      ops.map((op) => op.entityId),
      ops.map((op) => op.field),
      ops.map((op) => op.op),
      JSON.stringify(ops.map((op) => op.value)),
      null,
      null,
      true,
    ],
  });
  const answer = rows[0];
  if (!answer) throw new Error("chorus_push_ops returned nothing");
  if (answer.kind !== "ok") throw new Error(`${answer.kind}: stored max ${answer.stored_max}`);
  // The same shaping pushOps does (results in batch order; the ops it would publish).
  const ids: number[] = new Array(ops.length);
  const inserted: unknown[] = [];
  const storedOrds = answer.stored_ords ?? [];
  for (let k = 0; k < storedOrds.length; k++) {
    const index = (storedOrds[k] as number) - 1;
    const id = Number(answer.stored_ids?.[k]);
    ids[index] = id;
    const op = ops[index] as OpInput;
    const createdAt = new Date(Number(answer.stored_ms?.[k])).toISOString();
    inserted.push({ ...op, id, deviceId, createdAt });
  }
  const dupOrds = answer.dup_ords ?? [];
  for (let k = 0; k < dupOrds.length; k++) {
    ids[(dupOrds[k] as number) - 1] = Number(answer.dup_ids?.[k]);
  }
  for (let index = 0; index < ops.length; index++) {
    if (ids[index] === undefined) throw new Error(`chorus_push_ops returned no id for op ${index}`);
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
