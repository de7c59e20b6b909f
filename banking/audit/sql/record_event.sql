-- How an audit event is written and hashed: the one place the content-hash rule is
-- written. Every writer goes through cbs_record_event: actions.record_event (one
-- statement per event) and other apps' database functions (the ledger's
-- cbs_post_entry records its entry's event here, with the id it has just made), so
-- no other app's SQL touches the trail's table. verify_audit recomputes each hash
-- with cbs_event_hash over the stored row.
--
-- An event's content hash is the SHA-256, in hex, of the text of one jsonb object
-- of its hashed fields. jsonb prints itself one way only (keys sorted, no
-- duplicates, fixed spacing), whoever asks. The time is written out in UTC to the
-- microsecond, because a timestamptz in JSON takes the session's time zone. The id
-- and writer_xid are not hashed: the seals' chain protects where an event stands.
--
-- Installed by the audit trail's migrations from this file; a test fails when an
-- installed function differs from it, so a change here comes with a new migration
-- that installs it again.
CREATE OR REPLACE FUNCTION cbs_event_hash(e audit_auditevent) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT encode(sha256(convert_to(jsonb_build_object(
        'occurred_at', to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        'actor_id', e.actor_id, 'actor_username', e.actor_username, 'role', e.role, 'ip', e.ip,
        'user_agent', e.user_agent, 'request_id', e.request_id, 'channel', e.channel, 'action', e.action,
        'object_type', e.object_type, 'object_id', e.object_id, 'summary', e.summary,
        'before', e.before, 'after', e.after)::text, 'UTF8')), 'hex')
$$;

-- Writes one event, hashed over the values as stored (text already cut to its
-- column's length by the caller), and returns the new row.
CREATE OR REPLACE FUNCTION cbs_record_event(
    p_occurred_at timestamptz, p_actor_id bigint, p_actor_username text, p_role text, p_ip inet,
    p_user_agent text, p_request_id text, p_channel text, p_action text, p_object_type text, p_object_id text,
    p_summary text, p_before jsonb, p_after jsonb)
RETURNS audit_auditevent
LANGUAGE plpgsql AS $$
DECLARE
    e audit_auditevent;
BEGIN
    e.occurred_at := p_occurred_at; e.actor_id := p_actor_id; e.actor_username := p_actor_username;
    e.role := p_role; e.ip := p_ip; e.user_agent := p_user_agent; e.request_id := p_request_id;
    e.channel := p_channel; e.action := p_action; e.object_type := p_object_type; e.object_id := p_object_id;
    e.summary := p_summary; e.before := p_before; e.after := p_after;
    e.content_hash := cbs_event_hash(e);
    INSERT INTO audit_auditevent (occurred_at, actor_id, actor_username, role, ip, user_agent, request_id, channel,
        action, object_type, object_id, summary, before, after, content_hash)
    VALUES (e.occurred_at, e.actor_id, e.actor_username, e.role, e.ip, e.user_agent, e.request_id, e.channel,
        e.action, e.object_type, e.object_id, e.summary, e.before, e.after, e.content_hash)
    RETURNING * INTO e;
    RETURN e;
END $$;
