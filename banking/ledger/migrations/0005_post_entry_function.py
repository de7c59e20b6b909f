"""The posting action's common case in one statement: `cbs_post_entry`.

`actions.post_entry` on PostgreSQL calls this function once per entry instead of
locking, reading and writing in separate round trips, which is what kept the ledger
at a third of pgbench's TPC-B rate (see bench.py). It does what the step-by-step
path in actions.py does, in the same order:

1. locks the entry's ledger accounts FOR UPDATE in ascending id order;
2. returns 'exists' with the entry's id and content hash when the idempotency key
   was already used (actions.py tells a retry from a conflict);
3. returns 'refused' when any rule would refuse the entry: a missing or header
   account, another currency, a closed or frozen account, a debit on a
   debit-frozen one, or an available balance taken below its minimum. It writes
   nothing then, and actions.py posts through the step-by-step path, which says
   why in the teller's words or, when expired holds are all that stand in the way,
   releases them and posts;
4. writes the entry, its postings with the balance after each (in line order), the
   accounts' new balances and versions, and the audit event, and returns 'posted'.

The audit event's content hash covers its object id, the entry's id, which only
exists here: actions.py sends the canonical JSON the hash is taken over, with a
placeholder for the id (a NUL character, which JSON always escapes, so it cannot
come from any text), and the function puts the id in and hashes it. verify_audit
recomputes the same hash from the stored row.

The rules are written twice, here and in actions._check_rules; a test holds the two
to the same decisions (banking/ledger/tests/test_post_function.py).
"""

from django.db import migrations

POST_ENTRY = """
CREATE OR REPLACE FUNCTION cbs_post_entry(
    p_key text, p_content_hash text, p_kind text, p_narration text, p_channel text, p_reference text,
    p_maker bigint, p_checker bigint, p_reversal_of bigint, p_total bigint, p_currency text,
    p_booked_at timestamptz, p_today date, p_accounts bigint[], p_sides text[], p_amounts bigint[],
    p_occurred_at timestamptz, p_actor bigint, p_actor_username text, p_role text, p_ip inet, p_user_agent text, p_request_id text,
    p_event_channel text, p_summary text, p_after text, p_event_payload text,
    OUT outcome text, OUT entry_id bigint, OUT entry_date date, OUT detail text)
LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
    starts bigint[];
    normals text[];
    finals bigint[];
    wanted integer;
    refused_id bigint;
BEGIN
    -- One statement locks the accounts (in id order: LockRows sits above the sort),
    -- adds up each one's change and applies the rules; it also looks the key and
    -- the business date up. A duplicate that commits while this waits for a lock is
    -- caught by the key's unique index instead (ON CONFLICT below), and returned.
    SELECT array_agg(t.id ORDER BY t.id), array_agg(t.balance ORDER BY t.id),
           array_agg(t.normal_side::text ORDER BY t.id), array_agg(t.balance + t.change ORDER BY t.id),
           min(t.id) FILTER (WHERE t.is_header OR t.currency <> p_currency OR t.status IN ('closed', 'frozen')
                                OR (t.status = 'debit_frozen' AND t.debited)
                                OR (t.enforce_balance AND t.change < 0
                                    AND t.balance - t.held + t.overdraft_limit + t.change < t.min_balance)),
           max(t.wanted), max(t.found_id), max(t.found_hash), max(t.bdate)
      INTO ids, starts, normals, finals, refused_id, wanted, entry_id, detail, entry_date
      FROM (SELECT a.id, a.is_header, a.currency, a.status, a.balance, a.held, a.overdraft_limit, a.min_balance,
                   a.enforce_balance, a.normal_side, d.debited,
                   CASE WHEN a.normal_side = 'D' THEN d.delta ELSE -d.delta END AS change,
                   (SELECT count(DISTINCT x) FROM unnest(p_accounts) AS x) AS wanted,
                   (SELECT e.id FROM ledger_journalentry e WHERE e.idempotency_key = p_key) AS found_id,
                   (SELECT e.content_hash FROM ledger_journalentry e WHERE e.idempotency_key = p_key) AS found_hash,
                   (SELECT b.date FROM ledger_businessdate b WHERE b.id = 1) AS bdate
              FROM (SELECT x.a, sum(CASE WHEN x.s = 'D' THEN x.m ELSE -x.m END) AS delta,
                           bool_or(x.s = 'D') AS debited
                      FROM unnest(p_accounts, p_sides, p_amounts) AS x(a, s, m) GROUP BY x.a) d
              JOIN ledger_ledgeraccount a ON a.id = d.a
             WHERE a.id = ANY(p_accounts)  -- found by the primary key, however few the accounts
             ORDER BY a.id
               FOR UPDATE OF a) t;
    IF entry_id IS NOT NULL THEN
        outcome := 'exists'; RETURN;
    END IF;
    IF refused_id IS NOT NULL OR coalesce(array_length(ids, 1), 0) IS DISTINCT FROM wanted THEN
        outcome := 'refused'; detail := refused_id::text; RETURN;
    END IF;
    entry_date := coalesce(entry_date, p_today);
    WITH e AS (
        INSERT INTO ledger_journalentry (business_date, booked_at, kind, narration, channel, reference, maker_id,
            checker_id, idempotency_key, content_hash, reversal_of_id, total, currency)
        VALUES (entry_date, p_booked_at, p_kind, p_narration, p_channel, p_reference, p_maker, p_checker,
            p_key, p_content_hash, p_reversal_of, p_total, p_currency)
        ON CONFLICT (idempotency_key) DO NOTHING
        RETURNING id
    ), p AS (
        -- Each posting's balance after it, line by line, as the step-by-step path does.
        INSERT INTO ledger_posting (entry_id, account_id, side, amount, balance_after, business_date)
        SELECT e.id, l.a, l.s, l.m,
               b.start + sum(CASE WHEN l.s = b.normal THEN l.m ELSE -l.m END) OVER (PARTITION BY l.a ORDER BY l.n),
               entry_date
          FROM e, unnest(p_accounts, p_sides, p_amounts) WITH ORDINALITY AS l(a, s, m, n)
          JOIN unnest(ids, starts, normals) AS b(id, start, normal) ON b.id = l.a
         ORDER BY l.n
    ), u AS (
        UPDATE ledger_ledgeraccount a SET balance = finals[array_position(ids, a.id)], version = a.version + 1
         WHERE a.id = ANY(ids) AND EXISTS (SELECT FROM e)
    )
    INSERT INTO audit_auditevent (occurred_at, actor_id, actor_username, role, ip, user_agent, request_id, channel,
        action, object_type, object_id, summary, before, after, content_hash)
    SELECT p_occurred_at, p_actor, p_actor_username, p_role, p_ip, p_user_agent, p_request_id, p_event_channel,
        'ledger.entry_posted', 'ledger.journalentry', e.id::text, p_summary, NULL, p_after::jsonb,
        encode(sha256(convert_to(replace(p_event_payload, '"object_id":"\\u0000"',
                                         '"object_id":"' || e.id || '"'), 'UTF8')), 'hex')
      FROM e
    RETURNING object_id::bigint INTO entry_id;
    IF entry_id IS NULL THEN  -- a duplicate committed while this waited for a lock
        SELECT e.id, e.content_hash INTO entry_id, detail FROM ledger_journalentry e WHERE e.idempotency_key = p_key;
        outcome := 'exists'; RETURN;
    END IF;
    outcome := 'posted';
END $$;
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POST_ENTRY, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS cbs_post_entry", params=None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0004_leaner_indexes"), ("audit", "0002_append_only_triggers")]
    operations = [migrations.RunPython(forward, backward, elidable=False)]
