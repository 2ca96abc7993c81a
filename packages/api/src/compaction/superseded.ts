import { Prisma } from "@chorus/db";

/*
 * The SQL twin of @chorus/protocol's `compactionSurvivors` (the conflict rule, docs/design.md#conflict-rule): among a
 * user's ops with id < target, keep each entity's winning tombstone, its newest write when that
 * outlives the tombstone, and each field's winning write (an insert writes the fields of its
 * object value) when it outlives the tombstone. Everything else below target is superseded.
 * Versions compare as (lamport_ts, lower(device_id), lower(operation_id)) in byte order, exactly
 * like the protocol's compareVersions. Both ids are `uuid` columns, and PostgreSQL orders uuids
 * by their 16 bytes, which is the byte order of their canonical lower-case text (fixed-position
 * hyphens, and '0'-'9' sort before 'a'-'f' as the nibbles do): so the uuids are compared as
 * they are, without making 36-character strings of them for every row. The compaction tests
 * check the two against each other on random logs.
 *
 * What it costs is passing over a batch of ops, so (ADR 0034, ADR 0040):
 * - almost every op of a batch is a field write that a later write of the same field beats on
 *   its Lamport timestamp alone. `field_top` finds each field's highest timestamp in one hash
 *   aggregate straight over the batch (nothing materialised), and `ops` then keeps only the
 *   ops that may still survive: tombstones, writes that name no field, and field writes that
 *   carry their field's highest timestamp (about one per field; more when two devices wrote a
 *   field at the same timestamp). A field write below its field's top cannot win its field,
 *   cannot be its entity's newest write (the top write is newer) and is no tombstone, so
 *   leaving it out changes no maximum the rule below takes: the rule over `ops` keeps exactly
 *   what it keeps over the whole batch. Noops never survive. Before, every op of the batch was
 *   copied into `ops` and `field_writes` and went through the aggregate and a hash join, which
 *   took 2-3 times as long as deleting the rows;
 * - the aggregate names the top write without a join back: `hi` is the highest
 *   (lamport_ts, id) and `lo` the lowest id at the highest lamport_ts (as the minimum of
 *   (-lamport_ts, id)). When the two ids differ, writes tie on the field's top timestamp and
 *   `tied` fetches every write of that field at that timestamp (a hash join over the batch,
 *   which PostgreSQL skips when `tied` is empty); the device and operation ids then break the
 *   tie below. The candidates are fetched by id, one primary-key index scan;
 * - the grouping keys (entity, entity_id, field) compare in byte order (COLLATE "C"): grouping
 *   needs only equality, and the database's collation (strcoll) made each comparison costly;
 * - an insert's object value, the only value the rule looks into, is kept as `obj`; every
 *   other value is dropped;
 * - among the candidates, each field's winner is found by hashing, not sorting: MAX(lamport_ts)
 *   per field, then the writes that carry it, and only those are sorted to break ties on
 *   (device, operation);
 * - an entity's newest write is the winner of every field it writes, so it is found among the
 *   field winners and the few writes that name no field (a whole-entity set, an insert of a
 *   non-object or of {});
 * - the DELETE is an anti-join on `keep` (NOT EXISTS): `NOT IN (subquery)` becomes a per-row
 *   rescan of `keep` as soon as the planner expects more survivors than fit in work_mem, which
 *   took 49 s instead of 4 s for 200,000 ops.
 */
const survivorsCte = (userId: string, target: number) => Prisma.sql`
  field_top AS (
    SELECT entity COLLATE "C" AS entity, entity_id COLLATE "C" AS entity_id, field COLLATE "C" AS f,
           max(ARRAY[lamport_ts, id]) FILTER (WHERE field IS NOT NULL AND op IN ('set', 'insert')) AS hi,
           min(ARRAY[-lamport_ts, id]) FILTER (WHERE field IS NOT NULL AND op IN ('set', 'insert')) AS lo,
           array_agg(id) FILTER (WHERE op = 'delete' OR (field IS NULL AND op IN ('set', 'insert'))) AS others
      FROM sync_op
     WHERE user_id = ${userId}::uuid AND id < ${BigInt(target)}
     GROUP BY 1, 2, 3
  ),
  tied AS (
    SELECT entity, entity_id, f, hi[1] AS top FROM field_top WHERE hi[2] <> lo[2]
  ),
  ops AS MATERIALIZED (
    SELECT id, entity COLLATE "C" AS entity, entity_id COLLATE "C" AS entity_id,
           field COLLATE "C" AS field, op, lamport_ts, device_id AS dev, operation_id AS opid,
           CASE WHEN field IS NULL AND op = 'insert' AND jsonb_typeof(value) = 'object'
                THEN value END AS obj
      FROM sync_op
     WHERE user_id = ${userId}::uuid AND id < ${BigInt(target)}
       AND id = ANY(ARRAY(
         SELECT hi[2] FROM field_top WHERE hi IS NOT NULL
         UNION ALL
         SELECT unnest(others) FROM field_top WHERE others IS NOT NULL
         UNION ALL
         SELECT s.id FROM sync_op s
           JOIN tied t ON t.entity = s.entity COLLATE "C" AND t.entity_id = s.entity_id COLLATE "C"
                      AND t.f = s.field COLLATE "C" AND t.top = s.lamport_ts
          WHERE s.user_id = ${userId}::uuid AND s.id < ${BigInt(target)}
            AND s.op IN ('set', 'insert')
       ))
  ),
  tomb AS (
    SELECT DISTINCT ON (entity, entity_id) entity, entity_id, id, lamport_ts, dev, opid
      FROM ops WHERE op = 'delete'
     ORDER BY entity, entity_id, lamport_ts DESC, dev DESC, opid DESC
  ),
  field_writes AS MATERIALIZED (
    SELECT id, entity, entity_id, field AS f, lamport_ts, dev, opid
      FROM ops WHERE field IS NOT NULL AND op IN ('set', 'insert')
    UNION ALL
    SELECT w.id, w.entity, w.entity_id, k.f COLLATE "C", w.lamport_ts, w.dev, w.opid
      FROM ops w, LATERAL jsonb_object_keys(w.obj) AS k(f)
     WHERE w.obj IS NOT NULL
  ),
  field_max AS (
    SELECT entity, entity_id, f, max(lamport_ts) AS lamport_ts
      FROM field_writes
     GROUP BY entity, entity_id, f
  ),
  field_win AS (
    SELECT DISTINCT ON (entity, entity_id, f) entity, entity_id, id, lamport_ts, dev, opid
      FROM field_writes JOIN field_max USING (entity, entity_id, f, lamport_ts)
     ORDER BY entity, entity_id, f, dev DESC, opid DESC
  ),
  last_write AS (
    SELECT DISTINCT ON (entity, entity_id) entity, entity_id, id, lamport_ts, dev, opid
      FROM (
        SELECT entity, entity_id, id, lamport_ts, dev, opid FROM field_win
        UNION ALL
        SELECT entity, entity_id, id, lamport_ts, dev, opid FROM ops
         WHERE op IN ('set', 'insert') AND field IS NULL AND (obj IS NULL OR obj = '{}'::jsonb)
      ) candidates
     ORDER BY entity, entity_id, lamport_ts DESC, dev DESC, opid DESC
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
         AND NOT EXISTS (SELECT 1 FROM keep k WHERE k.id = s.id)
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
       AND NOT EXISTS (SELECT 1 FROM keep k WHERE k.id = s.id)`;
  return { ops: Number(rows[0]?.ops ?? 0), bytes: Number(rows[0]?.bytes ?? 0) };
}
