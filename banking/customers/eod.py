"""Customers' step in the bank's end of day: re-KYC due (place 90, banking.core.eod).

Partitioned by customer id over the customers to flag; flagging is once per customer
and due date (`rekyc.flag_rekyc_due`), so a rerun flags and emails nobody twice.
"""

import datetime

from banking.audit.context import audit_context
from banking.core.eod import Step, id_ranges, register

from .rekyc import flag_rekyc_due, rekyc_to_flag

REKYC_STEP = "customers.rekyc_due"


def _day(date):
    return datetime.date.fromisoformat(date) if isinstance(date, str) else date


def run_rekyc(*, date, first=None, last=None):
    """Flag the customers in [first, last] whose re-KYC is due by `date`; returns how many."""
    on = _day(date)
    customers = rekyc_to_flag(on)
    if first is not None:
        customers = customers.filter(pk__gte=first)
    if last is not None:
        customers = customers.filter(pk__lte=last)
    with audit_context(channel="batch", actor_username=REKYC_STEP):
        return sum(flag_rekyc_due(customer_id=pk, on=on) is not None
                   for pk in customers.order_by("pk").values_list("pk", flat=True))


def rekyc_partitions(*, date, size):
    return id_ranges(rekyc_to_flag(_day(date)), size)


register(Step(name=REKYC_STEP, title="Re-KYC due", order=90, run=run_rekyc, partitions=rekyc_partitions))
