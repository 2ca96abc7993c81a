import type { OpInput } from "@chorus/protocol";
import type pg from "pg";

/**
 * The push transaction of @chorus/api's pushOps, statement for statement, through `pg`
 * directly: BEGIN; the user's advisory lock; the idempotency select; the device's Lamport
 * maximum; the user's newest id; the unnest insert (RETURNING the stored rows); the Lamport
 * high-water mark; COMMIT. This is the floor the real push path is compared against.
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
    const existing = await client.query<{ operation_id: string; id: string }>(
      `SELECT operation_id, id FROM sync_op
        WHERE user_id = $1::uuid AND device_id = $2::uuid AND operation_id = ANY($3::uuid[])`,
      [userId, deviceId, ops.map((op) => op.operationId)],
    );
    const stored = new Map(existing.rows.map((row) => [row.operation_id, Number(row.id)]));
    const fresh = ops.filter((op) => !stored.has(op.operationId));
    if (fresh.length > 0) {
      const max = await client.query<{ max_ts: string }>(
        "SELECT max_ts FROM device_lamport WHERE device_id = $1::uuid",
        [deviceId],
      );
      const storedMax = max.rows[0] ? Number(max.rows[0].max_ts) : 0;
      if ((fresh[0] as OpInput).lamportTs <= storedMax) {
        throw new Error(`lamport_regression: stored max ${storedMax}`);
      }
      await client.query("SELECT max(id) AS newest FROM sync_op WHERE user_id = $1::uuid", [
        userId,
      ]);
      const inserted = await client.query<StoredRow>(
        `INSERT INTO sync_op (user_id, device_id, operation_id, lamport_ts, entity, entity_id, field, op, value)
         SELECT $1::uuid, $2::uuid, o.operation_id, o.lamport_ts, o.entity, o.entity_id,
                o.field, o.op::"SyncOpKind", o.value::jsonb
           FROM unnest($3::uuid[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
                WITH ORDINALITY AS o(operation_id, lamport_ts, entity, entity_id, field, op, value, ord)
          ORDER BY o.ord
         RETURNING id, device_id, operation_id, lamport_ts, entity, entity_id, field, op, value, created_at`,
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
        ],
      );
      // The same per-row shaping pushOps does for the bus event (wire ints, ISO dates).
      const wire = inserted.rows
        .map((row) => ({
          id: Number(row.id),
          deviceId: row.device_id,
          operationId: row.operation_id,
          lamportTs: Number(row.lamport_ts),
          entity: row.entity,
          entityId: row.entity_id,
          field: row.field,
          op: row.op,
          value: row.value ?? null,
          createdAt: row.created_at.toISOString(),
        }))
        .sort((a, b) => a.id - b.id);
      for (const op of wire) stored.set(op.operationId, op.id);
      await client.query(
        `INSERT INTO device_lamport (device_id, user_id, max_ts, updated_at)
         VALUES ($1::uuid, $2::uuid, $3, now())
         ON CONFLICT (device_id) DO UPDATE
           SET max_ts = GREATEST(device_lamport.max_ts, EXCLUDED.max_ts), updated_at = now()`,
        [deviceId, userId, (fresh[fresh.length - 1] as OpInput).lamportTs],
      );
    }
    await client.query("COMMIT");
    return { ids: ops.map((op) => stored.get(op.operationId) as number) };
  } catch (error) {
    await client.query("ROLLBACK");
    throw error;
  }
}
