"""Retire `cbs_counter_cash`.

A cash deposit or withdrawal at the counter is one ordinary transaction in
`banking/teller/actions.py` (lock the till, count the notes, `post_entry`, record the
counter transaction and its audit event), so the counter's rules exist once. Going
back does not bring the function back: nothing calls it.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("teller", "0005_counter_cash_key_lookup")]
    operations = [
        migrations.RunSQL("DROP FUNCTION IF EXISTS cbs_counter_cash", reverse_sql=migrations.RunSQL.noop,
                          elidable=False),
    ]
