"""Database-level guarantees, whatever code talks to the database:

- a deferred constraint trigger checks, at commit, that each entry touched has
  debits equal to credits (and at least two postings);
- journal entries and postings reject UPDATE and DELETE, through the audit trail's
  append-only function `cbs_reject_change`. (TRUNCATE is left to the
  database owner: it is how test databases are emptied between tests, and the
  application's role in production should not own the tables.)
"""

from django.db import migrations

BALANCE_CHECK = """
CREATE OR REPLACE FUNCTION cbs_check_entry_balanced() RETURNS trigger AS $$
DECLARE
    debits bigint;
    credits bigint;
    lines integer;
BEGIN
    SELECT COALESCE(SUM(CASE WHEN side = 'D' THEN amount ELSE 0 END), 0),
           COALESCE(SUM(CASE WHEN side = 'C' THEN amount ELSE 0 END), 0),
           COUNT(*)
      INTO debits, credits, lines
      FROM ledger_posting WHERE entry_id = NEW.entry_id;
    IF debits <> credits OR lines < 2 THEN
        RAISE EXCEPTION 'journal entry % is unbalanced: debits % credits % in % posting(s)',
            NEW.entry_id, debits, credits, lines
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER ledger_posting_balanced
    AFTER INSERT ON ledger_posting
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION cbs_check_entry_balanced();

CREATE OR REPLACE FUNCTION cbs_check_entry_has_postings() RETURNS trigger AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM ledger_posting WHERE entry_id = NEW.id) THEN
        RAISE EXCEPTION 'journal entry % has no postings', NEW.id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER ledger_entry_has_postings
    AFTER INSERT ON ledger_journalentry
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION cbs_check_entry_has_postings();
"""

# The audit trail's function (banking/audit/sql/reject_change.sql, there since audit 0002).
IMMUTABLE = """
CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION cbs_reject_change();
"""

TABLES = ["ledger_journalentry", "ledger_posting"]


def forward(apps, schema_editor):
    schema_editor.execute(BALANCE_CHECK, params=None)
    for table in TABLES:
        schema_editor.execute(IMMUTABLE.format(table=table), params=None)


def backward(apps, schema_editor):
    schema_editor.execute("DROP TRIGGER IF EXISTS ledger_posting_balanced ON ledger_posting;", params=None)
    schema_editor.execute("DROP TRIGGER IF EXISTS ledger_entry_has_postings ON ledger_journalentry;", params=None)
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};", params=None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0002_journalentry_ledgeraccount_hold_posting_and_more"), ("audit", "0002_append_only_triggers")]
    operations = [migrations.RunPython(forward, backward, elidable=False)]
