-- Push idempotency per (user, operation id), not per (user, device, operation id)
-- (docs/adr/0017-push-idempotency-per-operation.md).
--
-- Operation ids are UUIDs the device makes. A profile bound again to the same account under a
-- new device id (after a revocation) keeps its queue and uploads it renamed to the new device
-- id; an op of that queue whose first push was stored but never answered was stored a second
-- time under the new device, because the key named the device. Keyed by (user, operation id),
-- the re-sent op is a duplicate and is answered with the id its first copy got.

-- 1. Existing duplicates (the same operation of one user stored under several device ids):
-- the first copy (lowest id) is kept, the later copies are deleted. Every copy is the same
-- edit (same operation id, Lamport stamp, entity, field and value; only the device id
-- differs), and every device that read the later copy had read the first one before it (ids
-- become visible in id order), so deleting them loses no edit. The per-user lock is not
-- needed: the unique index below takes a lock that blocks pushes until this commits.
DELETE FROM "sync_op" AS later
 USING "sync_op" AS first
 WHERE later."user_id" = first."user_id"
   AND later."operation_id" = first."operation_id"
   AND later."id" > first."id";

-- 2. The key.
DROP INDEX "sync_op_user_id_device_id_operation_id_key";
CREATE UNIQUE INDEX "sync_op_user_id_operation_id_key" ON "sync_op"("user_id", "operation_id");

