"""Cards' steps in the bank's end of day (places from banking.core.eod):

    36 ATM transactions past the month's free ones charged  (partitioned by account, every date)
    38 compensation for failed dispenses not reversed by T+5 (whole, every date)

The rules are in charges.py and complaints.py; each step is idempotent and each
partition one transaction, run as the bank itself (actor None) inside an audit
context that names the step.
"""

from banking.audit.context import audit_context
from banking.core.eod import Step, id_ranges, register

from . import charges, complaints


def _partitions(*, date, size):
    return id_ranges(charges.accounts_with_cards(), size)


def _as(step, work):
    def run(*, date, first=None, last=None):
        with audit_context(channel="batch", actor_username=step):
            return work(date=date, first=first, last=last)

    return run


register(Step(name=charges.CHARGES_STEP, title="ATM transactions past the free ones charged", order=36,
              run=_as(charges.CHARGES_STEP, charges.charge_atm_transactions), partitions=_partitions))
register(Step(name=complaints.COMPENSATION_STEP, title="Compensation for ATM reversals late past T+5", order=38,
              run=_as(complaints.COMPENSATION_STEP, complaints.compensate_late_reversals)))
