"""End of day: the controller that closes the bank's business date.

Design overview
- `start_end_of_day` is what operations' Start button calls. It locks the
  BusinessDate row, so two presses at the same moment queue: the second finds the
  first's run and is told it is running (`EndOfDayRunning`). The database backs this
  (one run per date, one unfinished run at a time, models.py).
- Before a run begins, the pre-checks (`pre_check_problems`) must all pass, each
  refusal naming where it is fixed: every till of every branch closed and signed off,
  every active branch's cash closed (not on a holiday, when the counters never
  opened), no NEFT payment waiting for a cycle, and no approval request that would
  post money on the date still waiting for a checker (requests that move money are
  those with an amount, ApprovalRequest's own rule). A refusal writes nothing.
- The steps are those registered in `banking.core.eod`, in their order; the
  controller knows none of them by name. `advance_run` (a job) starts the next step:
  it asks the step for its partitions and puts one job per partition on the queue
  (`run_partition`), in the transaction that records them. A step that runs once is
  one partition. When a partition finishes, it locks its step and counts what is
  left: the last one to finish puts `advance_run` back on the queue, so exactly one
  does, and the next step starts only when every partition of this one is done.
- A partition that raises is retried by the queue, up to `ATTEMPTS` attempts in all;
  the other partitions carry on. After the last attempt the partition, its step and
  the run stop with the error shown, and the date does not roll. Starting end of day
  again restarts the failed partitions, never the finished ones.
- A worker killed in the middle of a partition leaves it running: the queue's
  recovery of stalled jobs runs it again, and so does pressing Start, which asks the
  queue to retry the jobs of workers that stopped sending heartbeats. A step is
  idempotent (every posting carries `posting_key(date, step, subject)`), so running
  a partition twice posts nothing twice.
- Catch-up: when a run has rolled the date and the new business date is still before
  the calendar date, the controller runs that missed date next, and so on until the
  business date is the calendar date. The pre-checks belong to the date operations
  started: on the missed dates that follow no counter could open.
- Locks, in this order only: the BusinessDate row, the run, a step, a partition.
- Batch work runs with `actor=None` in an audit context of channel "batch" named
  after the step (the steps' postings and events say which step made them).
- Holidays: operations asks for a holiday to be added or removed
  (`request_holiday`, `request_holiday_removal`); the ledger's rules (holidays.py)
  refuse a date that is not ahead of the business date, and the ledger carries it
  out when a second member of operations approves.

Errors: EndOfDayRefused (pre-checks, with `problems`), EndOfDayRunning,
ValidationFailed, NotPermitted.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from banking.approvals.actions import submit_request
from banking.approvals.models import ApprovalRequest
from banking.audit.actions import record_event, seal_events
from banking.audit.context import audit_context
from banking.core import eod
from banking.core.errors import BankingError, NotPermitted, ValidationFailed
from banking.ledger import holidays
from banking.ledger.actions import advance_business_date
from banking.ledger.models import BusinessDate
from banking.ledger.queries import trial_balance
from banking.payments.models import Payment
from banking.teller.actions import branch_close_problems
from banking.teller.models import BranchDay
from banking.users.models import Branch

from .models import (
    EodLogLine,
    EodPartition,
    EodRun,
    EodStep,
    LogLevel,
    PartitionState,
    RunState,
    StepState,
    TrialBalanceLine,
    TrialBalanceSnapshot,
)

RUN_PERMISSION = "operations.run_end_of_day"
HOLIDAY_PERMISSION = "operations.manage_holidays"
# Attempts of one partition before its step stops; the queue retries it ATTEMPTS - 1 times.
ATTEMPTS = 3
ERROR_MAX = 2000


class EndOfDayRefused(BankingError):
    """A pre-check failed: `problems` lists each, with where it is fixed."""

    default_message = "End of day cannot start yet."

    def __init__(self, problems):
        self.problems = problems
        super().__init__(f"End of day cannot start yet: {len(problems)} thing"
                         f"{'s' if len(problems) != 1 else ''} to finish first.")


class EndOfDayRunning(BankingError):
    default_message = "End of day is already running."


@dataclass(frozen=True)
class Problem:
    """One pre-check that failed. `fix` names where it is fixed ("tills", "branch",
    "neft", "approval"), `subject` the branch or request it concerns; the portal turns
    them into a link."""

    text: str
    fix: str
    subject: int | None = None


def _when(date):
    return f"{date:%d %b %Y}"


def _partition_size():
    return int(getattr(settings, "CBS_EOD_PARTITION_SIZE", eod.DEFAULT_PARTITION_SIZE))


def business_date():
    return BusinessDate.objects.current()


def calendar_date():
    """Today by the calendar, in the bank's time zone: what the business date catches up to."""
    return timezone.localdate()


