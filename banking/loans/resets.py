"""Floating-rate resets: the borrower's choice before the reset, and the reset itself
at end of day.

- `reset_options(loan)` -> the three previews (servicing.preview_rate_reset, ahead
  of the date) the borrower chooses from, with the one recorded (default tenure).
- `record_reset_choice(actor=, loan=, choice=, code=None)`: the borrower online (with
  their authenticator code, which `require_code` checks) or a teller at the branch on
  the borrower's instruction records the choice for the loan's next reset. It may be
  changed until the reset applies it; a choice for a reset already made is refused.
- `apply_resets(date=, first=None, last=None)`: end of day, order 44 (after the day's
  dues at 32 and accrual at 42, so the reset's new schedule starts from a day whose
  instalment and interest are settled): every floating-rate loan whose
  `next_reset_on` is `date` is reset by servicing.reset_rate with its borrower's
  choice (RBI, 18 Aug 2023):
  * tenure (the default): the EMI kept, the tenure lengthened within the product's
    maximum; past it the tenure stops at the maximum and the EMI rises;
  * emi: the tenure kept, the EMI changed;
  * prepayment: the prepayment that keeps both is taken from the loan's linked
    account under the standing mandate (as the day's dues are). When the account
    cannot pay it (short, frozen) the reset falls back to the default, tenure, and the
    choice's `outcome` says so.
  Each loan in its own savepoint: a loan that cannot be reset (no benchmark entered
  for the date, a missed instalment) keeps its rate and is counted as not reset; the
  others go on. Idempotent: a reset moves `next_reset_on` on, so a rerun of the date
  finds nothing to do, and the prepayment's key is the date and the loan.

Locks: servicing's (the Loan row FOR UPDATE, then the ledger's accounts); the
choice's row is written under the Loan row's lock.
"""

import datetime

from django.db import transaction

from banking.audit.actions import record_event
from banking.audit.context import audit_context
from banking.core.eod import Step, id_ranges, register
from banking.core.errors import BankingError, InsufficientFunds, NotPermitted, ValidationFailed
from banking.core.money import format_money
from banking.ledger.models import LedgerAccount
from banking.users.authenticator import require_code

from . import servicing
from .actions import business_date
from .models import Loan, LoanStatus, RateType
from .servicing_models import RateResetChoice, ResetChoice

RESET_STEP = "loans.rate_reset"
DEFAULT_CHOICE = ResetChoice.TENURE


def recorded_choice(loan, on=None):
    """The choice recorded for the loan's reset on `on` (default its next), or None."""
    on = on or loan.next_reset_on
    return RateResetChoice.objects.filter(loan=loan, reset_on=on).first() if on else None


def reset_options(loan):
    """{choice: ResetPreview or the words why it cannot be shown} for the next reset."""
    options = {}
    for choice in ResetChoice.values:
        try:
            options[choice] = servicing.preview_rate_reset(loan, choice, ahead=True)
        except BankingError as error:
            options[choice] = str(error)
    return options


def reset_option_rows(loan):
    """The options as (choice, label, preview or None, the words why not) for a screen."""
    return [(choice, ResetChoice(choice).label, None if isinstance(value, str) else value,
             value if isinstance(value, str) else "") for choice, value in reset_options(loan).items()]


def _channel(actor, loan):
    borrower = loan.customer.user_id
    if actor is not None and borrower is not None and actor.pk == borrower:
        return "internet"
    if actor is not None and actor.has_perm("users.access_teller_portal"):
        return "branch"
    raise NotPermitted("Only the borrower, or a teller on the borrower's instruction, chooses for a rate reset.")


