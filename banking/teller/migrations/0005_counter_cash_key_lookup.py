"""Once re-planned `cbs_counter_cash`'s token look-up for each call. The function is
retired by migration 0006, so there is nothing left here to install."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("teller", "0004_counter_cash_function")]
    operations = []