# -- pre-checks --------------------------------------------------------------------------


APPROVALS_SHOWN = 10


def pre_check_problems(date):
    """What stands between the bank and closing `date`, in words, each with where it
    is fixed. Empty when end of day may start."""
    problems = []
    holiday = holidays.holiday_name(date)
    closed = set(BranchDay.objects.filter(business_date=date).values_list("branch_id", flat=True))
    for branch in Branch.objects.filter(is_active=True).order_by("code"):
        for text in branch_close_problems(branch, date):
            problems.append(Problem(f"{branch.name}: {text}", "tills", branch.pk))
        if branch.pk not in closed and holiday is None:
            problems.append(Problem(f"{branch.name} has not closed its cash for {_when(date)}.", "branch", branch.pk))
    waiting_neft = Payment.objects.awaiting_neft_batch().count()
    if waiting_neft:
        problems.append(Problem(
            f"{waiting_neft} NEFT payment{'s wait' if waiting_neft > 1 else ' waits'} for the next cycle: the day's "
            "last NEFT cycle has not settled.", "neft"))
    waiting = ApprovalRequest.objects.pending().filter(amount__isnull=False).order_by("created_at", "id")
    count = waiting.count()
    for approval in waiting[:APPROVALS_SHOWN]:
        problems.append(Problem(
            f"Request #{approval.pk}, {approval.kind_label.lower()} of {approval.money}, waits for a checker: "
            f"{approval.summary}", "approval", approval.pk))
    if count > APPROVALS_SHOWN:
        problems.append(Problem(f"{count - APPROVALS_SHOWN} more requests that move money wait for a checker.",
                                "approval"))
    return problems


# -- starting -----------------------------------------------------------------------------


def _log(run, text, level=LogLevel.INFO):
    EodLogLine.objects.create(run=run, text=text[:ERROR_MAX], level=level)


def _locked_business_date():
    row = BusinessDate.objects.select_for_update().filter(pk=1).first()
    if row is None:
        row = BusinessDate.objects.create(pk=1, date=timezone.localdate())
    return row.date


def _steps_by_name():
    return {step.name: step for step in eod.registered()}


def _create_run(date, *, actor, catch_up):
    run = EodRun.objects.create(business_date=date, state=RunState.WAITING, started_by=actor, catch_up=catch_up)
    EodStep.objects.bulk_create(
        EodStep(run=run, name=step.name, title=step.title, order=step.order,
                state=StepState.WAITING if step.applies_on(date) else StepState.SKIPPED)
        for step in eod.registered()
    )
    return run


def start_end_of_day(*, actor):
    """Start end of day for the business date, or restart a run that stopped with an
    error, and return the run. Locks the BusinessDate row, then the run.

    Refuses with EndOfDayRefused when a pre-check fails, EndOfDayRunning when a run
    is already under way (after putting back on the queue any of its partitions
    whose worker died), and ValidationFailed when the business date is ahead of the
    calendar (its day has not come)."""
    if actor is None or not actor.has_perm(RUN_PERMISSION):
        raise NotPermitted("Only operations staff allowed to run end of day can start it.")
    with transaction.atomic():
        date = _locked_business_date()
        run = EodRun.objects.unfinished().select_for_update().first()
        if run is not None and run.state in (RunState.WAITING, RunState.RUNNING):
            running = run
        else:
            running = None
            run = _start_or_restart(run, date, actor)
    if running is not None:
        # After the transaction, which only read: the jobs put back on the queue must stay there.
        raise _running(running)
    return run


