"""The bank's business date, set when the ledger is first installed.

Without its row, `BusinessDate.objects.current()` falls back to the wall clock, so
the business date would turn over at midnight by itself instead of when end of day
moves it, and entries booked after midnight but before end of day would carry the
next day's value date. The row starts at the day the database is set up (what
`advance_business_date` would have started from); a row already there, set by
`seed_demo` or by end of day, is left as it is. `current()` keeps its fallback for
a database emptied without migrations (tests that flush it).
"""

from django.db import migrations
from django.utils import timezone


def create_business_date(apps, schema_editor):
    BusinessDate = apps.get_model("ledger", "BusinessDate")
    BusinessDate.objects.get_or_create(pk=1, defaults={"date": timezone.localdate()})


class Migration(migrations.Migration):
    dependencies = [("ledger", "0008_leaner_post_entry")]
    operations = [migrations.RunPython(create_business_date, migrations.RunPython.noop, elidable=False)]
