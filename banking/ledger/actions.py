"""Ledger actions.

Design overview
- `advance_business_date` moves the bank's date forward by one day (or to a given
  later date), locking the single BusinessDate row so that two end-of-day runs
  cannot both move it. It never moves the date backwards.
"""

import datetime

from django.db import transaction
from django.utils import timezone

from banking.audit.actions import record_event
from banking.core.errors import ValidationFailed

from .models import BusinessDate


@transaction.atomic
def advance_business_date(*, actor, to=None):
    """Advance the business date; locks the BusinessDate row."""
    row = BusinessDate.objects.select_for_update().filter(pk=1).first()
    if row is None:
        row = BusinessDate.objects.create(pk=1, date=timezone.localdate())
    before = row.date
    target = to or before + datetime.timedelta(days=1)
    if target <= before:
        raise ValidationFailed(f"The business date can only move forward from {before:%d %b %Y}.")
    row.date = target
    row.save(update_fields=["date", "changed_at"])
    record_event(
        action="ledger.business_date_advanced", obj=row, actor=actor,
        before={"date": before.isoformat()}, after={"date": target.isoformat()},
        summary=f"Business date {before:%d %b %Y} → {target:%d %b %Y}",
    )
    return row
