"""Term deposits' steps in the bank's end of day (places from banking.core.eod):

    30 recurring deposit instalments, defaults and maturities   (partitioned by deposit)
    60 fixed deposits: the day's accrual, maturities and renewals (partitioned by deposit)
    63 fixed deposits' interest payable: one GL entry per product and branch

The rules are in `terms.py`. Each step is idempotent: accruals are cumulative
figures for a date, settlements close the deposit, instalments are marked paid, and
every posting carries `posting_key(date, step, deposit)`.
"""

import datetime

from banking.audit.context import audit_context
from banking.core.eod import Step, id_ranges, register

from . import terms


def _day(date):
    return datetime.date.fromisoformat(date) if isinstance(date, str) else date


def run_recurring(*, date, first=None, last=None):
    with audit_context(channel="batch", actor_username=terms.RECURRING_STEP):
        return terms.run_recurring_deposits(date=_day(date), first=first, last=last)


def recurring_partitions(*, date, size):
    return id_ranges(terms.recurring_deposits_due(_day(date)), size)


def run_fixed(*, date, first=None, last=None):
    with audit_context(channel="batch", actor_username=terms.FIXED_DEPOSITS_STEP):
        return terms.run_fixed_deposits(date=_day(date), first=first, last=last)


def fixed_partitions(*, date, size):
    return id_ranges(terms.fixed_deposits_due(_day(date)), size)


def run_fixed_interest(*, date, first=None, last=None):
    with audit_context(channel="batch", actor_username=terms.FIXED_DEPOSIT_INTEREST_STEP):
        return terms.post_accrued_interest(_day(date))


register(Step(name=terms.RECURRING_STEP, title="Recurring deposit instalments", order=30, run=run_recurring,
              partitions=recurring_partitions))
register(Step(name=terms.FIXED_DEPOSITS_STEP, title="Fixed deposits: accrual and maturities", order=60,
              run=run_fixed, partitions=fixed_partitions))
register(Step(name=terms.FIXED_DEPOSIT_INTEREST_STEP, title="Fixed deposits: interest payable", order=63,
              run=run_fixed_interest))
