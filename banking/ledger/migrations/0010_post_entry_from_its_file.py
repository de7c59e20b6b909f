"""`cbs_post_entry` becomes the ledger's one posting engine, installed from
banking/ledger/sql/post_entry.sql.

Until now the function only answered 'refused' and the posting action went the
step-by-step way in Python to find out why, so every rule was written twice. The
function now says why itself (a refusal code, the account, its available balance
and the change), and checks that the entry balances and whether its key was used
for other content; `actions.post_entry` only turns the codes into words. Its result
has new columns, so the old function is dropped first.

This migration installs the file as it is when the migration runs, like 0005 and
0008. A test fails when the installed function differs from the file, so a change to
the file comes with a new migration that installs it again.
"""

from pathlib import Path

from django.db import migrations

POST_ENTRY = Path(__file__).resolve().parents[1] / "sql" / "post_entry.sql"


def install(apps, schema_editor):
    schema_editor.execute("DROP FUNCTION IF EXISTS cbs_post_entry", params=None)
    schema_editor.execute(POST_ENTRY.read_text(), params=None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0009_business_date_row")]
    operations = [migrations.RunPython(install, migrations.RunPython.noop, elidable=False)]
