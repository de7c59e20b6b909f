"""The end-of-day controller: pre-checks, steps in order over partitions, retries,
failure and restart, catch-up, and two starts at once."""

import datetime

import pytest
from django.utils import timezone

from banking.approvals.actions import approve_request, submit_request
from banking.audit.models import AuditEvent
from banking.core.errors import NotPermitted, ValidationFailed
from banking.core.jobs import jobs_query
from banking.ledger.holidays import rule_holiday
from banking.ledger.models import BusinessDate
from banking.teller.actions import close_branch, close_till
from banking.teller.tests.factories import OPENING, funded_branch, key, supervisor_for, teller_with_open_till
from banking.testing import make_user, run_together
from banking.users.roles import Role

from .. import actions
from ..actions import (
    ATTEMPTS,
    EndOfDayRefused,
    EndOfDayRunning,
    advance_run,
    pre_check_problems,
    start_end_of_day,
)
from ..models import (
    EodLogLine,
    EodPartition,
    EodRun,
    EodStep,
    PartitionState,
    RunState,
    StepState,
    TrialBalanceSnapshot,
)
from .conftest import MONDAY, set_business_date
from .steps import POSTING_STEP, Recorder, make_accounts, postings_per_account

TUESDAY = MONDAY + datetime.timedelta(days=1)


def business_date():
    return BusinessDate.objects.current()


# -- pre-checks ------------------------------------------------------------------------------


def test_a_till_still_open_and_a_branch_not_closed_refuse_with_where_to_fix_them(on_monday, ops, day_of):
    day_of()
    branch = funded_branch()
    teller = teller_with_open_till(branch, supervisor_for(branch))
    with pytest.raises(EndOfDayRefused) as refused:
        start_end_of_day(actor=ops)
    problems = refused.value.problems
    assert [(p.fix, p.subject) for p in problems] == [("tills", branch.pk), ("branch", branch.pk)]
    assert f"Till of {teller.display_name} is still open" in problems[0].text
    assert "has not closed its cash for 07 Dec 2026" in problems[1].text
    assert not EodRun.objects.exists()


def test_a_counted_till_waits_for_its_sign_off(on_monday, ops, day_of):
    day_of()
    branch = funded_branch()
    teller = teller_with_open_till(branch, supervisor_for(branch))
    close_till(actor=teller, counted=OPENING, idempotency_key=key())
    texts = [p.text for p in pre_check_problems(MONDAY)]
    assert any("counted but not yet signed off" in text for text in texts)


def test_a_closed_branch_passes(on_monday, ops, day_of):
    day_of()
    branch = funded_branch()
    supervisor = supervisor_for(branch)
    teller = teller_with_open_till(branch, supervisor)
    day = close_till(actor=teller, counted=OPENING, idempotency_key=key())
    approve_request(actor=supervisor, request_id=day.close_request_id)
    close_branch(actor=supervisor, branch=branch)
    assert pre_check_problems(MONDAY) == []


def test_on_a_holiday_the_branches_need_not_close(db, ops, settings):
    settings.CBS_WEEKLY_HOLIDAYS = True
    sunday = MONDAY - datetime.timedelta(days=1)
    assert rule_holiday(sunday) == "Sunday"
    set_business_date(sunday)
    funded_branch()
    assert pre_check_problems(sunday) == []
    assert [p.fix for p in pre_check_problems(MONDAY)] == ["branch"]