-- 3. The push: the same function as 20261123000000_push_ops_function with the key changed in
-- its ON CONFLICT, its op-by-op lookup and its duplicate report.
--
-- p_ops: the batch as a JSON array, in batch order, of
--   {"operationId", "lamportTs", "entity", "entityId", "field", "op", "value"}
-- (the protocol's OpInput, validated by the caller); "value" is stored as the JSON it is, so a
-- set to null stores JSON null.
--
-- Returns one JSON object (one value to decode instead of a row per op):
--   {"kind": "ok", "newestBefore", "storedMax",
--    "stored":     [{"operationId", "id", "createdAt"}, ...]   inserted now, ascending id;
--    "duplicates": [{"operationId", "id"}, ...]}              stored by an earlier push, by
--                                                            this device or another of the user;
-- or, and then nothing was written:
--   {"kind": "lamport_regression", "newestBefore", "storedMax"}
--   (the first op not stored yet is not above the device's maximum).
-- newestBefore: the user's newest op id before this batch (0 when none); storedMax: the
-- device's Lamport high-water mark before this batch (0 when none); createdAt: ISO 8601 UTC
-- with milliseconds, as the protocol carries it.
CREATE OR REPLACE FUNCTION "chorus_push_ops"(p_user_id UUID, p_device_id UUID, p_ops JSONB)
RETURNS JSONB
LANGUAGE plpgsql
VOLATILE
-- A push never waits longer than this for the user's lock (or a row lock): it fails (SQLSTATE
-- 55P03) and the device retries with backoff, as it did when a transaction timed out.
SET lock_timeout = '20s'
AS $$
DECLARE
    v_stored_max BIGINT;
    v_newest BIGINT;
    v_first_fresh_ts BIGINT;
    v_inserted INTEGER;
    v_stored JSONB;
    v_duplicates JSONB := '[]'::jsonb;
BEGIN
    -- 3. ids of one user become visible in id order: the per-user lock (compaction takes it too).
    PERFORM pg_advisory_xact_lock(hashtextextended('chorus:user:' || p_user_id::text, 0));

    SELECT COALESCE(max(s.id), 0) INTO v_newest FROM sync_op s WHERE s.user_id = p_user_id;
    SELECT COALESCE(max(l.max_ts), 0) INTO v_stored_max
      FROM device_lamport l WHERE l.device_id = p_device_id;

    -- A stored op of this device never has a stamp above the device's maximum, and an op
    -- stored under another device id (a profile re-bound after a revocation re-sends its queue
    -- under its new id) is not inserted again whatever its stamp. So when every stamp of the
    -- batch is above the maximum (a first attempt: nearly every push), no op can fail the
    -- Lamport check, and the insert's ON CONFLICT on (user, operation_id) is the idempotency
    -- check. Only a batch with a stamp at or below the maximum (a retry, or a reset device) is
    -- looked up op by op first.
    IF (SELECT min((e.op->>'lamportTs')::bigint) FROM jsonb_array_elements(p_ops) AS e(op))
       <= v_stored_max THEN
        -- 2. the first op not stored yet (by any device of the user), in batch order, must be
        -- above the device's maximum.
        SELECT (e.op->>'lamportTs')::bigint INTO v_first_fresh_ts
          FROM jsonb_array_elements(p_ops) WITH ORDINALITY AS e(op, ord)
         WHERE NOT EXISTS (SELECT 1 FROM sync_op s
                            WHERE s.user_id = p_user_id
                              AND s.operation_id = (e.op->>'operationId')::uuid)
         ORDER BY e.ord
         LIMIT 1;
        IF v_first_fresh_ts IS NOT NULL AND v_first_fresh_ts <= v_stored_max THEN
            RETURN jsonb_build_object('kind', 'lamport_regression', 'newestBefore', v_newest,
                                      'storedMax', v_stored_max);
        END IF;
    END IF;

    -- 3. insert the new ops in batch order (WITH ORDINALITY + ORDER BY: ids follow the batch),
    -- and raise the device's Lamport high-water mark to the last of them. Only ops inserted
    -- now raise it: an op stored under another device id counts toward that device's mark.
    WITH inserted AS (
        INSERT INTO sync_op (user_id, device_id, operation_id, lamport_ts, entity, entity_id,
                             field, op, value)
        SELECT p_user_id, p_device_id, (e.op->>'operationId')::uuid,
               (e.op->>'lamportTs')::bigint, e.op->>'entity', e.op->>'entityId',
               e.op->>'field', (e.op->>'op')::"SyncOpKind", e.op->'value'
          FROM jsonb_array_elements(p_ops) WITH ORDINALITY AS e(op, ord)
         ORDER BY e.ord
        ON CONFLICT (user_id, operation_id) DO NOTHING
        RETURNING sync_op.operation_id, sync_op.lamport_ts, sync_op.id, sync_op.created_at
    ),
    lamport AS (
        INSERT INTO device_lamport (device_id, user_id, max_ts, updated_at)
        SELECT p_device_id, p_user_id, max(i.lamport_ts), now() FROM inserted i
        HAVING count(*) > 0
        ON CONFLICT (device_id) DO UPDATE
           SET max_ts = GREATEST(device_lamport.max_ts, EXCLUDED.max_ts),
               updated_at = now()
    )
    SELECT COALESCE(jsonb_agg(jsonb_build_object(
               'operationId', i.operation_id,
               'id', i.id,
               'createdAt', to_char(i.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
             ORDER BY i.id), '[]'::jsonb),
           count(*)
      INTO v_stored, v_inserted
      FROM inserted i;

    -- 1. idempotency: ops stored by an earlier push (the insert above skipped them), under this
    -- device id or another of the user's, are reported with their stored id. Those committed
    -- before the lock was taken, so their ids are at most v_newest; the rows inserted just now
    -- are above it.
    IF v_inserted < jsonb_array_length(p_ops) THEN
        SELECT COALESCE(jsonb_agg(jsonb_build_object('operationId', s.operation_id, 'id', s.id)),
                        '[]'::jsonb)
          INTO v_duplicates
          FROM sync_op s
         WHERE s.user_id = p_user_id
           AND s.operation_id IN (SELECT (e.op->>'operationId')::uuid
                                    FROM jsonb_array_elements(p_ops) AS e(op))
           AND s.id <= v_newest;
    END IF;

    RETURN jsonb_build_object('kind', 'ok', 'newestBefore', v_newest, 'storedMax', v_stored_max,
                              'stored', v_stored, 'duplicates', v_duplicates);
END;
$$;
