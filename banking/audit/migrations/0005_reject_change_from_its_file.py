"""`cbs_reject_change`, the append-only tables' trigger function, installed from
banking/audit/sql/reject_change.sql: the one definition the audit trail's tables
and the ledger's share.

It installs the file as it is when the migration runs. A test fails when the
installed function differs from the file, so a change to the file comes with a new
migration that installs it again.
"""

from pathlib import Path

from django.db import migrations

REJECT_CHANGE = Path(__file__).resolve().parents[1] / "sql" / "reject_change.sql"


def install(apps, schema_editor):
    schema_editor.execute(REJECT_CHANGE.read_text(), params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_seal_by_writer_transaction")]
    operations = [migrations.RunPython(install, migrations.RunPython.noop, elidable=False)]