def test_a_waiting_neft_payment_and_a_waiting_money_request_refuse(on_monday, ops, day_of):
    from banking.payments.models import Payment

    day_of()
    payment_fields = {"rail": "NEFT", "direction": "outward", "status": "sent", "origin": "internet",
                      "amount": 1000_00, "business_date": MONDAY}
    Payment.objects.create(number="P1", idempotency_key="k1", **payment_fields)
    maker = make_user(Role.OPERATIONS, mfa=False)
    moving = submit_request(actor=maker, kind="ledger.manual_journal", payload={"lines": []}, amount=500_00,
                            branch=None, summary="A journal")
    submit_request(actor=maker, kind="ledger.holiday_add", payload={"date": "2026-12-25", "name": "Christmas"},
                   amount=None, branch=None, summary="A holiday moves no money")
    problems = pre_check_problems(MONDAY)
    assert [(p.fix, p.subject) for p in problems] == [("neft", None), ("approval", moving.pk)]
    assert "1 NEFT payment waits for the next cycle" in problems[0].text
    assert f"Request #{moving.pk}, manual journal of ₹500.00, waits for a checker" in problems[1].text


def test_only_operations_may_start_it(on_monday, day_of):
    day_of()
    auditor = make_user(Role.AUDITOR, mfa=False)
    with pytest.raises(NotPermitted):
        start_end_of_day(actor=auditor)


def test_a_business_date_ahead_of_the_calendar_is_refused(on_monday, ops, day_of):
    day_of()
    set_business_date(TUESDAY)
    with pytest.raises(ValidationFailed, match="ahead of the calendar"):
        start_end_of_day(actor=ops)


# -- a day that runs ---------------------------------------------------------------------------


def test_the_steps_run_in_order_over_their_partitions_and_the_date_rolls(on_monday, ops, day_of, run_jobs):
    first = Recorder("test.first", 10, ranges=[(1, 5), (6, 9)])
    second = Recorder("test.second", 20)
    quarter = Recorder("test.quarter", 30)
    quarter.step = quarter.step.__class__(**{**quarter.step.__dict__, "applies": lambda date: False})
    day_of(first.step, second.step, quarter.step)
    run = start_end_of_day(actor=ops)
    assert run.state == RunState.WAITING and business_date() == MONDAY
    run_jobs()
    run.refresh_from_db()
    assert run.state == RunState.DONE and run.finished_at is not None
    assert business_date() == TUESDAY
    assert sorted(first.calls) == [(MONDAY, 1, 5), (MONDAY, 6, 9)]
    assert second.calls == [(MONDAY, None, None)]
    assert quarter.calls == []
    steps = {step.name: step for step in run.steps.all()}
    assert steps["test.first"].state == StepState.DONE and steps["test.first"].items == 9
    assert (steps["test.first"].partitions_done, steps["test.first"].partitions_total) == (2, 2)
    assert steps["test.quarter"].state == StepState.SKIPPED
    assert steps["operations.roll_business_date"].state == StepState.DONE
    # The second step started only after the first had finished every partition.
    assert steps["test.second"].started_at >= steps["test.first"].finished_at
    snapshot = TrialBalanceSnapshot.objects.get(business_date=MONDAY)
    assert snapshot.total_debit == snapshot.total_credit
    log = list(EodLogLine.objects.filter(run=run).values_list("text", flat=True))
    assert log[0].startswith("End of day for 07 Dec 2026 started by")
    assert any("Business date 08 Dec 2026 begins" in line for line in log)
    assert log[-1].startswith("End of day for 07 Dec 2026 done")
    assert AuditEvent.objects.filter(action="ledger.business_date_advanced").count() == 1
    assert AuditEvent.objects.filter(action="operations.eod_finished").count() == 1
    # The beginning of day put the new date's standing instructions on the queue.
    assert jobs_query().filter(task_name="payments.standing_instructions", args__date="2026-12-08").exists()


def test_a_step_with_nothing_to_do_moves_straight_on(on_monday, ops, day_of, run_jobs):
    empty = Recorder("test.empty", 10, ranges=[])
    day_of(empty.step)
    run = start_end_of_day(actor=ops)
    run_jobs()
    run.refresh_from_db()
    assert run.state == RunState.DONE
    assert run.steps.get(name="test.empty").partitions_total == 0


