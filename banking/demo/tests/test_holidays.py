"""The demo bank seeds on any day of the calendar, with the bank's weekly holidays on:
its history starts on a working day, and on a holiday the counters stay shut."""

import datetime

import pytest
from django.core.management import call_command

from banking.ledger.holidays import is_holiday
from banking.ledger.models import BusinessDate, JournalEntry
from banking.teller.models import TillDay

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("today", [
    datetime.date(2026, 12, 8),   # 45 days back is 24 Oct 2026, the fourth Saturday
    datetime.date(2026, 12, 13),  # a Sunday: the branches do not open
])
def test_seed_demo_on_any_day(settings, today):
    settings.CBS_WEEKLY_HOLIDAYS = True
    BusinessDate.objects.update_or_create(pk=1, defaults={"date": today})
    call_command("seed_demo")
    assert BusinessDate.objects.current() == today
    assert JournalEntry.objects.exists()
    assert not TillDay.objects.filter(business_date__in=[d for d in _days_before(today) if is_holiday(d)]).exists()


def _days_before(today, days=60):
    return [today - datetime.timedelta(days=n) for n in range(days + 1)]
