-- The rules a ledger account applies to a posting: the one place they are written.
-- Both posting functions call them: cbs_post_entry (post_entry.sql) for one entry,
-- cbs_post_batch (post_batch.sql) for many.
--
-- cbs_account_refusal answers, for one account and one entry's change to it, why the
-- account refuses the entry, or NULL when it takes it:
--   header        it is a header account, which groups others and takes no posting;
--   currency      it is kept in another currency than the entry's;
--   closed        it is closed;
--   frozen        it is frozen: no debits, no credits;
--   debit_frozen  it has a debit freeze and the entry debits it;
--   insufficient  it enforces its balance, and the entry lowers it below its minimum:
--                 the account's `spendable` (balance - held + overdraft, the generated
--                 column where that formula is written once) plus the change must stay
--                 at or above min_balance.
-- The rules are checked in that order; the first that fails names the refusal.
-- `p_change` is the entry's net change to the balance, on the account's normal side
-- (negative lowers it); `p_debited` whether any line of the entry debits it.
--
-- It is one SQL expression over its arguments, IMMUTABLE and not STRICT, so the planner
-- inlines it into the statement that calls it: the posting functions pay no function
-- call per account.
--
-- cbs_refusal_reason is what a refused entry is told. It is cbs_account_refusal on the
-- account as it stands now, except that an `insufficient` refusal that the account's
-- expired but unreleased holds would cover is `held_expired`: the caller releases them
-- (a hold's own action, which audits each release) and posts again. Called only for a
-- refused entry, off the posting path. It is PL/pgSQL, whose body PostgreSQL reads
-- only when it first runs: the ledger's migrations before 0016 install this file as it
-- is now, before the `spendable` column it reads exists.
--
-- Installed by the ledger's migrations from this file; a test fails when an installed
-- function differs from it, so a change here comes with a new migration that installs
-- it again (and the posting functions with it).
CREATE OR REPLACE FUNCTION cbs_account_refusal(
    p_is_header boolean, p_currency text, p_status text, p_spendable bigint,
    p_min_balance bigint, p_enforce_balance boolean, p_entry_currency text, p_debited boolean, p_change bigint)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN p_is_header THEN 'header'
        WHEN p_currency <> p_entry_currency THEN 'currency'
        WHEN p_status = 'closed' THEN 'closed'
        WHEN p_status = 'frozen' THEN 'frozen'
        WHEN p_status = 'debit_frozen' AND p_debited THEN 'debit_frozen'
        WHEN p_enforce_balance AND p_change < 0
             AND p_spendable + p_change < p_min_balance THEN 'insufficient'
    END
$$;

CREATE OR REPLACE FUNCTION cbs_refusal_reason(
    p_account bigint, p_entry_currency text, p_debited boolean, p_change bigint, p_at timestamptz)
RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (
    SELECT CASE
        WHEN r.code = 'insufficient'
             AND a.spendable + p_change
                 + (SELECT coalesce(sum(h.amount), 0) FROM ledger_hold h
                     WHERE h.account_id = a.id AND h.released_at IS NULL AND h.expires_at <= p_at)
                 >= a.min_balance
            THEN 'held_expired'
        ELSE r.code END
      FROM ledger_ledgeraccount a
     CROSS JOIN LATERAL (SELECT cbs_account_refusal(a.is_header, a.currency, a.status, a.spendable,
                                                    a.min_balance, a.enforce_balance,
                                                    p_entry_currency, p_debited, p_change) AS code) r
     WHERE a.id = p_account);
END
$$;
