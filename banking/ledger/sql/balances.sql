-- cbs_balances: ledger accounts' balances and held amounts, for another app's SQL.
--
-- An app's SQL reads only its own tables (DESIGN §1): end of day's set-based steps in
-- deposits (a day's interest accrual over thousands of accounts in one statement)
-- read the balances of their accounts' ledger sub-ledgers through this function.
-- `held` is every hold not yet released, expired ones included (end of day releases
-- those first). An id with no ledger account gives no row.
--
-- Installed by the ledger's migrations from this file; a test fails when the installed
-- function differs from it, so a change here comes with a new migration that installs
-- it again.
CREATE OR REPLACE FUNCTION cbs_balances(p_accounts bigint[])
RETURNS TABLE (account_id bigint, balance bigint, held bigint)
LANGUAGE sql STABLE AS $$
    SELECT a.id, a.balance, a.held FROM ledger_ledgeraccount a WHERE a.id = ANY(p_accounts)
$$;