def _running(run):
    """EndOfDayRunning for `run`, after putting back on the queue its parts whose
    worker stopped."""
    recovered = recover_stalled_partitions(run)
    who = run.started_by.display_name if run.started_by else "the controller"
    started = timezone.localtime(run.started_at or run.created_at)
    message = f"End of day for {_when(run.business_date)} is already running: started by {who} at {started:%H:%M}."
    if recovered:
        message += (f" {recovered} part{'s' if recovered > 1 else ''} left by a stopped worker "
                    f"{'were' if recovered > 1 else 'was'} put back on the queue.")
    return EndOfDayRunning(message, run=run)


def _start_or_restart(run, date, actor):
    """Within start_end_of_day's transaction: the pre-checks, then a new run for `date`
    or the failed `run` restarted."""
    if run is None and date > calendar_date():
        raise ValidationFailed(f"The business date is already {_when(date)}, ahead of the calendar: end of day "
                               "for it runs once its day has come.")
    problems = pre_check_problems(date)
    if problems:
        raise EndOfDayRefused(problems)
    if run is None:
        run = _create_run(date, actor=actor, catch_up=False)
        _log(run, f"End of day for {_when(date)} started by {actor.display_name}.")
        record_event(action="operations.eod_started", obj=run, actor=actor,
                     summary=f"End of day for {_when(date)} started")
        _defer_advance(run)
    else:
        _restart(run, actor)
    return run


def _restart(run, actor):
    """Run a failed run again: its failed partitions from their first attempt, its
    failed step's planning if that is what failed. Finished partitions stay finished."""
    failed = list(EodStep.objects.select_for_update().filter(run=run, state=StepState.FAILED))
    run.state, run.error = RunState.RUNNING, ""
    run.save(update_fields=["state", "error"])
    _log(run, f"End of day for {_when(run.business_date)} restarted by {actor.display_name}.")
    record_event(action="operations.eod_restarted", obj=run, actor=actor,
                 summary=f"End of day for {_when(run.business_date)} restarted")
    for step in failed:
        step.error = ""
        if step.partitions_total is None:  # it failed while planning: plan it again
            step.state = StepState.WAITING
            step.save(update_fields=["state", "error"])
            continue
        step.state = StepState.RUNNING
        step.save(update_fields=["state", "error"])
        parts = list(EodPartition.objects.select_for_update().filter(step=step, state=PartitionState.FAILED))
        for part in parts:
            part.state, part.attempts, part.error = PartitionState.WAITING, 0, ""
            part.save(update_fields=["state", "attempts", "error"])
            _defer_partition(part)
        _log(run, f"{step.title}: {len(parts)} failed part{'s' if len(parts) != 1 else ''} back on the queue.")
    if not any(step.partitions_total is not None for step in failed):
        _defer_advance(run)


# -- the queue ------------------------------------------------------------------------------


def _defer_advance(run):
    from . import tasks

    tasks.defer_advance(run_id=run.pk)


def _defer_partition(part):
    from . import tasks

    part.job_id = tasks.defer_partition(partition_id=part.pk)
    part.save(update_fields=["job_id"])


def recover_stalled_partitions(run):
    """Put back on the queue the partitions of `run` whose worker stopped (killed, or
    its machine lost) while running them; return how many."""
    from . import tasks

    job_ids = list(EodPartition.objects.filter(step__run=run, state=PartitionState.RUNNING, job_id__isnull=False)
                   .values_list("job_id", flat=True))
    if not job_ids:
        return 0
    return tasks.retry_stalled(job_ids)


# -- advancing ---------------------------------------------------------------------------------


