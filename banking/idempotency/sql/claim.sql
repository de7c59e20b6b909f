-- Claiming an Idempotency-Key for a request that is about to run (portals/api/
-- idempotency.py, run_once), in one statement:
--   1. a transaction-scoped advisory lock on (owner, key), not waited for: when a
--      request with the same key still holds it, the answer is claimed = false;
--   2. the key's kept answer older than the caller's cut-off (the time to live is a
--      setting, applied in Python: IdempotentRequest.expires_before) is deleted, so
--      its key may be used again;
--   3. the key's kept answer, if any: its request hash, status and body.
-- VOLATILE, so each statement in it reads with a snapshot of its own, taken after
-- the lock: an answer committed by the request that held the lock until a moment
-- ago is seen. (A plain SELECT calling pg_try_advisory_xact_lock would read with the
-- snapshot taken before the lock, miss that answer and run the request again.)
--
-- Installed by the idempotency app's migrations from this file; a test fails when
-- the installed function differs from it, so a change here comes with a new
-- migration that installs it again.
CREATE OR REPLACE FUNCTION cbs_claim_idempotency_key(
    p_lock bigint, p_owner text, p_key text, p_expires_before timestamptz
) RETURNS TABLE (claimed boolean, request_hash text, status_code integer, body jsonb)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF NOT pg_try_advisory_xact_lock(p_lock) THEN
        RETURN QUERY SELECT false, NULL::text, NULL::integer, NULL::jsonb;
        RETURN;
    END IF;
    DELETE FROM idempotency_idempotentrequest r
     WHERE r.owner = p_owner AND r.key = p_key AND r.created_at < p_expires_before;
    RETURN QUERY
        SELECT true, r.request_hash::text, r.status_code::integer, r.body
          FROM idempotency_idempotentrequest r WHERE r.owner = p_owner AND r.key = p_key;
    IF NOT FOUND THEN
        RETURN QUERY SELECT true, NULL::text, NULL::integer, NULL::jsonb;
    END IF;
END
$$;
