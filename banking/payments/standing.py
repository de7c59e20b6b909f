"""Standing instructions: a fixed amount paid from a customer's account on a
schedule, to one of their payees or to another of their own accounts.

Design overview
- Schedule: daily, weekly, monthly or quarterly from `start_on`. Monthly and
  quarterly instructions keep the day of the month of `start_on`, clamped to the
  month's last day (an instruction started on 31 January pays on 28 or 29
  February, then on 31 March). An instruction ends once its next due date would
  fall after `end_on`.
- `run_standing_instructions(date=...)` pays every active instruction due on or
  before `date`, through `actions.make_payment` with origin STANDING_INSTRUCTION
  and an idempotency key made of the instruction's id and the due date, so a
  retried payment is never paid twice. Each instruction is tried at most once per
  run date (`StandingInstructionRun` is unique on (instruction, run_on)): running
  the day twice pays nothing twice. An instruction that fell behind (the command
  did not run for some days) catches up one due date per run.
- Insufficient funds: the run is recorded as RETRY and tried again at the next
  run, up to settings.CBS_STANDING_INSTRUCTION_ATTEMPTS attempts in all; then
  GAVE_UP, the instruction moves on to its next due date and the customer is told
  by email. Any other refusal (a frozen account, a removed payee, a limit) is
  REFUSED with the bank's message and the instruction moves on; an instruction
  whose payee was removed is cancelled, since it can never pay again.
- Locks: each instruction is paid in its own transaction under its row lock
  (FOR UPDATE), then make_payment's locks (the Customer row, the ledger
  accounts). One instruction's failure never undoes another's payment.
- Every creation, cancellation and run is audited in the same transaction.

Errors: ValidationFailed, InvalidAmount, LimitExceeded, NotPermitted.
"""

import calendar
import datetime

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from banking.audit.actions import record_event
from banking.core.errors import BankingError, InsufficientFunds, NotPermitted, ValidationFailed
from banking.core.money import format_money
from banking.customers.models import Customer
from banking.deposits.models import DepositAccount
from banking.teller.lookup import refusal

from .actions import EXTERNAL_RAILS, business_date, check_amount, check_rail, make_payment, resolve_destination
from .models import (
    Frequency,
    InstructionStatus,
    Origin,
    PayeeKind,
    PaymentStatus,
    Rail,
    RunOutcome,
    StandingInstruction,
    StandingInstructionRun,
)

MONTHS = {Frequency.MONTHLY: 1, Frequency.QUARTERLY: 3}
DAYS = {Frequency.DAILY: 1, Frequency.WEEKLY: 7}
# How far ahead an instruction may start: a year is as far as a customer plans a payment.
LATEST_START = datetime.timedelta(days=366)


def add_months(date, months, day):
    """`date` moved by `months`, on `day` of that month or its last day if shorter."""
    index = date.year * 12 + date.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return datetime.date(year, month, min(day, calendar.monthrange(year, month)[1]))


def next_due(instruction, after):
    """The due date that follows `after` on the instruction's schedule."""
    frequency = instruction.frequency
    if frequency in DAYS:
        return after + datetime.timedelta(days=DAYS[frequency])
    return add_months(after, MONTHS[frequency], instruction.start_on.day)


def allowed_rails(payee):
    """The rails an instruction to `payee` (None: an own account) may use."""
    if payee is None or payee.kind == PayeeKind.INTERNAL:
        return (Rail.INTERNAL,)
    if payee.kind == PayeeKind.VPA:
        return (Rail.UPI,)
    return EXTERNAL_RAILS


