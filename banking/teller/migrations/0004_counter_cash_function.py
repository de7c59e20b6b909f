"""A cash deposit or slip withdrawal at the counter in one statement: `cbs_counter_cash`.

The counter is where the bank's staff spend their day, and a deposit used to take
four statements and a COMMIT after the form's account look-up (lock the till,
post the entry, record the cash, commit). `actions._cash_in_one_call` calls this
function once, outside any transaction, so the statement is its own transaction:
one round trip. It does what the step-by-step path in actions.py does, in the
same order and with the same locks:

1. locks the teller's till FOR UPDATE (it must be the till the caller names, at
   the branch of the teller's profile, over the cash GL the caller names) and
   reads the teller's cash limit and the business date;
2. after the lock, in a fresh snapshot, reads the till's day and looks the form's
   token up;
3. returns 'fallback', having written nothing, unless the till's day is open, the
   token is new, the amount is within the teller's limit and (paying out) the
   till holds the notes;
4. notes the customer's activity on the deposit account (its row is locked before
   the ledger accounts, as the deposits module's actions lock them);
5. reserves the transaction's id (its number, C000000123, is the entry's
   reference) and posts the entry through `cbs_post_entry` (ledger migration
   0005). If the entry is refused, or its key was used, it raises SQLSTATE CB001,
   which rolls the statement back, activity note included;
6. writes the till's new count, the cash movement, the transaction (posted) and
   its audit event, and returns 'posted' with the transaction's id, the entry's id
   and the business date.

On 'fallback' or CB001, actions.py takes the step-by-step path, which says why in
the teller's words (a closed till, a reused token, the approval queue above the
limit, a refused entry), or posts.

The audit event's hash covers the transaction's id, its number in the summary and
the entry's id, which only exist here. actions.py sends the canonical JSON with
placeholders where they go: the object id and the entry as a NUL character, which
JSON always escapes (\\u0000), so no text can produce them, and each is replaced
with its key in front (`"object_id":"\\u0000"`), which no text can produce either,
as JSON escapes its quotes. `verify_audit` recomputes the same hash from the row.
A test holds this path and the step-by-step one to the same rows
(banking/teller/tests/test_counter_function.py).
"""

from django.db import migrations

