"""The available-balance formula is written once: `spendable` = balance - held +
overdraft_limit, a generated column the database keeps with each ledger account.
The posting rules (sql/account_rules.sql) read it instead of working it out, and so
do the posting functions when they report a refusal's available balance; the model's
`available` adds back the expired holds.

`cbs_account_refusal` takes `spendable` in place of the three amounts: the old
signature is dropped, and the rules and both posting functions are installed again
from their files, as they are when the migration runs (like 0013 to 0015).
"""

from pathlib import Path

import django.db.models.expressions
from django.db import migrations, models

import banking.ledger.models

SQL = Path(__file__).resolve().parents[1] / "sql"
FILES = ("account_rules.sql", "post_entry.sql", "post_batch.sql")
OLD_RULES = ("DROP FUNCTION IF EXISTS cbs_account_refusal("
             "boolean, text, text, bigint, bigint, bigint, bigint, boolean, text, boolean, bigint)")


def install(apps, schema_editor):
    schema_editor.execute(OLD_RULES, params=None)
    for name in FILES:
        schema_editor.execute((SQL / name).read_text(), params=None)


class Migration(migrations.Migration):

    dependencies = [
        ("ledger", "0015_entry_checks_per_statement"),
    ]

    operations = [
        migrations.AddField(
            model_name="ledgeraccount",
            name="spendable",
            field=banking.ledger.models.StoredGeneratedField(
                expression=django.db.models.expressions.CombinedExpression(
                    django.db.models.expressions.CombinedExpression(models.F("balance"), "-", models.F("held")),
                    "+", models.F("overdraft_limit")),
                output_field=models.BigIntegerField()),
        ),
        # Forward only: the files no longer hold the functions as they were before.
        migrations.RunPython(install, migrations.RunPython.noop, elidable=False),
    ]
