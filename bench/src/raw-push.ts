import type { OpInput } from "@chorus/protocol";
import type pg from "pg";

/**
 * The push transaction of @chorus/api's pushOps, statement for statement, through `pg`
 * directly: BEGIN; the user's advisory lock; one select of the idempotency matches, the
 * device's Lamport maximum and the user's newest id; the unnest insert (RETURNING the stored
 * rows) with the Lamport high-water mark in the same statement; COMMIT. This is the floor the
 * real push path is compared against.
 */
export interface RawPushResult {
  ids: number[];
}

interface StoredRow {
  id: string;
  device_id: string;
  operation_id: string;
  lamport_ts: string;
  entity: string;
  entity_id: string;
  field: string | null;
  op: string;
  value: unknown;
  created_at: Date;
}

export async function rawPush(
  client: pg.PoolClient,
  userId: string,
  deviceId: string,
  ops: OpInput[],
): Promise<RawPushResult> {
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [
      `chorus:user:${userId}`,
    ]);
    const state = await client.query<{
      stored_max: string | null;
      newest: string | null;
      existing: { o: string; i: string }[] | null;
    }>(
      `SELECT (SELECT max_ts FROM device_lamport WHERE device_id = $2::uuid) AS stored_max,
              (SELECT max(id) FROM sync_op WHERE user_id = $1::uuid) AS newest,
              (SELECT json_agg(json_build_object('o', operation_id, 'i', id::text))
                 FROM sync_op
                WHERE user_id = $1::uuid AND device_id = $2::uuid
                  AND operation_id = ANY($3::uuid[])) AS existing`,
      [userId, deviceId, ops.map((op) => op.operationId)],
    );
    const row = state.rows[0];
    const stored = new Map((row?.existing ?? []).map((e) => [e.o, Number(e.i)]));
    const fresh = ops.filter((op) => !stored.has(op.operationId));
    if (fresh.length > 0) {
      const storedMax = row?.stored_max ? Number(row.stored_max) : 0;
      if ((fresh[0] as OpInput).lamportTs <= storedMax) {
        throw new Error(`lamport_regression: stored max ${storedMax}`);
      }
      const inserted = await client.query<StoredRow>(
        `WITH inserted AS (
           INSERT INTO sync_op (user_id, device_id, operation_id, lamport_ts, entity, entity_id, field, op, value)
           SELECT $1::uuid, $2::uuid, o.operation_id, o.lamport_ts, o.entity, o.entity_id,
                  o.field, o.op::"SyncOpKind", o.value::jsonb
             FROM unnest($3::uuid[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
                  WITH ORDINALITY AS o(operation_id, lamport_ts, entity, entity_id, field, op, value, ord)
            ORDER BY o.ord
           RETURNING id, device_id, operation_id, lamport_ts, entity, entity_id, field, op, value, created_at
         ),
         lamport AS (
           INSERT INTO device_lamport (device_id, user_id, max_ts, updated_at)
           VALUES ($2::uuid, $1::uuid, $10, now())
           ON CONFLICT (device_id) DO UPDATE
             SET max_ts = GREATEST(device_lamport.max_ts, EXCLUDED.max_ts), updated_at = now()
         )
         SELECT * FROM inserted`,
        [
          userId,
          deviceId,
          fresh.map((op) => op.operationId),
          fresh.map((op) => op.lamportTs),
          fresh.map((op) => op.entity),
          fresh.map((op) => op.entityId),
          fresh.map((op) => op.field),
          fresh.map((op) => op.op),
          fresh.map((op) => JSON.stringify(op.value)),
          (fresh[fresh.length - 1] as OpInput).lamportTs,
        ],
      );
      // The same per-row shaping pushOps does for the bus event (wire ints, ISO dates).
      const wire = inserted.rows
        .map((r) => ({
          id: Number(r.id),
          deviceId: r.device_id,
          operationId: r.operation_id,
          lamportTs: Number(r.lamport_ts),
          entity: r.entity,
          entityId: r.entity_id,
          field: r.field,
          op: r.op,
          value: r.value ?? null,
          createdAt: r.created_at.toISOString(),
        }))
        .sort((a, b) => a.id - b.id);
      for (const op of wire) stored.set(op.operationId, op.id);
    }
    await client.query("COMMIT");
    return { ids: ops.map((op) => stored.get(op.operationId) as number) };
  } catch (error) {
    await client.query("ROLLBACK");
    throw error;
  }
}
