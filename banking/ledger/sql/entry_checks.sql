-- The database's check that every journal entry balances: at commit, each entry has
-- at least two postings and its debits equal its credits, whatever code wrote it.
--
-- It is checked per statement, over the statement's rows at once, and put off to the
-- commit only for the entries that need it:
--   cbs_postings_inserted   after each INSERT into ledger_posting, over the rows it
--                           wrote (a transition table): every entry they name that
--                           does not balance now, with all of its postings so far, is
--                           put on ledger_entrycheck;
--   cbs_entries_inserted    after each INSERT into ledger_journalentry: every new
--                           entry without a posting yet goes on ledger_entrycheck;
--   cbs_check_entry         at commit (a deferred constraint trigger on
--                           ledger_entrycheck), for each entry put there: refuses
--                           the transaction unless the entry then balances, and
--                           takes the entry off the list.
-- Postings and entries are never changed or deleted (their append-only triggers), so
-- an entry that balances at the end of a statement still balances at commit unless a
-- later statement adds postings to it, and that statement checks it again. The posting
-- functions write an entry and its postings in one statement: their entries balance
-- when the statement ends and nothing is left for the commit. An entry written with
-- its postings in several statements (raw SQL, a fixture) is checked at commit, as
-- before. (Each posting and each entry used to queue a deferred row trigger, each a
-- query at commit: three million for a quarter's interest credit to a million
-- accounts.)
--
-- Installed by the ledger's migrations from this file; a test fails when an installed
-- function differs from it, so a change here comes with a new migration that installs
-- it again.
CREATE TABLE IF NOT EXISTS ledger_entrycheck (entry_id bigint NOT NULL);

CREATE OR REPLACE FUNCTION cbs_postings_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- Per entry named, an index scan of its postings (LATERAL), whatever the sizes.
    INSERT INTO ledger_entrycheck (entry_id)
    SELECT n.entry_id
      FROM (SELECT DISTINCT t.entry_id FROM new_postings t) n
     CROSS JOIN LATERAL (
        SELECT coalesce(sum(p.amount) FILTER (WHERE p.side = 'D'), 0) AS debits,
               coalesce(sum(p.amount) FILTER (WHERE p.side = 'C'), 0) AS credits, count(*) AS lines
          FROM ledger_posting p WHERE p.entry_id = n.entry_id) s
     WHERE s.debits <> s.credits OR s.lines < 2;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION cbs_entries_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- A subquery per entry: an index probe, where an anti join could read the index whole.
    INSERT INTO ledger_entrycheck (entry_id)
    SELECT n.id FROM new_entries n
     WHERE (SELECT p.entry_id FROM ledger_posting p WHERE p.entry_id = n.id LIMIT 1) IS NULL;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION cbs_check_entry() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    debits bigint;
    credits bigint;
    lines integer;
BEGIN
    SELECT coalesce(sum(CASE WHEN side = 'D' THEN amount ELSE 0 END), 0),
           coalesce(sum(CASE WHEN side = 'C' THEN amount ELSE 0 END), 0),
           count(*)
      INTO debits, credits, lines
      FROM ledger_posting WHERE entry_id = NEW.entry_id;
    IF lines = 0 THEN
        RAISE EXCEPTION 'journal entry % has no postings', NEW.entry_id USING ERRCODE = 'check_violation';
    END IF;
    IF debits <> credits OR lines < 2 THEN
        RAISE EXCEPTION 'journal entry % is unbalanced: debits % credits % in % posting(s)',
            NEW.entry_id, debits, credits, lines
            USING ERRCODE = 'check_violation';
    END IF;
    DELETE FROM ledger_entrycheck WHERE entry_id = NEW.entry_id;
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS ledger_posting_balanced ON ledger_posting;
DROP TRIGGER IF EXISTS ledger_entry_has_postings ON ledger_journalentry;
DROP TRIGGER IF EXISTS ledger_postings_inserted ON ledger_posting;
DROP TRIGGER IF EXISTS ledger_entries_inserted ON ledger_journalentry;
DROP TRIGGER IF EXISTS ledger_entry_checked ON ledger_entrycheck;
DROP FUNCTION IF EXISTS cbs_check_entry_balanced();
DROP FUNCTION IF EXISTS cbs_check_entry_has_postings();

CREATE TRIGGER ledger_postings_inserted AFTER INSERT ON ledger_posting
    REFERENCING NEW TABLE AS new_postings
    FOR EACH STATEMENT EXECUTE FUNCTION cbs_postings_inserted();

CREATE TRIGGER ledger_entries_inserted AFTER INSERT ON ledger_journalentry
    REFERENCING NEW TABLE AS new_entries
    FOR EACH STATEMENT EXECUTE FUNCTION cbs_entries_inserted();

CREATE CONSTRAINT TRIGGER ledger_entry_checked AFTER INSERT ON ledger_entrycheck
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION cbs_check_entry();
