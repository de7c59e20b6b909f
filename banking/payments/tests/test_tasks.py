"""The payments' scheduled jobs run the same actions as the commands, through the
queue: collect requests expire, NEFT cycles settle, and a day's standing
instructions are paid once however often the job is queued."""

import datetime

import pytest
from django.utils import timezone

from banking.core import jobs
from banking.ledger.models import BusinessDate

from ..models import CollectStatus, PaymentStatus, RunOutcome, StandingInstructionRun
from ..tasks import defer_standing_instructions, expire_collect_requests, neft_cycle, pay_standing_instructions
from .factories import fresh, vpa
from .test_reconciliation import pay
from .test_standing import instruction, on
from .test_upi_and_inbound import collect

pytestmark = pytest.mark.django_db


def test_the_schedule_is_the_banks():
    schedule = dict(jobs.schedule())
    assert schedule["payments.expire_collect_requests"] == "*/5 * * * *"
    assert schedule["payments.neft_cycle"] == "0,30 * * * *"  # 48 cycles a day, round the clock


def test_the_expiry_job_expires_overdue_collect_requests(bank, run_jobs):
    account = bank.account()
    request = collect(vpa(account).address)
    request.expires_at = timezone.now() - datetime.timedelta(seconds=1)
    request.save()
    jobs.defer(expire_collect_requests, timestamp=0)
    assert run_jobs() == 1
    request.refresh_from_db()
    assert request.status == CollectStatus.EXPIRED


def test_the_neft_cycle_job_settles_the_waiting_payments(bank, run_jobs):
    account = bank.account(balance=50_000_00)
    payment = pay(account, 1_000_00)
    jobs.defer(neft_cycle, timestamp=0)
    run_jobs()
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SETTLED
    assert jobs.jobs_query().get(task_name="payments.neft_cycle").status == "succeeded"


def test_the_days_standing_instructions_are_queued_once_and_paid_once(bank, run_jobs):
    day = on(datetime.date(2026, 6, 10))
    account, own = bank.account(balance=5_000_00), bank.account(balance=0)
    own.customer = account.customer
    own.save(update_fields=["customer"])
    instruction(account, credit_account=own, amount=1_250_00)
    BusinessDate.objects.update_or_create(pk=1, defaults={"date": datetime.date(2026, 6, 11)})

    assert defer_standing_instructions(day) is not None
    assert defer_standing_instructions(day) is None  # one waits already
    run_jobs()
    jobs.defer(pay_standing_instructions, date=day.isoformat())  # queued again later: pays nothing twice
    run_jobs()
    assert [run.outcome for run in StandingInstructionRun.objects.all()] == [RunOutcome.PAID]
    assert fresh(own).balance == 1_250_00
    assert jobs.jobs_query().filter(task_name="payments.standing_instructions", status="succeeded").count() == 2


def test_a_date_that_is_not_a_date_fails_the_job_with_its_error(db, run_jobs):
    job_id = jobs.defer(pay_standing_instructions, date="10/06/2026")
    run_jobs()
    job = jobs.jobs_query().get(pk=job_id)
    assert job.status == "failed"
    assert "Invalid isoformat string" in job.last_error