def test_a_step_posts_once_per_account_even_when_run_twice(on_monday, ops, day_of, run_jobs, settings):
    settings.CBS_EOD_PARTITION_SIZE = 2
    accounts = make_accounts(5)
    day_of(POSTING_STEP)
    run = start_end_of_day(actor=ops)
    run_jobs()
    run.refresh_from_db()
    assert run.state == RunState.DONE
    step = run.steps.get(name=POSTING_STEP.name)
    assert (step.partitions_total, step.items) == (3, 5)
    # A partition run again (a worker killed after posting, before it said so) posts nothing more.
    assert POSTING_STEP.run(date=MONDAY, first=accounts[0].pk, last=accounts[-1].pk) == 5
    assert postings_per_account() == {account.pk: 1 for account in accounts}


def test_running_the_advance_job_again_changes_nothing(on_monday, ops, day_of, run_jobs):
    first = Recorder("test.first", 10, ranges=[(1, 2)])
    day_of(first.step)
    run = start_end_of_day(actor=ops)
    advance_run(run_id=run.pk)
    advance_run(run_id=run.pk)
    assert EodPartition.objects.filter(step__run=run).count() == 1
    run_jobs()
    advance_run(run_id=run.pk)
    run.refresh_from_db()
    assert run.state == RunState.DONE and business_date() == TUESDAY
    assert first.calls == [(MONDAY, 1, 2)]


# -- failure, retry, restart -------------------------------------------------------------------


# Committed, so that the queue's clock moves on and a retry falls due at once.
@pytest.mark.django_db(transaction=True)
def test_a_failing_partition_is_retried_then_stops_its_step_and_the_date_does_not_roll(on_monday, ops, day_of,
                                                                                         run_jobs):
    first = Recorder("test.first", 10, ranges=[(1, 5), (6, 9), (10, 12)], fail=[(6, 9)])
    after = Recorder("test.after", 20)
    day_of(first.step, after.step)
    run = start_end_of_day(actor=ops)
    run_jobs()
    run.refresh_from_db()
    assert run.state == RunState.FAILED
    assert business_date() == MONDAY
    # The failing part was tried ATTEMPTS times; the others ran once, and were not stopped by it.
    assert first.calls.count((MONDAY, 6, 9)) == ATTEMPTS
    assert first.calls.count((MONDAY, 1, 5)) == 1 and first.calls.count((MONDAY, 10, 12)) == 1
    parts = {p.first: p for p in EodPartition.objects.filter(step__name="test.first")}
    assert parts[6].state == PartitionState.FAILED and parts[6].attempts == ATTEMPTS
    assert "RuntimeError: part 6-9 cannot be processed" in parts[6].error
    assert parts[1].state == parts[10].state == PartitionState.DONE
    step = run.steps.get(name="test.first")
    assert step.state == StepState.FAILED and "part 2 of 3 (6–9) failed 3 times" in step.error
    assert after.calls == []
    warnings = EodLogLine.objects.filter(run=run, level="warning").count()
    assert warnings == ATTEMPTS - 1
    assert EodLogLine.objects.filter(run=run, level="error").count() == 1
    # The queue shows the job failed, with its error.
    job = jobs_query().get(task_name="operations.eod_partition", args__partition_id=parts[6].pk)
    assert job.status == "failed" and "cannot be processed" in job.last_error

    # Once the cause is put right, starting again runs the failed part only, and the day finishes.
    first.fail.clear()
    again = start_end_of_day(actor=ops)
    assert again.pk == run.pk
    run_jobs()
    run.refresh_from_db()
    assert run.state == RunState.DONE and business_date() == TUESDAY
    assert first.calls.count((MONDAY, 6, 9)) == ATTEMPTS + 1
    assert first.calls.count((MONDAY, 1, 5)) == 1
    assert after.calls == [(MONDAY, None, None)]
    assert AuditEvent.objects.filter(action="operations.eod_restarted").count() == 1


