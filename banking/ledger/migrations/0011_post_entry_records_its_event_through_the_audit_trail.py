"""`cbs_post_entry` records its entry's audit event by calling the audit trail's
`cbs_record_event` (audit migration 0006), which writes and hashes it, instead of
writing the audit trail's table itself. The caller no longer sends a prepared JSON
with a placeholder for the entry's id; it sends the event's fields, and `after` as
jsonb. The arguments change, so the old function is dropped first.

This migration installs banking/ledger/sql/post_entry.sql as it is when the
migration runs, like 0010. A test fails when the installed function differs from the
file, so a change to the file comes with a new migration that installs it again.
"""

from pathlib import Path

from django.db import migrations

POST_ENTRY = Path(__file__).resolve().parents[1] / "sql" / "post_entry.sql"


def install(apps, schema_editor):
    schema_editor.execute("DROP FUNCTION IF EXISTS cbs_post_entry", params=None)
    schema_editor.execute(POST_ENTRY.read_text(), params=None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0010_post_entry_from_its_file"), ("audit", "0006_record_event_in_sql")]
    operations = [migrations.RunPython(install, migrations.RunPython.noop, elidable=False)]
