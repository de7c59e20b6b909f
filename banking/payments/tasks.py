"""The payments' background work (banking.core.jobs).

- UPI collect requests past their expiry are expired every 5 minutes;
- an NEFT cycle settles every half hour, day and night (48 a day, DESIGN §5);
- the standing instructions due on a business date are paid when that day begins:
  the beginning of day defers `pay_standing_instructions` with the new date.
"""

import datetime

from banking.audit.context import audit_context
from banking.core import jobs

from .actions import expire_collect_requests as expire_collect_requests_action
from .reconciliation import run_neft_cycle
from .standing import run_standing_instructions


@jobs.periodic(cron="*/5 * * * *", name="payments.expire_collect_requests")
def expire_collect_requests(*, timestamp):
    """Expire the UPI collect requests that waited past their expiry (as `expire_collect_requests`)."""
    with audit_context(channel="batch", actor_username="expire_collect_requests"):
        return expire_collect_requests_action()


@jobs.periodic(cron="0,30 * * * *", name="payments.neft_cycle")
def neft_cycle(*, timestamp):
    """Settle the next NEFT cycle and reconcile its settlement file (as `run_neft_batch`).

    Returns how many payments the cycle settled or returned."""
    with audit_context(channel="batch", actor_username="run_neft_batch"):
        batch, _reconciliation = run_neft_cycle(actor=None)
    return 0 if batch is None else batch.settled_count + batch.returned_count


@jobs.task(name="payments.standing_instructions", queue="default", lock="payments.standing_instructions")
def pay_standing_instructions(*, date):
    """Pay the standing instructions due on `date` (an ISO date, "2026-04-01"), as
    `run_standing_instructions --date` does. Run twice for one date, it pays nothing
    twice. Returns how many instructions were due."""
    run_date = datetime.date.fromisoformat(date)
    with audit_context(channel="batch", actor_username="run_standing_instructions"):
        return len(run_standing_instructions(date=run_date))


def defer_standing_instructions(date):
    """Queue the day's standing instructions for `date` (a date), once: a second
    call while the first job waits queues nothing. Returns the job's id or None."""
    return jobs.defer(pay_standing_instructions, date=date.isoformat(),
                      queueing_lock=f"payments.standing_instructions:{date.isoformat()}")
