"""The ledger's set-based batch posting, `cbs_post_batch` (sql/post_batch.sql), and
the account rules it shares with `cbs_post_entry`.

The rules an account applies to a posting move out of `cbs_post_entry` into
`cbs_account_refusal` and `cbs_refusal_reason` (sql/account_rules.sql), so that the
single entry and the batch call the same ones: `cbs_post_entry` is installed again
from its file, which now calls them. `cbs_balances` (sql/balances.sql) gives other
apps' SQL the balances of ledger accounts.

Like 0010 and 0011, this installs the files as they are when the migration runs. A
test fails when an installed function differs from its file, so a change to a file
comes with a new migration that installs it again.
"""

from pathlib import Path

from django.db import migrations

SQL = Path(__file__).resolve().parents[1] / "sql"
# The rules first: cbs_refusal_reason is SQL, checked against the tables when created.
FILES = ("account_rules.sql", "post_entry.sql", "post_batch.sql", "balances.sql")


def install(apps, schema_editor):
    for name in FILES:
        schema_editor.execute((SQL / name).read_text(), params=None)


def uninstall(apps, schema_editor):
    schema_editor.execute("DROP FUNCTION IF EXISTS cbs_post_batch", params=None)
    schema_editor.execute("DROP FUNCTION IF EXISTS cbs_balances", params=None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0012_holiday")]
    operations = [migrations.RunPython(install, uninstall, elidable=False)]
