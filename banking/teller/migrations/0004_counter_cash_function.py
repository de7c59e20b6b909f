"""Once installed `cbs_counter_cash`, the counter's cash deposit in one statement.

The function kept a second copy of the counter's rules in PL/pgSQL beside the
teller's actions and wrote other apps' tables. Migration 0006 retires it: a cash
deposit or withdrawal is now one ordinary transaction in `banking/teller/actions.py`.
A database migrated from scratch never installs it; one that has it loses it in 0006.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("teller", "0003_leaner_indexes"), ("ledger", "0006_leaner_indexes")]
    operations = []
