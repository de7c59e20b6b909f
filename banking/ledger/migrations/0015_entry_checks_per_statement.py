"""The balanced-entry check runs once per statement over the rows it wrote, and waits
for the commit only for the entries that need it (sql/entry_checks.sql), instead of a
deferred trigger per posting and per entry. `cbs_post_batch` finds used keys and locks
its accounts through their indexes (sql/post_batch.sql).

Installs the files as they are when the migration runs, like 0013 and 0014. A test
fails when an installed function differs from its file, so a change to a file comes
with a new migration that installs it again.
"""

from pathlib import Path

from django.db import migrations

SQL = Path(__file__).resolve().parents[1] / "sql"

# Back to the row triggers of 0003.
ROW_TRIGGERS = """
DROP TRIGGER IF EXISTS ledger_postings_inserted ON ledger_posting;
DROP TRIGGER IF EXISTS ledger_entries_inserted ON ledger_journalentry;
DROP TABLE IF EXISTS ledger_entrycheck;
DROP FUNCTION IF EXISTS cbs_postings_inserted();
DROP FUNCTION IF EXISTS cbs_entries_inserted();
DROP FUNCTION IF EXISTS cbs_check_entry();
"""


def install(apps, schema_editor):
    for name in ("entry_checks.sql", "post_batch.sql"):
        schema_editor.execute((SQL / name).read_text(), params=None)


def uninstall(apps, schema_editor):
    from importlib import import_module

    schema_editor.execute(ROW_TRIGGERS, params=None)
    schema_editor.execute(import_module("banking.ledger.migrations.0003_ledger_triggers").BALANCE_CHECK, params=None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0014_batch_posting_planned_per_call")]
    operations = [migrations.RunPython(install, uninstall, elidable=False)]