@transaction.atomic
def create_standing_instruction(*, actor, customer, debit_account, amount, frequency, start_on, end_on=None,
                                payee=None, credit_account=None, rail=Rail.INTERNAL, narration="",
                                idempotency_key=None):
    """Set up a standing instruction for `customer` (in internet banking or by a
    teller at the counter). Refuses, writing nothing: an account or payee that is
    not the customer's, an amount of zero or less, a start before today's business
    date or after a year, an end before the start, and a rail that cannot carry
    the amount to that payee. The same `idempotency_key` returns the first
    instruction. Locks the customer's row, so that the same form sent twice at once
    sets up one instruction."""
    Customer.objects.select_for_update().filter(pk=customer.pk).first()
    if idempotency_key:
        existing = StandingInstruction.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    amount = check_amount(amount)
    mine = DepositAccount.objects.for_customer(customer)
    if debit_account is None or not mine.filter(pk=debit_account.pk).exists():
        raise NotPermitted("Choose one of your own accounts to pay from.")
    if (payee is None) == (credit_account is None):
        raise ValidationFailed("Choose where the money goes: one of your accounts or one of your payees.")
    if payee is not None and (payee.customer_id != customer.pk or payee.deleted_at):
        raise NotPermitted("That payee is not one of yours.")
    if credit_account is not None:
        if not mine.filter(pk=credit_account.pk).exists():
            raise NotPermitted("You can transfer only to your own accounts or to your payees.")
        if credit_account.pk == debit_account.pk:
            raise ValidationFailed("Choose a different account to pay into: money cannot go to the account it "
                                   "comes from.")
    problem = refusal(debit_account, debit=True)
    if problem:
        raise ValidationFailed(problem)
    if frequency not in Frequency.values:
        raise ValidationFailed("Choose how often to pay: daily, weekly, monthly or quarterly.")
    rails = allowed_rails(payee)
    if rail not in rails:
        rail = rails[0] if len(rails) == 1 else rail
    if rail not in rails:
        raise ValidationFailed(f"Payments to {payee.label} go by {', '.join(rails[:-1])} or {rails[-1]}.")
    check_rail(rail, amount)
    resolve_destination(rail=rail, payee=payee, credit_account=credit_account)
    today = business_date()
    if not isinstance(start_on, datetime.date):
        raise ValidationFailed("Enter the date of the first payment.")
    if start_on < today:
        raise ValidationFailed(f"The first payment cannot be before today, {today:%d %b %Y}.")
    if start_on > today + LATEST_START:
        raise ValidationFailed("The first payment must be within a year from today.")
    if end_on is not None and end_on < start_on:
        raise ValidationFailed("The last date cannot be before the first payment.")
    instruction = StandingInstruction.objects.create(
        customer=customer, debit_account=debit_account, payee=payee, credit_account=credit_account, rail=rail,
        amount=amount, frequency=frequency, start_on=start_on, end_on=end_on, next_run_on=start_on,
        narration=" ".join(str(narration or "").split())[:140], created_by=actor, idempotency_key=idempotency_key,
    )
    record_event(action="payments.standing_instruction_created", obj=instruction, actor=actor,
                 summary=f"Standing instruction {instruction.pk}: {format_money(amount)} "
                         f"{instruction.get_frequency_display().lower()} from {debit_account.number} to "
                         f"{instruction.destination_label}, from {start_on:%d %b %Y}"
                         + (f" to {end_on:%d %b %Y}" if end_on else ""),
                 after={"amount": amount, "frequency": frequency, "rail": rail, "start_on": start_on,
                        "end_on": end_on, "debit_account": debit_account.number})
    return instruction


@transaction.atomic
def cancel_standing_instruction(*, actor, instruction, reason):
    """Stop an active instruction: nothing more is paid. Locks the instruction, so
    a cancellation waits for a payment being made and the next run finds it cancelled."""
    reason = " ".join(str(reason or "").split())[:200]
    if not reason:
        raise ValidationFailed("Say why the instruction is cancelled.")
    instruction = StandingInstruction.objects.select_for_update().get(pk=instruction.pk)
    if instruction.status != InstructionStatus.ACTIVE:
        raise ValidationFailed(f"This instruction is already {instruction.get_status_display().lower()}.")
    instruction.status = InstructionStatus.CANCELLED
    instruction.cancelled_at, instruction.cancelled_by, instruction.cancel_reason = timezone.now(), actor, reason
    instruction.save(update_fields=["status", "cancelled_at", "cancelled_by", "cancel_reason"])
    record_event(action="payments.standing_instruction_cancelled", obj=instruction, actor=actor,
                 summary=f"Standing instruction {instruction.pk} cancelled: {reason}",
                 before={"status": InstructionStatus.ACTIVE}, after={"status": InstructionStatus.CANCELLED})
    return instruction


def _notify(instruction, due, message):
    """Tell the customer, once the run's transaction has committed, that a payment was not made."""
    email = (instruction.customer.email or "").strip()
    if not email:
        return
    bank = settings.CBS_BANK_NAME
    body = (
        f"Dear {instruction.customer.display_name},\n\n"
        f"Your standing instruction to pay {format_money(instruction.amount)} from account "
        f"{instruction.debit_account.masked_number} to {instruction.destination_label}, due on {due:%d %b %Y}, "
        f"was not paid: {message}\n\n"
        + (f"The next payment is due on {instruction.next_run_on:%d %b %Y}.\n\n"
           if instruction.status == InstructionStatus.ACTIVE else "The instruction has stopped.\n\n")
        + f"{bank}"
    )
    transaction.on_commit(lambda: send_mail(f"{bank}: a standing instruction was not paid", body, None, [email]))


