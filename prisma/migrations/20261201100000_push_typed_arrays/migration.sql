-- The push with the batch as typed arrays, walked once, and a plain answer
-- (docs/adr/0036-push-as-typed-arrays-and-a-fast-input-check.md).
--
-- The same push as chorus_push_ops(user, device, ops jsonb, min_epoch, max_epoch, plain)
-- (migrations 20261130233000_push_idempotency_per_operation and 20261201030000_push_key_epoch;
-- ADRs 0003, 0017, 0026): under the user's advisory lock, the key-epoch check, the user's newest
-- id, the device's Lamport high-water mark, the Lamport regression check (op by op only when
-- some stamp is at or below the mark), the insert in batch order with ON CONFLICT on (user,
-- operation_id), the mark raised by the ops inserted now, and the duplicates reported with
-- their stored ids. What differs is how the batch comes in and how the answer goes out:
--
-- * The batch is one array per column, in batch order, all of the same length (the protocol's
--   OpInput, validated by the caller): operation ids, Lamport stamps, entities, entity ids,
--   fields (NULL for none), op kinds, and the values as ONE JSON array (element i is op i's
--   value; JSON null for none). Postgres reads them as arrays of its own types instead of
--   taking every field out of a JSON object, once per walk.
-- * The answer is one row of plain columns instead of one JSON object with an object and a
--   to_char per op:
--     kind           'ok' | 'lamport_regression' | 'key_epoch_stale' | 'key_missing'
--                    (nothing was written unless 'ok');
--     newest_before  the user's newest op id before this batch (0 when none; NULL for the key
--                    refusals);
--     stored_max     the device's Lamport high-water mark before this batch (0 when none; NULL
--                    for the key refusals);
--     epoch          the account's key epoch ('key_epoch_stale' only);
--     stored_ords    the 1-based batch positions of the ops inserted now, ascending id;
--     stored_ids     their ids, in the same order;
--     stored_ms      their created_at as milliseconds since 1970-01-01 UTC (the column holds
--                    milliseconds: timestamptz(3)), in the same order;
--     dup_ords       the batch positions of the ops stored by an earlier push (by this device
--                    or another of the user's), ascending;
--     dup_ids        their stored ids, in the same order.
-- The older functions stay for a server of the previous release during a rolling deploy.
CREATE FUNCTION "chorus_push_ops"(
    p_user_id UUID, p_device_id UUID,
    p_operation_ids UUID[], p_lamport_ts BIGINT[], p_entities TEXT[], p_entity_ids TEXT[],
    p_fields TEXT[], p_kinds TEXT[], p_values JSONB,
    p_min_epoch INTEGER, p_max_epoch INTEGER, p_plain BOOLEAN,
    OUT kind TEXT, OUT newest_before BIGINT, OUT stored_max BIGINT, OUT epoch INTEGER,
    OUT stored_ords INTEGER[], OUT stored_ids BIGINT[], OUT stored_ms BIGINT[],
    OUT dup_ords INTEGER[], OUT dup_ids BIGINT[])
LANGUAGE plpgsql
VOLATILE
-- A push never waits longer than this for the user's lock (or a row lock): it fails (SQLSTATE
-- 55P03) and the device retries with backoff.
SET lock_timeout = '20s'
AS $$
DECLARE
    v_count INTEGER := cardinality(p_operation_ids);
    v_epoch INTEGER;
    v_first_fresh_ts BIGINT;