def advance_run(*, run_id):
    """Start the run's next step, or finish the run when none is left (a job). Locks
    the run, then its steps. Run more than once for the same point, it does nothing
    the second time: a step already planned is left to its partitions."""
    with transaction.atomic():
        run = EodRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.state in (RunState.DONE, RunState.FAILED):
            return
        if run.state == RunState.WAITING:
            run.state, run.started_at = RunState.RUNNING, timezone.now()
            run.save(update_fields=["state", "started_at"])
            _log(run, f"A worker took up end of day for {_when(run.business_date)}.")
        steps = _steps_by_name()
        for step in EodStep.objects.select_for_update().filter(run=run, state__in=[StepState.WAITING,
                                                                                  StepState.RUNNING]):
            if step.state == StepState.RUNNING:
                if step.partitions_total is None or step.partitions_done < step.partitions_total:
                    return  # its partitions are on the queue; the last one to finish comes back here
                _finish_step(run, step)
                continue
            if not _plan_step(run, step, steps.get(step.name)):
                return
        _finish_run(run)


def _plan_step(run, step, registered):
    """Put the step's partitions on the queue; True when the step turned out to have
    nothing to do (the caller moves on), False when it is under way or failed."""
    step.started_at = timezone.now()
    if registered is None:
        _fail(run, step, f"The step {step.name} is no longer part of the day.")
        return False
    try:
        if registered.partitions is None:
            ranges = [(None, None)]
        else:
            ranges = [(int(first), int(last)) for first, last in
                      registered.partitions(date=run.business_date, size=_partition_size())]
    except Exception as error:  # noqa: BLE001 - any failure of a step's own code stops the step, in words
        _fail(run, step, f"{step.title} could not be split into parts: {_error_text(error)}")
        return False
    step.partitions_total = len(ranges)
    if not ranges:
        step.state, step.finished_at = StepState.DONE, timezone.now()
        step.save(update_fields=["state", "started_at", "finished_at", "partitions_total"])
        _log(run, f"{step.title}: nothing to do.")
        return True
    step.state = StepState.RUNNING
    step.save(update_fields=["state", "started_at", "partitions_total"])
    parts = EodPartition.objects.bulk_create(
        EodPartition(step=step, number=number, first=first, last=last)
        for number, (first, last) in enumerate(ranges, start=1)
    )
    for part in parts:
        _defer_partition(part)
    _log(run, f"{step.title}: started, {len(parts)} part{'s' if len(parts) != 1 else ''} on the queue.")
    return False


def _finish_step(run, step):
    step.state, step.finished_at = StepState.DONE, timezone.now()
    step.save(update_fields=["state", "finished_at"])
    _log(run, f"{step.title}: done, {step.items} item{'s' if step.items != 1 else ''} in "
              f"{step.duration:.1f} s.")


def _finish_run(run):
    run.state, run.finished_at = RunState.DONE, timezone.now()
    run.save(update_fields=["state", "finished_at"])
    _log(run, f"End of day for {_when(run.business_date)} done in {run.duration:.1f} s.")
    record_event(action="operations.eod_finished", obj=run, summary=f"End of day for {_when(run.business_date)} done")
    # Catch-up: a date the bank missed closing is closed next, in order.
    date = business_date()
    if run.business_date < date < calendar_date():
        following = _create_run(date, actor=None, catch_up=True)
        _log(following, f"End of day for {_when(date)} follows on from {_when(run.business_date)}: the business "
                        f"date is behind the calendar ({_when(calendar_date())}).")
        _defer_advance(following)


def _fail(run, step, text):
    step.state, step.error, step.finished_at = StepState.FAILED, text[:ERROR_MAX], timezone.now()
    step.save()
    run.state, run.error = RunState.FAILED, text[:ERROR_MAX]
    run.save(update_fields=["state", "error"])
    _log(run, f"{text} End of day stopped; the business date stays {_when(run.business_date)}.", LogLevel.ERROR)
    record_event(action="operations.eod_failed", obj=run, summary=f"End of day for {_when(run.business_date)} "
                                                                   f"stopped: {text}"[:500])


def _error_text(error):
    text = str(error).strip() or type(error).__name__
    return text if isinstance(error, BankingError) else f"{type(error).__name__}: {text}"


# -- partitions --------------------------------------------------------------------------------