def _advance(instruction):
    """Move to the next due date, ending the instruction after its end date."""
    instruction.next_run_on = next_due(instruction, instruction.next_run_on)
    instruction.failures = 0
    if instruction.end_on and instruction.next_run_on > instruction.end_on:
        instruction.status = InstructionStatus.ENDED


def _run_one(instruction_id, date, actor):
    """Pay one due instruction for `date`; returns the run, or None when there was
    nothing to do (already run on `date`, cancelled or no longer due)."""
    instruction = (StandingInstruction.objects.select_for_update(of=("self",))
                   .select_related("customer", "debit_account", "payee", "credit_account")
                   .filter(pk=instruction_id).first())
    if instruction is None or instruction.status != InstructionStatus.ACTIVE or instruction.next_run_on > date:
        return None
    if StandingInstructionRun.objects.filter(instruction=instruction, run_on=date).exists():
        return None
    due = instruction.next_run_on
    before = {"next_run_on": due, "failures": instruction.failures, "status": instruction.status}
    payment, notify = None, False
    try:
        with transaction.atomic():
            payment = make_payment(
                actor=actor, customer=instruction.customer, debit_account=instruction.debit_account,
                amount=instruction.amount, idempotency_key=f"si-{instruction.pk}-{due:%Y%m%d}", rail=instruction.rail,
                payee=instruction.payee, credit_account=instruction.credit_account,
                narration=instruction.narration or f"Standing instruction {instruction.pk}",
                origin=Origin.STANDING_INSTRUCTION)
    except InsufficientFunds as error:
        instruction.failures += 1
        attempts = settings.CBS_STANDING_INSTRUCTION_ATTEMPTS
        if instruction.failures >= attempts:
            outcome = RunOutcome.GAVE_UP
            message = f"{error} Tried {attempts} times; this payment is skipped."
            _advance(instruction)
            notify = True
        else:
            outcome = RunOutcome.RETRY
            message = f"{error} Attempt {instruction.failures} of {attempts}; tried again at the next run."
    except BankingError as error:
        outcome, message = RunOutcome.REFUSED, str(error)
        _advance(instruction)
        if instruction.payee_id and instruction.payee.deleted_at:
            instruction.status = InstructionStatus.CANCELLED
            instruction.cancelled_at, instruction.cancel_reason = timezone.now(), "The payee was removed."
        notify = True
    else:
        if payment.status in (PaymentStatus.FAILED, PaymentStatus.REVERSED, PaymentStatus.RETURNED):
            outcome, message = RunOutcome.REFUSED, payment.status_phrase
            notify = True
        else:
            outcome, message = RunOutcome.PAID, f"Payment {payment.number}: {payment.status_phrase}"
        _advance(instruction)
    instruction.save(update_fields=["next_run_on", "failures", "status", "cancelled_at", "cancel_reason"])
    run = StandingInstructionRun.objects.create(instruction=instruction, run_on=date, due_on=due, outcome=outcome,
                                                payment=payment, message=message[:300])
    record_event(action=f"payments.standing_instruction_{outcome}", obj=instruction, actor=actor,
                 summary=f"Standing instruction {instruction.pk} due {due:%d %b %Y}: "
                         f"{RunOutcome(outcome).label.lower()}. {message}"[:500],
                 before=before, after={"next_run_on": instruction.next_run_on, "failures": instruction.failures,
                                       "status": instruction.status, "payment": payment.pk if payment else None})
    if notify:
        _notify(instruction, due, message)
    return run


def run_standing_instructions(*, date=None, actor=None, first=None, last=None):
    """Pay every active instruction due on or before `date` (the business date by
    default), each once for `date`. `first` and `last` bound the instructions' ids
    (one partition of end of day's step). Returns the runs made, for the command's summary."""
    date = date or business_date()
    runs = []
    due = StandingInstruction.objects.due(date)
    if first is not None:
        due = due.filter(pk__gte=first)
    if last is not None:
        due = due.filter(pk__lte=last)
    for instruction_id in due.order_by("pk").values_list("pk", flat=True):
        with transaction.atomic():
            run = _run_one(instruction_id, date, actor)
        if run is not None:
            runs.append(run)
    return runs
