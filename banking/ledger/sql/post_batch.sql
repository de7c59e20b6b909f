-- cbs_post_batch: the ledger's set-based batch posting, for end of day's many entries
-- (a quarter's interest credits, a month's charges) in a few statements however many
-- entries there are.
--
-- actions.post_batch calls it with the batch as arrays: per entry its idempotency key,
-- content hash, narration and reference (position n is entry n); per line its entry's
-- number, account, side and amount. In this order it
--   1. locks every ledger account the batch names FOR UPDATE, in ascending id order,
--      in one statement, so a batch and single entries over the same accounts queue
--      instead of deadlocking;
--   2. judges each entry on its own, with the same rules as a single entry
--      (cbs_account_refusal, account_rules.sql, written there once for both
--      functions), against the accounts as they stand before the batch: the key was
--      not used, every account exists and takes the entry's change, and the debits
--      equal the credits;
--   3. writes the entries it accepted, their postings with the balance after each
--      (in entry and line order, per account), the accounts' new balances and
--      versions, and one audit event for the batch, through the audit trail's
--      cbs_record_event: the ledger's SQL writes only the ledger's tables.
-- An entry's refusal writes nothing of it and stops no other entry.
--
-- Entries judged one by one against the balances before the batch agree with posting
-- them in order only where no entry can depend on another. So an account that
-- enforces its balance is judged in its first entry only: a later entry of the batch
-- that names it again is `repeated`, and so is a later entry with a key an earlier one
-- has. The caller sends those again in a next call, which judges them against the
-- balances the first left: rounds of one call each give exactly the result of
-- posting the entries in order. Accounts that do not enforce a balance (the GLs an end
-- of day's entries share) take any number of entries in one call: whether they take
-- one does not depend on the others.
--
-- One row per entry comes back, entry_no being its position. outcome is one of
--   posted         written: entry_id;
--   exists         its key was used for this same content: entry_id is that entry;
--   key_reused     its key was used for other content: entry_id is that entry;
--   repeated       not judged in this call (above): send it again;
--   no_account, header, currency, closed, frozen, debit_frozen, insufficient,
--   held_expired   refused because of account_id (the lowest that refuses), as
--                  cbs_refusal_reason says: `available` and `change` as for a single
--                  entry; held_expired: the caller releases the expired holds and sends
--                  the entry again;
--   unbalanced     refused: its debits differ from its credits, or it has none.
-- A key already used wins over every refusal, as for a single entry.
--
-- The audit event: one per call that posts anything, `ledger.batch_posted`, with the
-- number of entries, their total, the first and last entry id, and `digest`: the
-- SHA-256, in hex, of "<id>:<content hash>" of every entry it wrote, in id order,
-- joined by commas. An auditor recomputes it from the journal, whose entries no one
-- can change: the event proves which entries the batch wrote and what they held. One
-- event per entry would tell nothing the immutable entries do not (their maker,
-- channel, time and key are on each), and would double the rows a quarter's credit to
-- a million accounts writes, each hashed one at a time and then chained by the sealer.
--
-- Installed by the ledger's migrations from this file; a test fails when the installed
-- function differs from it, so a change here comes with a new migration that installs
-- it again.
CREATE OR REPLACE FUNCTION cbs_post_batch(
    p_keys text[], p_hashes text[], p_narrations text[], p_references text[],
    p_line_entries integer[], p_accounts bigint[], p_sides text[], p_amounts bigint[],
    p_kind text, p_channel text, p_maker bigint, p_currency text, p_booked_at timestamptz, p_today date,
    p_occurred_at timestamptz, p_actor bigint, p_actor_username text, p_role text, p_ip inet, p_user_agent text,
    p_request_id text, p_event_channel text, p_summary text)
RETURNS TABLE (entry_no integer, outcome text, entry_id bigint, account_id bigint, available bigint, change bigint)
LANGUAGE plpgsql
-- Each call is planned for its own arrays: a plan kept from a call of ten entries
-- (nested loops over what it takes for ten rows) would take minutes over ten thousand.
SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
    v_date date;
    o_no integer[];
    o_outcome text[];
    o_entry bigint[];
    o_account bigint[];
    o_available bigint[];
    o_change bigint[];
    v_aside integer[];
    v_count bigint;
    v_first bigint;
    v_last bigint;
    v_total bigint;
    v_digest text;
    v_hash text;
    v_entry bigint;
    v_available bigint;
    i integer;
BEGIN
    IF cardinality(p_keys) IS DISTINCT FROM cardinality(p_hashes)
       OR cardinality(p_keys) IS DISTINCT FROM cardinality(p_narrations)
       OR cardinality(p_keys) IS DISTINCT FROM cardinality(p_references)
       OR cardinality(p_line_entries) IS DISTINCT FROM cardinality(p_accounts)
       OR cardinality(p_line_entries) IS DISTINCT FROM cardinality(p_sides)
       OR cardinality(p_line_entries) IS DISTINCT FROM cardinality(p_amounts) THEN
        RAISE EXCEPTION 'cbs_post_batch: the arrays of one entry or of one line differ in length';
    END IF;
    -- In id order: LockRows sits above the sort. Each account once, found by its key: the
    -- lines name a GL once per entry, and `= ANY` over them reads the table whole.
    PERFORM FROM ledger_ledgeraccount a WHERE a.id IN (SELECT DISTINCT x.id FROM unnest(p_accounts) AS x(id))
     ORDER BY a.id FOR UPDATE;
    SELECT b.date INTO v_date FROM ledger_businessdate b WHERE b.id = 1;
    v_date := coalesce(v_date, p_today);

    -- One statement judges every entry and writes the accepted ones. Its snapshot is
    -- taken after the locks above, so it reads the accounts as they are now, and no
    -- other transaction changes them until this one ends.
    WITH l AS (  -- the lines
        SELECT x.e AS entry_no, x.a AS account, x.s AS side, x.m AS amount, x.n AS line_no
          FROM unnest(p_line_entries, p_accounts, p_sides, p_amounts) WITH ORDINALITY AS x(e, a, s, m, n)
    ), en AS (  -- the entries
        SELECT q.n::integer AS entry_no, q.key, q.hash, q.narration, q.reference
          FROM unnest(p_keys, p_hashes, p_narrations, p_references) WITH ORDINALITY
               AS q(key, hash, narration, reference, n)
    ), ea AS (  -- each entry's change to each account it names
        SELECT l.entry_no, l.account, sum(CASE WHEN l.side = 'D' THEN l.amount ELSE -l.amount END)::bigint AS delta,
               bool_or(l.side = 'D') AS debited
          FROM l GROUP BY l.entry_no, l.account
    ), ck AS (  -- the rules, per entry and account
        SELECT ea.entry_no, ea.account, ea.debited, a.id IS NULL AS missing, c.change,
               cbs_account_refusal(a.is_header, a.currency, a.status, a.spendable,
                                   a.min_balance, a.enforce_balance, p_currency, ea.debited, c.change) AS refusal,
               coalesce(a.enforce_balance AND ea.entry_no > min(ea.entry_no) OVER (PARTITION BY ea.account),
                        false) AS repeated
          FROM ea LEFT JOIN ledger_ledgeraccount a ON a.id = ea.account
         CROSS JOIN LATERAL (SELECT CASE WHEN a.normal_side = 'D' THEN ea.delta ELSE -ea.delta END AS change) c
    ), per_entry AS (
        SELECT ck.entry_no, bool_or(ck.repeated) AS repeated,
               min(ck.account) FILTER (WHERE ck.missing) AS missing,
               min(ck.account) FILTER (WHERE ck.refusal IS NOT NULL) AS refused
          FROM ck GROUP BY ck.entry_no
    ), totals AS (
        SELECT l.entry_no, coalesce(sum(l.amount) FILTER (WHERE l.side = 'D'), 0) AS debits,
               coalesce(sum(l.amount) FILTER (WHERE l.side = 'C'), 0) AS credits
          FROM l GROUP BY l.entry_no
    ), v AS (  -- each entry's verdict: NULL accepts it
        SELECT en.entry_no, en.key, en.hash, en.narration, en.reference, t.debits, pe.refused, u.id AS used_id,
               CASE
                   WHEN u.id IS NOT NULL THEN CASE WHEN u.content_hash = en.hash THEN 'exists' ELSE 'key_reused' END
                   WHEN en.entry_no > min(en.entry_no) OVER (PARTITION BY en.key) OR pe.repeated THEN 'repeated'
                   WHEN pe.missing IS NOT NULL THEN 'no_account'
                   WHEN pe.refused IS NOT NULL THEN 'refused'
                   WHEN coalesce(t.debits, 0) <> coalesce(t.credits, 0) OR coalesce(t.debits, 0) = 0 THEN 'unbalanced'
               END AS verdict,
               CASE WHEN pe.missing IS NOT NULL THEN pe.missing ELSE pe.refused END AS about
          FROM en
          LEFT JOIN per_entry pe ON pe.entry_no = en.entry_no
          LEFT JOIN totals t ON t.entry_no = en.entry_no
          -- A probe of the key's index per entry (LATERAL ... LIMIT 1): a hash join would
          -- read the whole journal, which grows by the batch's size at every call.
          LEFT JOIN LATERAL (SELECT j.id, j.content_hash FROM ledger_journalentry j
                              WHERE j.idempotency_key = en.key LIMIT 1) u ON true
    ), ok AS (
        SELECT v.* FROM v WHERE v.verdict IS NULL
    ), e AS (
        INSERT INTO ledger_journalentry (business_date, booked_at, kind, narration, channel, reference, maker_id,
            checker_id, idempotency_key, content_hash, reversal_of_id, total, currency)
        SELECT v_date, p_booked_at, p_kind, ok.narration, p_channel, ok.reference, p_maker, NULL, ok.key, ok.hash,
               NULL, ok.debits, p_currency
          FROM ok ORDER BY ok.entry_no
        ON CONFLICT (idempotency_key) DO NOTHING  -- a key posted by another transaction while this one waited
        RETURNING id, idempotency_key
    ), posted AS (
        SELECT ok.entry_no, e.id, ok.hash, ok.debits FROM e JOIN ok ON ok.key = e.idempotency_key
    ), pl AS (  -- the postings, each with its account's balance after it
        SELECT posted.id AS entry_id, l.entry_no, l.line_no, l.account, l.side, l.amount,
               a.balance + sum(CASE WHEN l.side = a.normal_side THEN l.amount ELSE -l.amount END)
                   OVER (PARTITION BY l.account ORDER BY l.entry_no, l.line_no) AS balance_after
          FROM posted JOIN l ON l.entry_no = posted.entry_no JOIN ledger_ledgeraccount a ON a.id = l.account
    ), p AS (
        INSERT INTO ledger_posting (entry_id, account_id, side, amount, balance_after, business_date)
        SELECT pl.entry_id, pl.account, pl.side, pl.amount, pl.balance_after, v_date
          FROM pl ORDER BY pl.entry_no, pl.line_no
    ), u AS (
        UPDATE ledger_ledgeraccount a SET balance = s.balance, version = a.version + s.entries
          FROM (SELECT pl.account, (array_agg(pl.balance_after ORDER BY pl.entry_no DESC, pl.line_no DESC))[1]
                           AS balance,
                       count(DISTINCT pl.entry_no) AS entries
                  FROM pl GROUP BY pl.account) s
         WHERE a.id = s.account
    )
    -- p and u run to completion whether or not this reads them.
    SELECT array_agg(v.entry_no ORDER BY v.entry_no),
           array_agg(CASE WHEN posted.id IS NOT NULL THEN 'posted'
                          WHEN v.verdict IS NULL THEN 'raced'  -- lost its key to another transaction: below
                          WHEN v.verdict = 'refused' THEN cbs_refusal_reason(v.refused, p_currency, r.debited, r.change,
                                                                             p_booked_at)
                          ELSE v.verdict END ORDER BY v.entry_no),
           array_agg(coalesce(posted.id, v.used_id) ORDER BY v.entry_no),
           array_agg(v.about ORDER BY v.entry_no),
           array_agg(CASE WHEN v.verdict = 'refused' THEN r.change END ORDER BY v.entry_no),
           array_agg(v.entry_no ORDER BY v.entry_no)
               FILTER (WHERE v.verdict = 'refused' OR (v.verdict IS NULL AND posted.id IS NULL)),
           count(posted.id), min(posted.id), max(posted.id), sum(posted.debits),
           encode(sha256(convert_to(string_agg(posted.id::text || ':' || posted.hash, ',' ORDER BY posted.id),
                                    'UTF8')), 'hex')
      INTO o_no, o_outcome, o_entry, o_account, o_change, v_aside, v_count, v_first, v_last, v_total, v_digest
      FROM v
      LEFT JOIN posted ON posted.entry_no = v.entry_no
      LEFT JOIN ck r ON v.verdict = 'refused' AND r.entry_no = v.entry_no AND r.account = v.refused;

    -- Off the common path, entry by entry: a refused entry's account's available
    -- balance, and an entry whose key another transaction took while this one waited
    -- (as for a single entry, that entry is the answer).
    -- (Entry n is at position n of every array.)
    o_available := array_fill(NULL::bigint, ARRAY[coalesce(cardinality(o_no), 0)]);
    FOREACH i IN ARRAY coalesce(v_aside, '{}') LOOP
        IF o_outcome[i] = 'raced' THEN
            SELECT e.id, e.content_hash INTO v_entry, v_hash
              FROM ledger_journalentry e WHERE e.idempotency_key = p_keys[i];
            o_entry[i] := v_entry;
            o_outcome[i] := CASE WHEN v_hash = p_hashes[i] THEN 'exists' ELSE 'key_reused' END;
        ELSE
            SELECT a.spendable INTO v_available
              FROM ledger_ledgeraccount a WHERE a.id = o_account[i];
            o_available[i] := v_available;
        END IF;
    END LOOP;

    IF v_count > 0 THEN
        PERFORM cbs_record_event(p_occurred_at, p_actor, p_actor_username, p_role, p_ip, p_user_agent, p_request_id,
            p_event_channel, 'ledger.batch_posted', 'ledger.journalentry', v_first::text || '-' || v_last::text,
            p_summary, NULL,
            jsonb_build_object('kind', p_kind, 'entries', v_count, 'total', v_total, 'currency', p_currency,
                               'first_entry', v_first, 'last_entry', v_last, 'digest', v_digest));
    END IF;

    RETURN QUERY SELECT * FROM unnest(o_no, o_outcome, o_entry, o_account, o_available, o_change);
END $$;
