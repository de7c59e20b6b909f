"""Leave room on each page of ledger accounts for their balances' updates.

Every posting rewrites its accounts' rows (balance, version). PostgreSQL can keep
the new version on the same page and skip the indexes (a HOT update) only when the
page has room; a table filled to the brim sends each update to another page and
through all six of the table's indexes. With 20% of each page kept free, balance
updates stay HOT. The setting applies to pages filled from now on
(a restored or reloaded table gets it everywhere).
"""

from django.db import migrations


def forward(apps, schema_editor):
    schema_editor.execute("ALTER TABLE ledger_ledgeraccount SET (fillfactor = 80)", params=None)


def backward(apps, schema_editor):
    schema_editor.execute("ALTER TABLE ledger_ledgeraccount RESET (fillfactor)", params=None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0006_leaner_indexes")]
    operations = [migrations.RunPython(forward, backward, elidable=False)]