COUNTER_CASH = r"""
CREATE OR REPLACE FUNCTION cbs_counter_cash(
    p_teller bigint, p_till bigint, p_till_gl bigint, p_kind text, p_account bigint, p_amount bigint,
    p_counts bigint[], p_key text, p_txn text,
    p_occurred_at timestamptz, p_actor_username text, p_role text, p_ip inet, p_user_agent text,
    p_request_id text, p_event_channel text, p_summary_head text, p_summary_tail text, p_after text,
    p_payload text, p_summary_token text,
    -- The entry, as cbs_post_entry takes it; its reference becomes the transaction's number.
    e_key text, e_content_hash text, e_kind text, e_narration text, e_channel text, e_reference text,
    e_maker bigint, e_checker bigint, e_reversal_of bigint, e_total bigint, e_currency text,
    e_booked_at timestamptz, e_today date, e_accounts bigint[], e_sides text[], e_amounts bigint[],
    e_occurred_at timestamptz, e_actor bigint, e_actor_username text, e_role text, e_ip inet, e_user_agent text,
    e_request_id text, e_event_channel text, e_summary text, e_after text, e_payload text,
    OUT outcome text, OUT txn_id bigint, OUT txn_entry bigint, OUT txn_date date)
LANGUAGE plpgsql AS $$
DECLARE
    v_held bigint[];
    v_limit bigint;
    v_day text;
    v_key_used boolean;
    v_sign integer := CASE WHEN p_kind = 'cash_deposit' THEN 1 ELSE -1 END;
    v_number text;
    v_posted text;
BEGIN
    SELECT ARRAY[box.n500, box.n200, box.n100, box.n50, box.n20, box.n10, box.coins], prof.cash_limit, bd.date
      INTO v_held, v_limit, txn_date
      FROM teller_cashbox box
      JOIN users_staffprofile prof ON prof.user_id = p_teller AND prof.branch_id = box.branch_id
     CROSS JOIN (SELECT coalesce((SELECT b.date FROM ledger_businessdate b WHERE b.id = 1), e_today) AS date) bd
     WHERE box.id = p_till AND box.kind = 'till' AND box.teller_id = p_teller AND box.ledger_account_id = p_till_gl
       FOR UPDATE OF box;
    IF NOT FOUND THEN
        outcome := 'fallback'; RETURN;
    END IF;
    -- A new statement, so a new snapshot: what committed while this waited for the
    -- till (the teller's own close, the same form pressed twice) is seen.
    SELECT (SELECT d.status FROM teller_tillday d WHERE d.till_id = p_till AND d.business_date = txn_date),
           EXISTS (SELECT FROM teller_countertransaction t WHERE t.idempotency_key = p_key)
      INTO v_day, v_key_used;
    IF v_day IS DISTINCT FROM 'open' OR v_key_used OR p_amount > v_limit
       OR EXISTS (SELECT FROM unnest(v_held, p_counts) AS c(h, n) WHERE c.h + v_sign * c.n < 0) THEN
        outcome := 'fallback'; RETURN;
    END IF;
    UPDATE deposits_depositaccount SET last_customer_activity_on = txn_date
     WHERE id = p_account AND last_customer_activity_on IS DISTINCT FROM txn_date;
    txn_id := nextval(pg_get_serial_sequence('teller_countertransaction', 'id'));
    v_number := 'C' || lpad(txn_id::text, greatest(9, length(txn_id::text)), '0');
    SELECT r.outcome, r.entry_id INTO v_posted, txn_entry
      FROM cbs_post_entry(e_key, e_content_hash, e_kind, e_narration, e_channel, v_number, e_maker, e_checker,
                          e_reversal_of, e_total, e_currency, e_booked_at, e_today, e_accounts, e_sides, e_amounts,
                          e_occurred_at, e_actor, e_actor_username, e_role, e_ip, e_user_agent, e_request_id,
                          e_event_channel, e_summary, e_after, e_payload) r;
    IF v_posted IS DISTINCT FROM 'posted' THEN
        RAISE EXCEPTION 'cbs_counter_cash: the entry was %', v_posted USING ERRCODE = 'CB001';
    END IF;
    WITH box AS (
        UPDATE teller_cashbox SET n500 = n500 + v_sign * p_counts[1], n200 = n200 + v_sign * p_counts[2],
            n100 = n100 + v_sign * p_counts[3], n50 = n50 + v_sign * p_counts[4], n20 = n20 + v_sign * p_counts[5],
            n10 = n10 + v_sign * p_counts[6], coins = coins + v_sign * p_counts[7]
         WHERE id = p_till
    ), move AS (
        INSERT INTO teller_cashmovement (n500, n200, n100, n50, n20, n10, coins, box_id, business_date, kind, amount,
            entry_id, created_by_id, created_at)
        VALUES (v_sign * p_counts[1], v_sign * p_counts[2], v_sign * p_counts[3], v_sign * p_counts[4],
            v_sign * p_counts[5], v_sign * p_counts[6], v_sign * p_counts[7], p_till, txn_date,
            CASE WHEN v_sign = 1 THEN 'deposit' ELSE 'withdrawal' END, v_sign * p_amount, txn_entry, p_teller, e_booked_at)
    ), txn AS (
        INSERT INTO teller_countertransaction
        SELECT * FROM jsonb_populate_record(NULL::teller_countertransaction,
            p_txn::jsonb || jsonb_build_object('id', txn_id, 'business_date', txn_date, 'entry_id', txn_entry))
    )
    INSERT INTO audit_auditevent (occurred_at, actor_id, actor_username, role, ip, user_agent, request_id, channel,
        action, object_type, object_id, summary, before, after, content_hash)
    VALUES (p_occurred_at, p_teller, p_actor_username, p_role, p_ip, p_user_agent, p_request_id, p_event_channel,
        'teller.' || p_kind, 'teller.countertransaction', txn_id::text, p_summary_head || v_number || p_summary_tail,
        NULL, replace(p_after, '"entry":"\u0000"', '"entry":' || txn_entry)::jsonb,
        encode(sha256(convert_to(
            replace(replace(replace(p_payload,
                '"object_id":"\u0000"', '"object_id":"' || txn_id || '"'),
                '"entry":"\u0000"', '"entry":' || txn_entry),
                p_summary_token, left(p_summary_token, -6) || v_number),
            'UTF8')), 'hex'));
    outcome := 'posted';
END $$;
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(COUNTER_CASH, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS cbs_counter_cash", params=None)


class Migration(migrations.Migration):
    dependencies = [("teller", "0003_leaner_indexes"), ("ledger", "0006_leaner_indexes")]
    operations = [migrations.RunPython(forward, backward, elidable=False)]
