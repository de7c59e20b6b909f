"""An Idempotency-Key is claimed in one statement: the database function
`cbs_claim_idempotency_key`, installed from banking/idempotency/sql/claim.sql, takes
the key's lock, forgets its expired answer and reads its kept one.

It installs the file as it is when the migration runs. A test fails when the
installed function differs from the file, so a change to the file comes with a new
migration that installs it again.
"""

from pathlib import Path

from django.db import migrations

CLAIM = Path(__file__).resolve().parents[1] / "sql" / "claim.sql"


def install(apps, schema_editor):
    schema_editor.execute(CLAIM.read_text(), params=None)


def uninstall(apps, schema_editor):
    schema_editor.execute("DROP FUNCTION IF EXISTS cbs_claim_idempotency_key(bigint, text, text, timestamptz)")


class Migration(migrations.Migration):
    dependencies = [("idempotency", "0001_initial")]
    operations = [migrations.RunPython(install, uninstall, elidable=False)]
