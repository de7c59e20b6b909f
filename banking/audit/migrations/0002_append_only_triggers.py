"""The audit trail is append-only: UPDATE and DELETE are rejected by triggers, for
the application's own database role as for anyone else. TRUNCATE is left to the
table owner (test databases are emptied with it); in production the application's
role does not own the tables."""

from django.db import migrations

TABLES = ["audit_auditevent", "audit_auditseal"]

FORWARD = """
CREATE OR REPLACE FUNCTION cbs_reject_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the table % is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""

TRIGGERS = """
CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION cbs_reject_change();
"""


def forward(apps, schema_editor):
    schema_editor.execute(FORWARD, params=None)
    for table in TABLES:
        schema_editor.execute(TRIGGERS.format(table=table), params=None)


def backward(apps, schema_editor):
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(forward, backward, elidable=False)]
