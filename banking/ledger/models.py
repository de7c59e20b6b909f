"""The general ledger.

Design overview
- `BusinessDate` is the bank's value date, separate from the wall clock. Exactly one
  row exists; end of day moves it forward with `actions.advance_business_date`.
"""

from django.db import models
from django.utils import timezone


class BusinessDateQuerySet(models.QuerySet):
    def current(self):
        row = self.filter(pk=1).first()
        return row.date if row else timezone.localdate()


class BusinessDate(models.Model):
    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    date = models.DateField()
    changed_at = models.DateTimeField(auto_now=True)

    objects = BusinessDateQuerySet.as_manager()

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="business_date_single_row")]

    def __str__(self):
        return self.date.isoformat()
