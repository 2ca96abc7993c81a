import { Prisma } from "@chorus/db";

/*
 * The SQL twin of @chorus/protocol's `compactionSurvivors` (the conflict rule, docs/design.md#conflict-rule): among a
 * user's ops with id < target, keep each entity's winning tombstone, its newest write when that
 * outlives the tombstone, and each field's winning write (an insert writes the fields of its
 * object value) when it outlives the tombstone. Everything else below target is superseded.
 * Versions compare as (lamport_ts, lower(device_id), lower(operation_id)) in byte order
 * (COLLATE "C"), exactly like the protocol's compareVersions. The compaction tests check the
 * two against each other on random logs.
 */
const survivorsCte = (userId: string, target: number) => Prisma.sql`
  ops AS (
    SELECT id, entity, entity_id, field, op, value, lamport_ts,
           lower(device_id::text) COLLATE "C" AS dev, lower(operation_id::text) COLLATE "C" AS opid
      FROM sync_op
     WHERE user_id = ${userId}::uuid AND id < ${BigInt(target)}
  ),
  tomb AS (
    SELECT DISTINCT ON (entity, entity_id) entity, entity_id, id, lamport_ts, dev, opid
      FROM ops WHERE op = 'delete'
     ORDER BY entity, entity_id, lamport_ts DESC, dev DESC, opid DESC
  ),
  writes AS (SELECT * FROM ops WHERE op IN ('set', 'insert')),
  last_write AS (
    SELECT DISTINCT ON (entity, entity_id) entity, entity_id, id, lamport_ts, dev, opid
      FROM writes
     ORDER BY entity, entity_id, lamport_ts DESC, dev DESC, opid DESC
  ),
  field_writes AS (
    SELECT id, entity, entity_id, field AS f, lamport_ts, dev, opid FROM writes WHERE field IS NOT NULL
    UNION ALL
    SELECT w.id, w.entity, w.entity_id, k.f, w.lamport_ts, w.dev, w.opid
      FROM writes w, LATERAL jsonb_object_keys(w.value) AS k(f)
     WHERE w.field IS NULL AND w.op = 'insert' AND jsonb_typeof(w.value) = 'object'
  ),
  field_win AS (
    SELECT DISTINCT ON (entity, entity_id, f) entity, entity_id, id, lamport_ts, dev, opid
      FROM field_writes
     ORDER BY entity, entity_id, f, lamport_ts DESC, dev DESC, opid DESC
  ),
  keep AS (
    SELECT id FROM tomb
    UNION
    SELECT w.id FROM last_write w LEFT JOIN tomb t USING (entity, entity_id)
     WHERE t.id IS NULL OR (w.lamport_ts, w.dev, w.opid) > (t.lamport_ts, t.dev, t.opid)
    UNION
    SELECT w.id FROM field_win w LEFT JOIN tomb t USING (entity, entity_id)
     WHERE t.id IS NULL OR (w.lamport_ts, w.dev, w.opid) > (t.lamport_ts, t.dev, t.opid)
  )`;

export interface SupersededSummary {
  ops: number;
  bytes: number;
}

/** Deletes the user's superseded ops below target; returns how many and their size. */
export async function deleteSuperseded(
  tx: Prisma.TransactionClient,
  userId: string,
  target: number,
): Promise<SupersededSummary> {
  const rows = await tx.$queryRaw<{ ops: bigint; bytes: bigint | null }[]>`
    WITH ${survivorsCte(userId, target)},
    deleted AS (
      DELETE FROM sync_op s
       WHERE s.user_id = ${userId}::uuid AND s.id < ${BigInt(target)}
         AND s.id NOT IN (SELECT id FROM keep)
      RETURNING pg_column_size(s.*) AS size
    )
    SELECT count(*) AS ops, sum(size) AS bytes FROM deleted`;
  return { ops: Number(rows[0]?.ops ?? 0), bytes: Number(rows[0]?.bytes ?? 0) };
}

/** What deleteSuperseded would delete, without deleting it (dry run). */
export async function countSuperseded(
  db: Prisma.TransactionClient,
  userId: string,
  target: number,
): Promise<SupersededSummary> {
  const rows = await db.$queryRaw<{ ops: bigint; bytes: bigint | null }[]>`
    WITH ${survivorsCte(userId, target)}
    SELECT count(*) AS ops, sum(pg_column_size(s.*)) AS bytes
      FROM sync_op s
     WHERE s.user_id = ${userId}::uuid AND s.id < ${BigInt(target)}
       AND s.id NOT IN (SELECT id FROM keep)`;
  return { ops: Number(rows[0]?.ops ?? 0), bytes: Number(rows[0]?.bytes ?? 0) };
}
