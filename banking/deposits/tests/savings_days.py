"""Running the savings and current accounts' end-of-day steps day by day, as the
controller does, for the tests."""

import datetime

from banking.core.eod import registered
from banking.deposits import savings
from banking.ledger.eod import RELEASE_HOLDS_STEP
from banking.ledger.models import BusinessDate, LedgerAccount

STEPS = {RELEASE_HOLDS_STEP, savings.ACCRUAL_STEP, savings.ACCRUAL_POSTING_STEP, savings.CREDIT_STEP,
         savings.CREDIT_ROUNDING_STEP, savings.DORMANCY_STEP, savings.CHARGES_STEP}


def on(day):
    """Make `day` the bank's business date: what postings made now carry."""
    BusinessDate.objects.update_or_create(pk=1, defaults={"date": day})


def close_day(day, size=2):
    """Run this module's registered steps for `day`, in the day's order, each over its
    partitions of at most `size` accounts (several partitions even in a small test)."""
    on(day)
    done = {}
    for step in registered():
        if step.name not in STEPS or not step.applies_on(day):
            continue
        if step.partitions is None:
            done[step.name] = step.run(date=day)
        else:
            done[step.name] = sum(step.run(date=day, first=first, last=last)
                                  for first, last in step.partitions(date=day, size=size))
    return done


def days(first, last):
    day = first
    while day <= last:
        yield day
        day += datetime.timedelta(days=1)


def close_days(first, last, size=2, before=None):
    """Close every day from `first` to `last`; `before(day)` runs each day's business
    (postings, holds) after the date is set and before the steps."""
    for day in days(first, last):
        on(day)
        if before is not None:
            before(day)
        close_day(day, size=size)


def gl_balance(code):
    return LedgerAccount.objects.get(code=code).balance
