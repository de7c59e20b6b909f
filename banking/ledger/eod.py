"""The ledger's step in the bank's end of day (places from banking.core.eod):

    10 release expired holds

A hold past its expiry already stopped counting in the available balance when it
expired; this step releases it, so that `held` and the hold list show what still
stands. Each release is audited by the ledger's own `release_expired_holds`. A rerun
finds nothing left to release.
"""

import datetime

from django.utils import timezone

from banking.audit.context import audit_context
from banking.core.eod import Step, register

from .actions import release_expired_holds

RELEASE_HOLDS_STEP = "ledger.release_expired_holds"


def day_end(date):
    """The last moment of business date `date` in the bank's time zone."""
    start = datetime.datetime.combine(date + datetime.timedelta(days=1), datetime.time.min)
    return timezone.make_aware(start, timezone.get_default_timezone()) - datetime.timedelta(microseconds=1)


def run_release_expired_holds(*, date, first=None, last=None):
    """Release every hold that expired by the end of `date` (and not later than now:
    a hold that expires tonight stands until it does)."""
    date = datetime.date.fromisoformat(date) if isinstance(date, str) else date
    with audit_context(channel="batch", actor_username=RELEASE_HOLDS_STEP):
        return release_expired_holds(actor=None, now=min(timezone.now(), day_end(date)))


register(Step(name=RELEASE_HOLDS_STEP, title="Release expired holds", order=10, run=run_release_expired_holds))
