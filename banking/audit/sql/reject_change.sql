-- cbs_reject_change: the trigger function of every append-only table (the audit
-- trail's events and seals, the ledger's entries and postings). UPDATE and DELETE
-- are refused for every role, the application's own included; TRUNCATE is left to
-- the tables' owner (test databases are emptied with it; in production the
-- application's role does not own the tables).
--
-- The audit trail owns it: its tables were the first append-only ones, and the
-- other apps' migrations already come after the audit trail's. Installed by audit
-- migration 0005 from this file; a test fails when the installed function differs.
CREATE OR REPLACE FUNCTION cbs_reject_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the table % is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
