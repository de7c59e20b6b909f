"""Standing instructions: the schedule, paying once per date, retries, giving up with
an email, refusals and the end date."""

import datetime

import pytest
from django.core import mail
from django.core.management import call_command

from banking.audit.models import AuditEvent
from banking.core.errors import LimitExceeded, NotPermitted, ValidationFailed
from banking.ledger.models import BusinessDate

from ..actions import remove_payee
from ..models import (
    Frequency,
    InstructionStatus,
    Payee,
    Payment,
    Rail,
    RunOutcome,
    StandingInstruction,
    StandingInstructionRun,
)
from ..standing import (
    add_months,
    cancel_standing_instruction,
    create_standing_instruction,
    next_due,
    run_standing_instructions,
)
from .factories import fresh, key, payee

pytestmark = pytest.mark.django_db

D = datetime.date


def on(day):
    BusinessDate.objects.update_or_create(pk=1, defaults={"date": day})
    return day


def instruction(account, **fields):
    fields = {"actor": None, "customer": account.customer, "debit_account": account, "amount": 1_000_00,
              "frequency": Frequency.MONTHLY, "start_on": BusinessDate.objects.current(), **fields}
    if "payee" not in fields and "credit_account" not in fields:
        fields["payee"] = Payee.objects.active().filter(customer=account.customer).first() or payee(account)
        fields.setdefault("rail", Rail.NEFT)
    return create_standing_instruction(**fields)


# -- the schedule --------------------------------------------------------------------


@pytest.mark.parametrize(("start", "frequency", "dates"), [
    (D(2026, 1, 31), Frequency.MONTHLY, [D(2026, 2, 28), D(2026, 3, 31), D(2026, 4, 30), D(2026, 5, 31)]),
    (D(2027, 12, 31), Frequency.MONTHLY, [D(2028, 1, 31), D(2028, 2, 29), D(2028, 3, 31)]),
    (D(2026, 11, 30), Frequency.QUARTERLY, [D(2027, 2, 28), D(2027, 5, 30), D(2027, 8, 30)]),
    (D(2026, 12, 30), Frequency.WEEKLY, [D(2027, 1, 6), D(2027, 1, 13)]),
    (D(2026, 2, 28), Frequency.DAILY, [D(2026, 3, 1), D(2026, 3, 2)]),
])
def test_the_schedule_keeps_the_day_of_the_month_clamped_to_the_months_end(start, frequency, dates):
    si = StandingInstruction(start_on=start, frequency=frequency)
    due, seen = start, []
    for _ in dates:
        due = next_due(si, due)
        seen.append(due)
    assert seen == dates


def test_add_months_across_years():
    assert add_months(D(2026, 11, 15), 3, 15) == D(2027, 2, 15)
    assert add_months(D(2026, 1, 15), -1, 31) == D(2025, 12, 31)


# -- creating and cancelling ----------------------------------------------------------


def test_create_audits_and_a_repeated_token_makes_one_instruction(bank):
    on(D(2026, 6, 10))
    account = bank.account()
    token = key()
    first = instruction(account, idempotency_key=token)
    again = instruction(account, idempotency_key=token)
    assert first.pk == again.pk and StandingInstruction.objects.count() == 1
    assert first.next_run_on == D(2026, 6, 10) and first.status == InstructionStatus.ACTIVE
    assert AuditEvent.objects.filter(action="payments.standing_instruction_created").count() == 1


def test_create_refuses_what_does_not_belong_or_make_sense(bank):
    on(D(2026, 6, 10))
    account, stranger = bank.account(), bank.account()
    with pytest.raises(NotPermitted):
        instruction(stranger, customer=account.customer, credit_account=account)
    with pytest.raises(NotPermitted):
        instruction(account, payee=payee(stranger), rail=Rail.NEFT)
    with pytest.raises(NotPermitted):
        instruction(account, credit_account=stranger)
    with pytest.raises(ValidationFailed, match="before today"):
        instruction(account, start_on=D(2026, 6, 9))
    with pytest.raises(ValidationFailed, match="last date"):
        instruction(account, start_on=D(2026, 7, 1), end_on=D(2026, 6, 30))
    with pytest.raises(ValidationFailed, match="go by NEFT"):
        instruction(account, rail=Rail.INTERNAL)
    with pytest.raises(LimitExceeded, match="RTGS"):
        instruction(account, rail=Rail.RTGS, amount=1_99_999_99)
    with pytest.raises(ValidationFailed, match="different account"):
        instruction(account, credit_account=account)
    assert StandingInstruction.objects.count() == 0


def test_cancel_stops_the_payments(bank):
    on(D(2026, 6, 10))
    account = bank.account()
    si = instruction(account)
    with pytest.raises(ValidationFailed, match="why"):
        cancel_standing_instruction(actor=None, instruction=si, reason=" ")
    cancel_standing_instruction(actor=None, instruction=si, reason="Loan repaid")
    assert run_standing_instructions(date=D(2026, 6, 10)) == []
    assert fresh(account).balance == 10_00_000_00
    si.refresh_from_db()
    assert si.status == InstructionStatus.CANCELLED and si.cancel_reason == "Loan repaid"
    with pytest.raises(ValidationFailed, match="already cancelled"):
        cancel_standing_instruction(actor=None, instruction=si, reason="again")


# -- running -------------------------------------------------------------------------


