-- A push is checked against the account's encryption key under the per-user lock
-- (docs/adr/0026-pushes-sealed-under-the-current-key-epoch.md).
--
-- After a reset on one device (a new master key, one epoch higher), a device still holding the
-- old key could push values sealed under it; every device holding only the new key recorded
-- them as unreadable and skipped them, and the edit was lost everywhere but on its device. This
-- function refuses such a batch whole, before anything is written:
--
-- p_min_epoch / p_max_epoch: the lowest and highest key epoch the batch's sealed values name
--   (NULL when no value is sealed); p_plain: some value is in clear. The caller computes them
--   from the validated batch (@chorus/protocol's batchKeyUse), so nothing here decodes a value.
--
-- Answers, besides chorus_push_ops(user, device, ops)'s own (which it calls when the batch fits
-- the key, in the same transaction, under the same lock):
--   {"kind": "key_epoch_stale", "epoch"}  the account has a key of epoch "epoch" and the batch
--                                         carries a value sealed under another epoch, or a
--                                         value in clear;
--   {"kind": "key_missing"}               the account has no key and the batch carries a
--                                         sealed value.
-- The account's key is read after the user's lock is taken, and the key's set and reset take
-- that lock too: a batch is stored entirely before a reset or checked against the new epoch,
-- never stored under the old epoch after the reset committed. One primary-key read per push
-- (none when the batch carries no value at all: only deletes).
CREATE FUNCTION "chorus_push_ops"(p_user_id UUID, p_device_id UUID, p_ops JSONB,
                                  p_min_epoch INTEGER, p_max_epoch INTEGER, p_plain BOOLEAN)
RETURNS JSONB
LANGUAGE plpgsql
VOLATILE
SET lock_timeout = '20s'
AS $$
DECLARE
    v_epoch INTEGER;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('chorus:user:' || p_user_id::text, 0));

    IF p_min_epoch IS NOT NULL OR p_plain THEN
        SELECT k.epoch INTO v_epoch FROM account_keys k WHERE k.user_id = p_user_id;
        IF v_epoch IS NULL THEN
            IF p_min_epoch IS NOT NULL THEN
                RETURN jsonb_build_object('kind', 'key_missing');
            END IF;
        ELSIF p_plain OR p_min_epoch <> v_epoch OR p_max_epoch <> v_epoch THEN
            RETURN jsonb_build_object('kind', 'key_epoch_stale', 'epoch', v_epoch);
        END IF;
    END IF;

    -- The transaction-scoped lock is held again (a second hold of the same session): the
    -- three-argument function is the push as ADR 0003 and 0017 describe it.
    RETURN "chorus_push_ops"(p_user_id, p_device_id, p_ops);
END;
$$;