def run_partition(*, partition_id, worker=""):
    """Run one partition of a step (a job) and return the items it processed.

    A partition already done does nothing (the same job delivered twice). One that
    raises is marked for another attempt and the error raised again, so the queue
    retries it; after the last attempt it fails for good, and its step and run stop.
    Locks the partition to take it; then, as it finishes, its run (on failure), its
    step and the partition again."""
    with transaction.atomic():
        part = (EodPartition.objects.select_for_update(of=("self",)).select_related("step__run")
                .filter(pk=partition_id).first())
        if part is None or part.state in (PartitionState.DONE, PartitionState.FAILED):
            return part.items if part else 0
        run, step = part.step.run, part.step
        if run.state == RunState.DONE:
            return 0
        part.state, part.attempts, part.worker = PartitionState.RUNNING, part.attempts + 1, worker[:120]
        part.started_at, part.finished_at = timezone.now(), None
        part.save(update_fields=["state", "attempts", "worker", "started_at", "finished_at"])
    registered = _steps_by_name().get(step.name)
    try:
        if registered is None:
            raise ValidationFailed(f"The step {step.name} is no longer part of the day.")
        with audit_context(channel="batch", actor_username=step.name, actor_id=None):
            items = registered.run(date=run.business_date, first=part.first, last=part.last)
    except Exception as error:
        _partition_failed(part, error)
        raise
    return _partition_done(part, int(items or 0))


def _partition_done(part, items):
    with transaction.atomic():
        step = EodStep.objects.select_for_update().select_related("run").get(pk=part.step_id)
        part = EodPartition.objects.select_for_update().get(pk=part.pk)
        if part.state == PartitionState.DONE:
            return part.items
        part.state, part.items, part.finished_at = PartitionState.DONE, items, timezone.now()
        part.save(update_fields=["state", "items", "finished_at"])
        totals = step.partitions.aggregate(done=Count("id", filter=Q(state=PartitionState.DONE)),
                                           items=Sum("items", filter=Q(state=PartitionState.DONE)))
        step.partitions_done, step.items = totals["done"], totals["items"] or 0
        step.save(update_fields=["partitions_done", "items"])
        if step.partitions_done == step.partitions_total and step.state == StepState.RUNNING:
            # The last partition to finish, under the step's lock: exactly one gets here.
            _defer_advance(step.run)
    return items


def _partition_failed(part, error):
    text = _error_text(error)[:ERROR_MAX]
    with transaction.atomic():
        run = EodRun.objects.select_for_update().get(pk=part.step.run_id)
        step = EodStep.objects.select_for_update().get(pk=part.step_id)
        part = EodPartition.objects.select_for_update().get(pk=part.pk)
        part.error, part.finished_at = text, timezone.now()
        where = f"{step.title}, part {part.number} of {step.partitions_total} ({part.range_label})"
        if part.attempts < ATTEMPTS:
            part.state = PartitionState.WAITING
            part.save(update_fields=["state", "error", "finished_at"])
            _log(run, f"{where} failed on attempt {part.attempts} of {ATTEMPTS} and will be tried again: {text}",
                 LogLevel.WARNING)
            return
        part.state = PartitionState.FAILED
        part.save(update_fields=["state", "error", "finished_at"])
        if run.state != RunState.DONE:
            _fail(run, step, f"{where} failed {ATTEMPTS} times: {text}")


# -- the controller's own steps -----------------------------------------------------------------


def seal_and_snapshot(*, date, first=None, last=None):
    """Step 100: seal the audit trail, and keep the trial balance at the close of
    `date`. Returns the number of audit events sealed."""
    sealed = seal_events()
    snapshot = take_trial_balance_snapshot(date=date)
    run = EodRun.objects.filter(business_date=date).first()
    if run is not None:
        _log(run, f"Audit trail sealed ({sealed} new event{'s' if sealed != 1 else ''}); trial balance kept for "
                  f"{_when(date)}, {snapshot.lines.count()} accounts.")
    return sealed


