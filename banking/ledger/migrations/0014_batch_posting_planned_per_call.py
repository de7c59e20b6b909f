"""`cbs_post_batch` is planned for each call's own arrays (SET plan_cache_mode =
force_custom_plan): a plan kept from a call of a few entries joins ten thousand by
nested loops. A refused entry's available balance is read entry by entry, off the
common path, instead of by a join over every account.

Installs banking/ledger/sql/post_batch.sql as it is when the migration runs, like
0013. A test fails when the installed function differs from the file, so a change to
the file comes with a new migration that installs it again.
"""

from pathlib import Path

from django.db import migrations

POST_BATCH = Path(__file__).resolve().parents[1] / "sql" / "post_batch.sql"


def install(apps, schema_editor):
    schema_editor.execute(POST_BATCH.read_text(), params=None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0013_batch_posting")]
    operations = [migrations.RunPython(install, migrations.RunPython.noop, elidable=False)]
