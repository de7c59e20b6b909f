"""`cbs_post_entry` with less to set up per call: the same decisions, less work.

The function of migration 0005 ran three sub-queries in its first statement besides
locking the accounts: two looked the idempotency key up (one for the id, one for the
content hash) and one counted the distinct accounts of the lines. Its four arrays
were each aggregated in a sort of their own. Setting those up on every call was a
measurable share of the database's time per entry.

- The key is now looked up once, by the entry's own insert: `ON CONFLICT
  (idempotency_key) DO NOTHING` writes nothing when the key was used, and the
  function then returns 'exists' with that entry's id and content hash, as before.
  A key reused when the accounts would now refuse the entry comes back 'refused'
  instead, and the step-by-step path in actions.py finds the first entry under its
  own locks and returns it (or raises IdempotencyConflict), as it does for any key.
- The distinct accounts of the usual two lines are counted without a query.
- The arrays are aggregated without sorts: they come from one pass over the same
  rows, so their positions agree, and the accounts are still locked in id order.
- Each posting's balance after it is worked out in a loop over the lines, not by a
  window function over a join of the lines with the accounts; the accounts' new
  balances are where that loop ends.

Everything else is unchanged: the locks and their order, the rules, the rows
written and the audit event's hash. test_post_function.py holds the function and
the step-by-step path to the same decisions.
"""

import importlib

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
    wanted integer;
    refused_id bigint;
    afters bigint[];
    running bigint[];
    k integer;
BEGIN
    -- One statement locks the accounts (in id order: LockRows sits above the sort),
    -- adds up each one's change and applies the rules; it also reads the business
    -- date. A key used before is caught by its unique index (ON CONFLICT below).
    -- The arrays come from one pass over the same rows, so their positions agree;
    -- nothing reads them in any other order (array_position finds an account).
    SELECT array_agg(t.id), array_agg(t.balance),
           array_agg(t.normal_side::text),
           min(t.id) FILTER (WHERE t.is_header OR t.currency <> p_currency OR t.status IN ('closed', 'frozen')
                                OR (t.status = 'debit_frozen' AND t.debited)
                                OR (t.enforce_balance AND t.change < 0
                                    AND t.balance - t.held + t.overdraft_limit + t.change < t.min_balance)),
           max(t.bdate)
      INTO ids, starts, normals, refused_id, entry_date
      FROM (SELECT a.id, a.is_header, a.currency, a.status, a.balance, a.held, a.overdraft_limit, a.min_balance,
                   a.enforce_balance, a.normal_side, d.debited,
                   CASE WHEN a.normal_side = 'D' THEN d.delta ELSE -d.delta END AS change,
                   (SELECT b.date FROM ledger_businessdate b WHERE b.id = 1) AS bdate
              FROM (SELECT x.a, sum(CASE WHEN x.s = 'D' THEN x.m ELSE -x.m END) AS delta,
                           bool_or(x.s = 'D') AS debited
                      FROM unnest(p_accounts, p_sides, p_amounts) AS x(a, s, m) GROUP BY x.a) d
              JOIN ledger_ledgeraccount a ON a.id = d.a
             WHERE a.id = ANY(p_accounts)  -- found by the primary key, however few the accounts
             ORDER BY a.id
               FOR UPDATE OF a) t;
    -- How many accounts the lines name: worked out without a query for the usual two lines.
    IF array_length(p_accounts, 1) = 2 THEN
        wanted := CASE WHEN p_accounts[1] = p_accounts[2] THEN 1 ELSE 2 END;
    ELSE
        SELECT count(DISTINCT x) INTO wanted FROM unnest(p_accounts) AS x;
    END IF;
    IF refused_id IS NOT NULL OR coalesce(array_length(ids, 1), 0) IS DISTINCT FROM wanted THEN
        outcome := 'refused'; detail := refused_id::text; RETURN;
    END IF;
    entry_date := coalesce(entry_date, p_today);
    -- Each posting's balance after it, line by line, as the step-by-step path does;
    -- `running` ends as each account's new balance.
    running := starts;
    FOR i IN 1 .. array_length(p_accounts, 1) LOOP
        k := array_position(ids, p_accounts[i]);
        running[k] := running[k] + CASE WHEN p_sides[i] = normals[k] THEN p_amounts[i] ELSE -p_amounts[i] END;
        afters[i] := running[k];
    END LOOP;
    WITH e AS (
        INSERT INTO ledger_journalentry (business_date, booked_at, kind, narration, channel, reference, maker_id,
            checker_id, idempotency_key, content_hash, reversal_of_id, total, currency)
        VALUES (entry_date, p_booked_at, p_kind, p_narration, p_channel, p_reference, p_maker, p_checker,
            p_key, p_content_hash, p_reversal_of, p_total, p_currency)
        ON CONFLICT (idempotency_key) DO NOTHING
        RETURNING id
    ), p AS (
        -- In line order: `unnest` gives the lines in order and `e` is one row.
        INSERT INTO ledger_posting (entry_id, account_id, side, amount, balance_after, business_date)
        SELECT e.id, l.a, l.s, l.m, l.b, entry_date
          FROM e, unnest(p_accounts, p_sides, p_amounts, afters) AS l(a, s, m, b)
    ), u AS (
        UPDATE ledger_ledgeraccount a SET balance = running[array_position(ids, a.id)], version = a.version + 1
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
    IF entry_id IS NULL THEN  -- the key was used before, or by an entry committed while this waited
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
        previous = importlib.import_module("banking.ledger.migrations.0005_post_entry_function")
        schema_editor.execute(previous.POST_ENTRY, params=None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0007_room_for_balance_updates")]
    operations = [migrations.RunPython(forward, backward, elidable=False)]