@transaction.atomic
def record_reset_choice(*, actor, loan, choice, code=None):
    """Record the borrower's `choice` (ResetChoice) for `loan`'s next reset. The
    borrower confirms with their authenticator code; a teller records it at the counter.
    Refuses a fixed-rate or closed loan, an unknown choice, and a reset already made."""
    if choice not in ResetChoice.values:
        raise ValidationFailed("Choose a higher EMI, a longer tenure, or a prepayment.")
    loan = Loan.objects.select_for_update(of=("self",)).select_related("customer", "product_version").get(pk=loan.pk)
    channel = _channel(actor, loan)
    if loan.rate_type != RateType.FLOATING or loan.next_reset_on is None:
        raise ValidationFailed(f"Loan {loan.number} is at a fixed rate: it has no rate reset to choose for.")
    if loan.status != LoanStatus.ACTIVE:
        raise ValidationFailed(f"Loan {loan.number} is {loan.get_status_display().lower()}: there is no reset to "
                               "choose for.")
    if loan.next_reset_on < business_date():
        raise ValidationFailed(f"The reset of {loan.next_reset_on:%d %b %Y} has passed; operations will apply it.")
    if channel == "internet":
        require_code(actor, code, confirms="your rate reset choice")
    before = recorded_choice(loan)
    row, _created = RateResetChoice.objects.update_or_create(
        loan=loan, reset_on=loan.next_reset_on,
        defaults={"choice": choice, "channel": channel, "recorded_by": actor})
    record_event(action="loans.reset_choice_recorded", obj=loan, actor=actor,
                 summary=f"Loan {loan.number}: at the reset of {loan.next_reset_on:%d %b %Y}, "
                         f"{row.get_choice_display().lower()}",
                 before={"choice": before.choice} if before else None,
                 after={"reset_on": loan.next_reset_on, "choice": choice, "channel": channel})
    return row


def _require_funds(loan, date):
    """The auto-debit never overdraws (as the mandate's dues): a prepayment the linked
    account cannot pay in full is not taken at all."""
    need = servicing.preview_rate_reset(loan, ResetChoice.PREPAYMENT).prepayment + servicing.dues(loan, date).total
    account = loan.deposit_account
    available = LedgerAccount.objects.get(pk=account.ledger_account_id).available if account else 0
    if available < need:
        raise InsufficientFunds(f"account {account.number if account else ''} has {format_money(max(available, 0))} "
                                f"available, less than {format_money(need)}")


def _reset_one(loan, date):
    """Reset one loan in its own savepoint; True when it was reset."""
    row = recorded_choice(loan, date)
    choice = row.choice if row else DEFAULT_CHOICE
    words = ""
    try:
        if choice == ResetChoice.PREPAYMENT:
            _require_funds(loan, date)
        with transaction.atomic():
            result = servicing.reset_rate(actor=None, loan=loan, choice=choice, source=servicing.AUTO_DEBIT,
                                          idempotency_key=f"reset-{date.isoformat()}-{loan.pk}")
    except BankingError as error:
        if choice != ResetChoice.PREPAYMENT:
            return False
        words = f"The prepayment could not be taken ({error}); the tenure was lengthened instead."
        choice = DEFAULT_CHOICE
        try:
            with transaction.atomic():
                servicing.reset_rate(actor=None, loan=loan, choice=choice)
        except BankingError:
            return False
    else:
        if choice == ResetChoice.PREPAYMENT and hasattr(result, "amount"):
            words = f"Prepaid from the linked account: {format_money(result.amount)}, receipt {result.number}."
    if row is not None:
        row.applied_on = date
        row.outcome = (words or f"Applied: {row.get_choice_display().lower()}.")[:200]
        row.save(update_fields=["applied_on", "outcome"])
    return True


def apply_resets(*, date, first=None, last=None):
    """Reset every floating-rate loan (ids `first` to `last`) whose reset falls on
    `date`, each with its borrower's choice. Returns how many were reset."""
    date = datetime.date.fromisoformat(date) if isinstance(date, str) else date
    loans = _due_resets(date)
    if first is not None:
        loans = loans.filter(pk__gte=first)
    if last is not None:
        loans = loans.filter(pk__lte=last)
    return sum(_reset_one(loan, date) for loan in loans.select_related("deposit_account").order_by("pk"))


def _due_resets(date):
    date = datetime.date.fromisoformat(date) if isinstance(date, str) else date
    return Loan.objects.filter(status=LoanStatus.ACTIVE, rate_type=RateType.FLOATING, next_reset_on=date)


def _run(*, date, first=None, last=None):
    with audit_context(channel="batch", actor_username=RESET_STEP):
        return apply_resets(date=date, first=first, last=last)


register(Step(name=RESET_STEP, title="Loans: floating-rate resets, with each borrower's choice", order=44,
              run=_run, partitions=lambda *, date, size: id_ranges(_due_resets(date), size),
              applies=lambda date: _due_resets(date).exists()))
