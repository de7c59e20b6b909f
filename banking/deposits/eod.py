"""Savings and current accounts' steps in the bank's end of day (places from
banking.core.eod):

    40 savings and current interest accrual      (partitioned by account, every date)
    45 the day's accrual to the GL               (one entry per product and branch)
    50 quarter's interest credit                 (partitioned by account, quarter ends)
    55 the quarter's credit rounding to the GL   (one entry per product and branch)
    70 dormancy                                  (partitioned by account, every date)
    80 minimum balance charges                   (partitioned by account, month ends)

The rules are in `savings.py`; each step is idempotent and each partition one
transaction. Every step runs as the bank itself (actor None) inside an audit context
that names it.
"""

from banking.audit.context import audit_context
from banking.core.eod import Step, id_ranges, register

from . import savings


def _partitions(*, date, size):
    return id_ranges(savings.accounts_on_books(savings.as_date(date)), size)


def _batch(step, work):
    def run(*, date, first=None, last=None):
        with audit_context(channel="batch", actor_username=step):
            return work(date=date, first=first, last=last)

    return run


def _whole(step, work):
    def run(*, date, first=None, last=None):
        with audit_context(channel="batch", actor_username=step):
            return work(date=date)

    return run


def _on_quarter_ends(date):
    return savings.is_quarter_end(savings.as_date(date))


def _on_month_ends(date):
    return savings.is_month_end(savings.as_date(date))


register(Step(name=savings.ACCRUAL_STEP, title="Savings and current interest accrual", order=40,
              run=_batch(savings.ACCRUAL_STEP, savings.accrue_savings_interest), partitions=_partitions))
register(Step(name=savings.ACCRUAL_POSTING_STEP, title="Savings interest accrued to the GL", order=45,
              run=_whole(savings.ACCRUAL_POSTING_STEP, savings.post_savings_accrual)))
register(Step(name=savings.CREDIT_STEP, title="Quarter's savings interest credit", order=50,
              run=_batch(savings.CREDIT_STEP, savings.credit_savings_interest), partitions=_partitions,
              applies=_on_quarter_ends))
register(Step(name=savings.CREDIT_ROUNDING_STEP, title="Rounding of the quarter's savings interest", order=55,
              run=_whole(savings.CREDIT_ROUNDING_STEP, savings.post_credit_rounding), applies=_on_quarter_ends))
register(Step(name=savings.DORMANCY_STEP, title="Dormant accounts made inoperative", order=70,
              run=_batch(savings.DORMANCY_STEP, savings.watch_dormancy), partitions=_partitions))
register(Step(name=savings.CHARGES_STEP, title="Minimum balance charges", order=80,
              run=_batch(savings.CHARGES_STEP, savings.charge_minimum_balance), partitions=_partitions,
              applies=_on_month_ends))