@transaction.atomic
def take_trial_balance_snapshot(*, date):
    """Keep the trial balance at the close of `date`, once: a second call returns the
    first snapshot. While `date` is still the business date no posting can be later
    than it, so the accounts' balances now are the balances at its close."""
    existing = TrialBalanceSnapshot.objects.filter(business_date=date).first()
    if existing is not None:
        return existing
    balances = trial_balance() if business_date() == date else trial_balance(as_of=date)
    snapshot = TrialBalanceSnapshot.objects.create(business_date=date, total_debit=balances.total_debit,
                                                   total_credit=balances.total_credit)
    TrialBalanceLine.objects.bulk_create(
        TrialBalanceLine(snapshot=snapshot, account=row.account, balance=row.balance) for row in balances.rows
    )
    record_event(action="operations.trial_balance_kept", obj=snapshot,
                 summary=f"Trial balance at close of {_when(date)} kept: {len(balances.rows)} accounts",
                 after={"debit": balances.total_debit, "credit": balances.total_credit})
    return snapshot


def roll_business_date(*, date, first=None, last=None):
    """Step 110: move the business date from `date` to the next day, then begin that
    day (`begin_business_day`), in one transaction. Run again once the date has
    moved, it does nothing. Returns 1 when it rolled the date, else 0."""
    with transaction.atomic():
        current = _locked_business_date()
        if current != date:
            return 0
        row = advance_business_date(actor=None, to=date + datetime.timedelta(days=1))
        begin_business_day(date=row.date, closed=date)
    return 1


def begin_business_day(*, date, closed):
    """The beginning of `date`: a branch is open on every business date it has not
    closed its cash for, so the new date opens every branch's counters, except on a
    holiday; and the day's standing instructions go on the queue."""
    from . import tasks

    run = EodRun.objects.filter(business_date=closed).first()
    holiday = holidays.holiday_name(date)
    branches = list(Branch.objects.filter(is_active=True).order_by("code").values_list("name", flat=True))
    if holiday:
        text = (f"Business date {_when(date)}: a bank holiday ({holiday}). Counters and cheque work stay closed "
                f"at {', '.join(branches) or 'every branch'}; accrual and digital payments run as every day.")
    else:
        text = f"Business date {_when(date)} begins: counters open at {', '.join(branches) or 'no branch yet'}."
    record_event(action="operations.business_day_began", object_type="ledger.businessdate", object_id="1",
                 summary=text[:500], after={"date": date.isoformat(), "holiday": holiday or None})
    tasks.defer_standing_instructions(date=date)
    if run is not None:
        _log(run, text)
        _log(run, f"Standing instructions due on {_when(date)} are on the queue.")


# -- holidays -------------------------------------------------------------------------------------


def _check_holiday_maker(actor):
    if actor is None or not actor.has_perm(HOLIDAY_PERMISSION):
        raise NotPermitted("Only operations staff can ask for a bank holiday to change.")


@transaction.atomic
def request_holiday(*, actor, date, name, idempotency_key=""):
    """Ask for `date` to become a bank holiday; a second member of operations approves
    it. Refused at once (the ledger's rule) for a date not after the business date, or
    a holiday already. Locks nothing."""
    _check_holiday_maker(actor)
    name = holidays.check_new_holiday(date, name, today=business_date())
    return submit_request(
        actor=actor, kind="ledger.holiday_add", payload={"date": date.isoformat(), "name": name}, amount=None,
        branch=None, summary=f"Make {date:%a %d %b %Y} a bank holiday: {name}", idempotency_key=idempotency_key,
    )


@transaction.atomic
def request_holiday_removal(*, actor, date, idempotency_key=""):
    """Ask for the holiday on `date` to be removed; a second member of operations
    approves it. Refused at once for a holiday by rule or one whose day has come."""
    _check_holiday_maker(actor)
    holiday = holidays.check_holiday_removal(date, today=business_date())
    return submit_request(
        actor=actor, kind="ledger.holiday_remove", payload={"date": date.isoformat(), "name": holiday.name},
        amount=None, branch=None, summary=f"Make {date:%a %d %b %Y} a working day again (not {holiday.name})",
        idempotency_key=idempotency_key,
    )


HOLIDAY_KINDS = ["ledger.holiday_add", "ledger.holiday_remove"]

