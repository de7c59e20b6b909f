-- cbs_post_entry: the ledger's posting engine, and the only place its rules are written.
--
-- actions.post_entry calls it once per entry, as one statement (its own transaction
-- when the caller has none): one round trip. In this order it
--   1. locks the entry's ledger accounts FOR UPDATE, in ascending id order, so two
--      entries over the same accounts queue instead of deadlocking;
--   2. applies the rules to each account: it exists, and cbs_account_refusal
--      (account_rules.sql, where they are written once, for this function and the
--      batch's) finds nothing against it: it is not a header, is kept in the entry's
--      currency, is not closed or frozen (a debit freeze refuses debits only), and,
--      where it enforces its balance, a debit leaves its `spendable`
--      (balance - held + overdraft) at or above its minimum;
--   3. checks that the debits equal the credits;
--   4. writes the entry (unless its idempotency key was used), its postings with
--      the balance after each, in line order, the accounts' new balances and
--      versions, and the entry's audit event, through the audit trail's
--      cbs_record_event (banking/audit/sql/record_event.sql), which writes and
--      hashes it: the ledger's SQL writes only the ledger's tables.
--
-- outcome is one of
--   posted         written: entry_id, entry_date;
--   exists         the key was used for this same content: entry_id is that entry;
--   key_reused     the key was used for other content: entry_id is that entry;
--   no_account, header, currency, closed, frozen, debit_frozen
--                  refused because of account_id (cbs_refusal_reason says which);
--   insufficient   refused: account_id has `available`, and the entry would change
--                  its balance by `change` (negative);
--   held_expired   as insufficient, but the account's expired holds cover the
--                  difference: the caller releases them (a hold's own action, which
--                  audits each release) and calls again;
--   unbalanced     refused: the debits differ from the credits.
-- A refusal writes nothing. A key already used wins over a refusal, so a retry
-- after the money is gone still finds its first entry.
--
-- The caller sends the event's who, when and from where, its summary and `after`;
-- its object is the entry, whose id only exists here.
--
-- Installed by the ledger's migrations from this file; a test fails when the
-- installed function differs from it, so a change here comes with a new migration
-- that installs it again.
CREATE OR REPLACE FUNCTION cbs_post_entry(
    p_key text, p_content_hash text, p_kind text, p_narration text, p_channel text, p_reference text,
    p_maker bigint, p_checker bigint, p_reversal_of bigint, p_total bigint, p_currency text,
    p_booked_at timestamptz, p_today date, p_accounts bigint[], p_sides text[], p_amounts bigint[],
    p_occurred_at timestamptz, p_actor bigint, p_actor_username text, p_role text, p_ip inet, p_user_agent text,
    p_request_id text, p_event_channel text, p_summary text, p_after jsonb,
    OUT outcome text, OUT entry_id bigint, OUT entry_date date, OUT detail text,
    OUT account_id bigint, OUT available bigint, OUT change bigint)
LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
    starts bigint[];
    normals text[];
    wanted integer;
    refused_id bigint;
    afters bigint[];
    running bigint[];
    debits bigint := 0;
    credits bigint := 0;
    k integer;
    r record;
    v_debited boolean;
BEGIN
    -- One statement locks the accounts (in id order: LockRows sits above the sort),
    -- adds up each one's change and applies the rules; it also reads the business
    -- date. The arrays come from one pass over the same rows, so their positions
    -- agree; nothing reads them in any other order (array_position finds an account).
    SELECT array_agg(t.id), array_agg(t.balance),
           array_agg(t.normal_side::text),
           min(t.id) FILTER (WHERE cbs_account_refusal(t.is_header, t.currency, t.status, t.spendable,
                                                       t.min_balance, t.enforce_balance,
                                                       p_currency, t.debited, t.change::bigint) IS NOT NULL),
           max(t.bdate)
      INTO ids, starts, normals, refused_id, entry_date
      FROM (SELECT a.id, a.is_header, a.currency, a.status, a.balance, a.spendable, a.min_balance,
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
    -- Each posting's balance after it, line by line; `running` ends as each
    -- account's new balance.
    IF refused_id IS NULL AND coalesce(array_length(ids, 1), 0) = wanted THEN
        running := starts;
        FOR i IN 1 .. coalesce(array_length(p_accounts, 1), 0) LOOP
            k := array_position(ids, p_accounts[i]);
            running[k] := running[k] + CASE WHEN p_sides[i] = normals[k] THEN p_amounts[i] ELSE -p_amounts[i] END;
            afters[i] := running[k];
            IF p_sides[i] = 'D' THEN debits := debits + p_amounts[i]; ELSE credits := credits + p_amounts[i]; END IF;
        END LOOP;
    END IF;
    IF refused_id IS NOT NULL OR coalesce(array_length(ids, 1), 0) IS DISTINCT FROM wanted
       OR debits <> credits OR debits = 0 THEN
        -- Refused. Rare, so the reason is worked out here, off the common path:
        -- first a key already used, then the lowest account that fails a rule, in
        -- the order the rules are listed above, then the balance of the entry.
        SELECT e.id, e.content_hash INTO entry_id, detail FROM ledger_journalentry e WHERE e.idempotency_key = p_key;
        IF entry_id IS NOT NULL THEN
            outcome := CASE WHEN detail = p_content_hash THEN 'exists' ELSE 'key_reused' END; RETURN;
        END IF;
        SELECT min(x) INTO account_id FROM unnest(p_accounts) AS x WHERE x <> ALL(coalesce(ids, '{}'));
        IF account_id IS NOT NULL THEN
            outcome := 'no_account'; RETURN;
        END IF;
        IF refused_id IS NULL THEN
            outcome := 'unbalanced'; RETURN;
        END IF;
        account_id := refused_id;
        SELECT a.spendable AS available, a.normal_side::text AS normal_side
          INTO r FROM ledger_ledgeraccount a WHERE a.id = refused_id;
        SELECT sum(CASE WHEN x.s = r.normal_side THEN x.m ELSE -x.m END), bool_or(x.s = 'D')
          INTO change, v_debited
          FROM unnest(p_accounts, p_sides, p_amounts) AS x(a, s, m) WHERE x.a = refused_id;
        available := r.available;
        outcome := cbs_refusal_reason(refused_id, p_currency, v_debited, change, p_booked_at);
        RETURN;
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
        -- In line order: `unnest` gives the lines in order and `e` is one row.
        INSERT INTO ledger_posting (entry_id, account_id, side, amount, balance_after, business_date)
        SELECT e.id, l.a, l.s, l.m, l.b, entry_date
          FROM e, unnest(p_accounts, p_sides, p_amounts, afters) AS l(a, s, m, b)
    ), u AS (
        UPDATE ledger_ledgeraccount a SET balance = running[array_position(ids, a.id)], version = a.version + 1
         WHERE a.id = ANY(ids) AND EXISTS (SELECT FROM e)
    )
    -- p and u run to completion whether or not this reads them.
    SELECT e.id INTO entry_id FROM e;
    IF entry_id IS NULL THEN  -- the key was used before, or by an entry committed while this waited
        SELECT e.id, e.content_hash INTO entry_id, detail FROM ledger_journalentry e WHERE e.idempotency_key = p_key;
        outcome := CASE WHEN detail = p_content_hash THEN 'exists' ELSE 'key_reused' END; RETURN;
    END IF;
    PERFORM cbs_record_event(p_occurred_at, p_actor, p_actor_username, p_role, p_ip, p_user_agent, p_request_id,
        p_event_channel, 'ledger.entry_posted', 'ledger.journalentry', entry_id::text, p_summary, NULL, p_after);
    outcome := 'posted';
END $$;
