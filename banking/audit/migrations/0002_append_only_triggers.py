"""The audit trail is append-only: UPDATE and DELETE are rejected by triggers, for
the application's own database role as for anyone else. TRUNCATE is left to the
table owner (test databases are emptied with it); in production the application's
role does not own the tables."""

from pathlib import Path

from django.db import migrations

TABLES = ["audit_auditevent", "audit_auditseal"]

# The function's one definition is banking/audit/sql/reject_change.sql.
REJECT_CHANGE = Path(__file__).resolve().parents[1] / "sql" / "reject_change.sql"

TRIGGERS = """
CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION cbs_reject_change();
"""


def forward(apps, schema_editor):
    schema_editor.execute(REJECT_CHANGE.read_text(), params=None)
    for table in TABLES:
        schema_editor.execute(TRIGGERS.format(table=table), params=None)


def backward(apps, schema_editor):
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(forward, backward, elidable=False)]