def test_a_step_that_cannot_plan_its_partitions_stops_the_day(on_monday, ops, day_of, run_jobs):
    broken = Recorder("test.broken", 10)

    def no_partitions(*, date, size):
        raise ValueError("the accounts table is not there")

    broken.step = broken.step.__class__(**{**broken.step.__dict__, "partitions": no_partitions})
    day_of(broken.step)
    run = start_end_of_day(actor=ops)
    run_jobs()
    run.refresh_from_db()
    assert run.state == RunState.FAILED and business_date() == MONDAY
    assert "could not be split into parts: ValueError: the accounts table is not there" in run.error


# -- catch-up ----------------------------------------------------------------------------------------


def test_missed_dates_run_one_after_the_other_up_to_the_calendar(db, ops, monkeypatch, day_of, run_jobs):
    recorder = Recorder("test.every_day", 10)
    day_of(recorder.step)
    thursday = MONDAY + datetime.timedelta(days=3)
    set_business_date(MONDAY)
    monkeypatch.setattr(actions, "calendar_date", lambda: thursday)
    start_end_of_day(actor=ops)
    run_jobs()
    assert business_date() == thursday
    assert [call[0] for call in recorder.calls] == [MONDAY, TUESDAY, TUESDAY + datetime.timedelta(days=1)]
    runs = list(EodRun.objects.order_by("business_date"))
    assert [(r.business_date, r.state, r.catch_up) for r in runs] == [
        (MONDAY, RunState.DONE, False), (TUESDAY, RunState.DONE, True),
        (TUESDAY + datetime.timedelta(days=1), RunState.DONE, True),
    ]
    assert runs[0].started_by == ops and runs[1].started_by is None
    assert TrialBalanceSnapshot.objects.count() == 3


# -- twice at once ---------------------------------------------------------------------------------


def test_starting_while_it_runs_is_told_it_is_running(on_monday, ops, ops2, day_of):
    day_of()
    start_end_of_day(actor=ops)
    with pytest.raises(EndOfDayRunning, match="already running: started by"):
        start_end_of_day(actor=ops2)
    assert EodRun.objects.count() == 1


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_two_starts_at_the_same_moment_run_once(monkeypatch, day_of):
    day_of()
    set_business_date(MONDAY)
    monkeypatch.setattr(actions, "calendar_date", lambda: MONDAY)
    first, second = make_user(Role.OPERATIONS, mfa=False), make_user(Role.OPERATIONS, mfa=False)
    results, errors = run_together(lambda: start_end_of_day(actor=first), lambda: start_end_of_day(actor=second))
    assert len(results) == 1 and len(errors) == 1
    assert isinstance(errors[0], EndOfDayRunning)
    assert EodRun.objects.count() == 1
    assert EodStep.objects.filter(run=results[0]).count() == 2


@pytest.mark.django_db(transaction=True)
def test_the_database_refuses_a_second_unfinished_run(day_of):
    from django.db import IntegrityError, transaction

    EodRun.objects.create(business_date=MONDAY, state=RunState.RUNNING)
    with pytest.raises(IntegrityError), transaction.atomic():
        EodRun.objects.create(business_date=TUESDAY, state=RunState.WAITING)
    with pytest.raises(IntegrityError), transaction.atomic():
        EodRun.objects.create(business_date=MONDAY, state=RunState.DONE, finished_at=timezone.now())


# -- the whole day, every app's steps ----------------------------------------------------------


def test_the_whole_day_with_every_registered_step_runs_on_a_quiet_bank(on_monday, ops, run_jobs):
    from banking.core.eod import registered

    run = start_end_of_day(actor=ops)
    run_jobs()
    run.refresh_from_db()
    assert run.state == RunState.DONE, run.error
    assert business_date() == TUESDAY
    names = [step.name for step in run.steps.order_by("order")]
    assert names == [step.name for step in registered()]
    assert set(run.steps.values_list("state", flat=True)) <= {StepState.DONE, StepState.SKIPPED}