BEGIN
    IF v_count IS NULL OR v_count = 0
       OR cardinality(p_lamport_ts) IS DISTINCT FROM v_count
       OR cardinality(p_entities) IS DISTINCT FROM v_count
       OR cardinality(p_entity_ids) IS DISTINCT FROM v_count
       OR cardinality(p_fields) IS DISTINCT FROM v_count
       OR cardinality(p_kinds) IS DISTINCT FROM v_count
       OR jsonb_typeof(p_values) IS DISTINCT FROM 'array'
       OR jsonb_array_length(p_values) <> v_count THEN
        RAISE EXCEPTION 'chorus_push_ops: the batch''s arrays must be non-empty and of one length'
              USING ERRCODE = '22023';
    END IF;

    -- ids of one user become visible in id order: the per-user lock (compaction and the key's
    -- set, rewrap and reset take it too).
    PERFORM pg_advisory_xact_lock(hashtextextended('chorus:user:' || p_user_id::text, 0));

    -- The account's key (ADR 0026), read under the lock; none for a batch of deletes only.
    IF p_min_epoch IS NOT NULL OR p_plain THEN
        SELECT k.epoch INTO v_epoch FROM account_keys k WHERE k.user_id = p_user_id;
        IF v_epoch IS NULL THEN
            IF p_min_epoch IS NOT NULL THEN
                kind := 'key_missing';
                RETURN;
            END IF;
        ELSIF p_plain OR p_min_epoch <> v_epoch OR p_max_epoch <> v_epoch THEN
            kind := 'key_epoch_stale';
            epoch := v_epoch;
            RETURN;
        END IF;
    END IF;

    SELECT COALESCE(max(s.id), 0) INTO newest_before FROM sync_op s WHERE s.user_id = p_user_id;
    SELECT COALESCE(max(l.max_ts), 0) INTO stored_max
      FROM device_lamport l WHERE l.device_id = p_device_id;

    -- A stored op of this device never has a stamp above the device's maximum, and an op
    -- stored under another device id is not inserted again whatever its stamp. So when every
    -- stamp of the batch is above the maximum (a first attempt: nearly every push), no op can
    -- fail the Lamport check, and the insert's ON CONFLICT on (user, operation_id) is the
    -- idempotency check. Only a batch with a stamp at or below the maximum (a retry, or a reset
    -- device) is looked up op by op first.
    IF (SELECT min(t) FROM unnest(p_lamport_ts) AS t) <= stored_max THEN
        -- The first op not stored yet (by any device of the user), in batch order, must be
        -- above the device's maximum.
        SELECT b.lamport_ts INTO v_first_fresh_ts
          FROM unnest(p_operation_ids, p_lamport_ts) WITH ORDINALITY AS b(operation_id, lamport_ts, ord)
         WHERE NOT EXISTS (SELECT 1 FROM sync_op s
                            WHERE s.user_id = p_user_id AND s.operation_id = b.operation_id)
         ORDER BY b.ord
         LIMIT 1;
        IF v_first_fresh_ts IS NOT NULL AND v_first_fresh_ts <= stored_max THEN
            kind := 'lamport_regression';
            RETURN;
        END IF;
    END IF;

    -- Insert the new ops in batch order (WITH ORDINALITY + ORDER BY: ids follow the batch), and
    -- raise the device's Lamport high-water mark to the last of them. Only ops inserted now
    -- raise it: an op stored under another device id counts toward that device's mark.
    WITH batch AS (
        SELECT b.*, p_values -> (b.ord::int - 1) AS value
          FROM unnest(p_operation_ids, p_lamport_ts, p_entities, p_entity_ids, p_fields, p_kinds)
               WITH ORDINALITY AS b(operation_id, lamport_ts, entity, entity_id, field, kind, ord)
    ),
    inserted AS (
        INSERT INTO sync_op (user_id, device_id, operation_id, lamport_ts, entity, entity_id,
                             field, op, value)
        SELECT p_user_id, p_device_id, b.operation_id, b.lamport_ts, b.entity, b.entity_id,
               b.field, b.kind::"SyncOpKind", b.value
          FROM batch b
         ORDER BY b.ord
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
    SELECT array_agg(b.ord::int ORDER BY i.id), array_agg(i.id ORDER BY i.id),
           array_agg((extract(epoch FROM i.created_at) * 1000)::bigint ORDER BY i.id)
      INTO stored_ords, stored_ids, stored_ms
      FROM inserted i
      JOIN batch b ON b.operation_id = i.operation_id;

    -- Idempotency: ops stored by an earlier push (the insert above skipped them), under this
    -- device id or another of the user's, are reported with their stored id. Those committed
    -- before the lock was taken, so their ids are at most newest_before; the rows inserted just
    -- now are above it.
    IF COALESCE(cardinality(stored_ords), 0) < v_count THEN
        SELECT array_agg(b.ord::int ORDER BY b.ord), array_agg(s.id ORDER BY b.ord)
          INTO dup_ords, dup_ids
          FROM unnest(p_operation_ids) WITH ORDINALITY AS b(operation_id, ord)
          JOIN sync_op s ON s.user_id = p_user_id AND s.operation_id = b.operation_id
         WHERE s.id <= newest_before;
    END IF;

    kind := 'ok';
    stored_ords := COALESCE(stored_ords, '{}');
    stored_ids := COALESCE(stored_ids, '{}');
    stored_ms := COALESCE(stored_ms, '{}');
    dup_ords := COALESCE(dup_ords, '{}');
    dup_ids := COALESCE(dup_ids, '{}');
END;
$$;