def test_paid_once_per_date_even_when_run_twice(bank):
    on(D(2026, 6, 10))
    account, own = bank.account(balance=5_000_00), bank.account(balance=0)
    own.customer = account.customer
    own.save(update_fields=["customer"])
    si = instruction(account, credit_account=own, amount=1_250_00)
    first = run_standing_instructions(date=D(2026, 6, 10))
    second = run_standing_instructions(date=D(2026, 6, 10))
    call_command("run_standing_instructions", "--date", "2026-06-10")
    assert [run.outcome for run in first] == [RunOutcome.PAID] and second == []
    assert fresh(account).balance == 3_750_00 and fresh(own).balance == 1_250_00
    si.refresh_from_db()
    assert si.next_run_on == D(2026, 7, 10)
    payment = Payment.objects.get()
    assert payment.origin == "standing_instruction" and payment.idempotency_key == f"si-{si.pk}-20260610"
    assert AuditEvent.objects.filter(action="payments.standing_instruction_paid").count() == 1


def test_a_later_run_pays_the_next_due_date(bank):
    on(D(2026, 1, 31))
    account = bank.account(balance=5_000_00)
    si = instruction(account, amount=100_00, frequency=Frequency.MONTHLY)
    run_standing_instructions(date=D(2026, 1, 31))
    assert run_standing_instructions(date=D(2026, 2, 27)) == []  # not due yet
    on(D(2026, 2, 28))
    runs = run_standing_instructions()
    assert [(r.due_on, r.outcome) for r in runs] == [(D(2026, 2, 28), RunOutcome.PAID)]
    si.refresh_from_db()
    assert si.next_run_on == D(2026, 3, 31)
    assert fresh(account).balance == 4_800_00


def test_short_of_funds_retries_then_gives_up_with_an_email(bank, settings, django_capture_on_commit_callbacks):
    settings.CBS_STANDING_INSTRUCTION_ATTEMPTS = 3
    on(D(2026, 6, 10))
    account = bank.account(balance=500_00, email="priya@example.com")
    si = instruction(account, amount=1_000_00)
    outcomes = []
    for day in (10, 11, 12):
        with django_capture_on_commit_callbacks(execute=True):
            outcomes += [run.outcome for run in run_standing_instructions(date=D(2026, 6, day))]
        if day < 12:
            assert mail.outbox == []
    assert outcomes == [RunOutcome.RETRY, RunOutcome.RETRY, RunOutcome.GAVE_UP]
    si.refresh_from_db()
    assert si.next_run_on == D(2026, 7, 10) and si.failures == 0 and si.status == InstructionStatus.ACTIVE
    assert fresh(account).balance == 500_00 and Payment.objects.count() == 0
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["priya@example.com"]
    assert "not paid" in message.body and "₹1,000.00" in message.body and "10 Jul 2026" in message.body
    runs = StandingInstructionRun.objects.filter(instruction=si).order_by("run_on")
    assert [r.due_on for r in runs] == [D(2026, 6, 10)] * 3
    assert "Attempt 1 of 3" in runs[0].message


def test_money_arriving_before_the_last_attempt_pays(bank):
    on(D(2026, 6, 10))
    account = bank.account(balance=500_00)
    si = instruction(account, amount=1_000_00)
    assert run_standing_instructions(date=D(2026, 6, 10))[0].outcome == RunOutcome.RETRY
    from banking.ledger.actions import Line, post_entry
    from banking.ledger.chart import SHARE_CAPITAL
    from banking.ledger.models import EntryKind, LedgerAccount

    post_entry(actor=None, lines=[Line.debit(LedgerAccount.objects.get(code=SHARE_CAPITAL), 1_000_00),
                                  Line.credit(account.ledger_account, 1_000_00)],
               kind=EntryKind.TRANSFER, narration="Salary", idempotency_key=key())
    assert run_standing_instructions(date=D(2026, 6, 11))[0].outcome == RunOutcome.PAID
    si.refresh_from_db()
    assert si.next_run_on == D(2026, 7, 10) and si.failures == 0
    assert fresh(account).balance == 500_00


def test_a_removed_payee_is_refused_and_the_instruction_cancelled(bank, django_capture_on_commit_callbacks):
    on(D(2026, 6, 10))
    account = bank.account(email="priya@example.com")
    si = instruction(account)
    remove_payee(actor=None, payee=si.payee)
    with django_capture_on_commit_callbacks(execute=True):
        (run,) = run_standing_instructions(date=D(2026, 6, 10))
    assert run.outcome == RunOutcome.REFUSED and "no longer one of your payees" in run.message
    si.refresh_from_db()
    assert si.status == InstructionStatus.CANCELLED
    assert len(mail.outbox) == 1 and "has stopped" in mail.outbox[0].body
    assert fresh(account).balance == 10_00_000_00


def test_a_frozen_account_is_refused_and_moves_on(bank):
    from banking.teller.tests.factories import set_status

    on(D(2026, 6, 10))
    account = bank.account()
    si = instruction(account, frequency=Frequency.WEEKLY)
    set_status(account, "frozen", bank.checker)
    (run,) = run_standing_instructions(date=D(2026, 6, 10))
    assert run.outcome == RunOutcome.REFUSED and "frozen" in run.message.lower()
    si.refresh_from_db()
    assert si.status == InstructionStatus.ACTIVE and si.next_run_on == D(2026, 6, 17)


def test_the_instruction_ends_after_its_end_date(bank):
    on(D(2026, 6, 10))
    account = bank.account()
    si = instruction(account, frequency=Frequency.WEEKLY, amount=100_00, end_on=D(2026, 6, 20))
    for day in (D(2026, 6, 10), D(2026, 6, 17), D(2026, 6, 24)):
        run_standing_instructions(date=day)
    si.refresh_from_db()
    assert si.status == InstructionStatus.ENDED and si.next_run_on == D(2026, 6, 24)
    assert Payment.objects.count() == 2
    assert fresh(account).balance == 10_00_000_00 - 200_00
