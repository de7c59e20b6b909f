"""Loan servicing: what is due, repayments and their allocation, part-prepayment,
foreclosure, charges and floating-rate resets.

Functions other modules call
- Reading (no writes, no locks):
  * `dues(loan, on=None)` -> `Dues`: the charges unpaid and the interest and principal
    of every instalment due on or before `on` (default: the business date) and not
    paid, oldest first; `.total`.
  * `overdue_instalments(loan, on=None)`: those instalments (current schedule).
  * `unpaid_charges(loan)`: the charges levied and not yet paid, oldest first.
  * `interest_to_date(loan, on)`: interest run since the last due date and not yet due.
  * `outstanding(loan, on=None)` -> `Outstanding`: principal (the loan sub-ledger),
    interest due, interest run to `on`, charges; `.total`.
  * `foreclosure_quote(loan, on)` -> `ForeclosureQuote`: what closes the loan on `on`
    (today or later): principal + interest due and run to that date + unpaid charges +
    any prepayment charge and its GST.
  * `prepayment_charge(loan, principal)` -> (charge, gst).
  * `preview_prepayment(loan, principal, choice, on=None)` -> `PrepaymentPreview`: the
    new schedule before the borrower confirms.
  * `preview_rate_reset(loan, choice)` -> `ResetPreview`.
  * `current_emi(loan)`.
- Actions (each `@transaction.atomic`, audited, refusing in words and writing nothing):
  * `repay(actor=, loan=, amount=, source=, idempotency_key=, account=None, counts=None,
    code=None)`: instalment dues. `source` is "cash" (a teller, through their till,
    `counts` a teller Denominations) or "account" (the borrower online, from one of
    their own deposit accounts, with their authenticator `code`).
  * `part_prepay(actor=, loan=, principal=, choice=, source=, idempotency_key=, ...)`:
    pays the dues, then `principal` ahead with the prepayment charge; a new schedule.
  * `foreclose(actor=, loan=, amount=, source=, idempotency_key=, ...)`: closes the loan.
  * `levy_charge(actor=, loan=, kind=, amount=, narration=, idempotency_key=, on=None,
    instalment=None)`: a charge (penal, returned mandate ...) with its GST.
  * `reset_rate(actor=, loan=, choice="tenure", ...)`: a floating-rate loan's reset.
  * `collect_by_mandate(date=, first=None, last=None)`: end of day's auto-debit of the
    dues from each loan's linked account, as far as the account allows.
- `no_dues_certificate_pdf(loan)` (certificate.py) for a closed loan.

The bank's rules
- An instalment is due from its due date (its day-end counts for days past due). A
  repayment pays what is due in the product version's `allocation_order` (default
  charges, then interest, then principal), and within each part the oldest first:
  every overdue charge before any interest, all arrears of interest before principal
  (recovery of an overdue loan goes to interest first, the usual order under RBI's
  income-recognition norms). A repayment may pay less than is due (what is left stays
  overdue); more than is due is refused: paying ahead is a part-prepayment.
- Cash is handled in whole rupees (banking.teller.denominations): the teller may take
  the dues rounded up to the rupee, and the paise over (less than ₹1) are credited to
  the borrower's linked deposit account in the same entry, allocated as such.
- GL: Dr till cash or the borrower's deposit account; Cr charges receivable (1302) for
  charges, interest receivable (1301) for interest due, the loan's sub-ledger for
  principal. The end of day keeps 1301 holding, loan by loan, the interest due and
  unpaid plus the interest accrued and not yet due (`Loan.accrued_interest`; see
  eod.py); so a payment of interest due credits 1301, and a foreclosure clears the
  loan's accrued interest out of 1301, the interest to date beyond it (or short of it)
  going to interest income (4101).
- Charges are levied Dr charges receivable, Cr their income (penal 4206) and GST
  payable (2602) at the product's GST rate. Penal charges are a charge: never interest,
  never added to the rate, never capitalised (RBI, August 2023).
- Part-prepayment: the dues are paid first, then `principal` ahead, with the product's
  prepayment charge on it (plus GST) — none on a floating-rate loan to an individual
  (RBI: no foreclosure or prepayment charge on floating-rate loans to individuals for
  purposes other than business; the bank's retail loans are for such purposes). The
  interest already run since the last due date is carried into the next instalment.
  The borrower chooses: reduce the EMI (same number of instalments) or reduce the
  tenure (same EMI; for an equal-principal loan the same principal part). A prepayment
  of the whole principal not yet due is refused: that is a foreclosure.
- Foreclosure on the business date for exactly the quote's total; it writes a last
  schedule version whose final instalment (due that day) is the principal left and
  the interest to date, paid, and closes the loan. A repayment that pays the last of a
  loan closes it too.
- A floating-rate loan resets at `next_reset_on` to the benchmark in force that day
  plus the loan's spread, from that date. The borrower's choice (RBI, August 2023):
  a higher EMI, a longer tenure (the default) within the product's maximum tenure —
  past it the EMI rises instead — or a prepayment keeping both EMI and tenure.
- Each change of plan writes a new `Schedule` version with its reason; it copies the
  instalments already due, with what was paid of them.

Locks: a cash repayment locks the teller's till first (`require_open_till`, as a cash
deposit does); then every action locks the Loan row (FOR UPDATE), which serialises all
servicing of a loan; then the ledger locks its accounts in id order (post_entry).
Idempotency: a Repayment's `idempotency_key` (the form's token); the same key with the
same loan and amount returns the first repayment, with others is refused.

Errors (banking.core.errors): ValidationFailed, InvalidAmount, NotPermitted,
IdempotencyConflict, InsufficientFunds and whatever else the ledger raises.
"""

import datetime
import math
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal, localcontext

from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q

from banking.audit.actions import record_event
from banking.core.errors import (
    BankingError,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidAmount,
    NotPermitted,
    ValidationFailed,
)
from banking.core.money import format_money
from banking.deposits.interest import add_months
from banking.ledger import actions as ledger
from banking.ledger.chart import (
    GST_PAYABLE,
    INTEREST_RECEIVABLE,
    LOAN_CHARGES_RECEIVABLE,
    LOAN_INTEREST_INCOME,
    LOAN_PENAL_CHARGES,
    LOAN_PREPAYMENT_CHARGES,
)
from banking.ledger.models import Channel, EntryKind, LedgerAccount
from banking.users.authenticator import require_code
from banking.users.models import Branch

from . import schedule as schedule_math
from .actions import _gl, _next_number, _next_numbers, benchmark_on, business_date
from .models import (
    AllocationPart,
    ChargeKind,
    Instalment,
    Loan,
    LoanCharge,
    LoanStatus,
    PrepaymentChoice,
    RateType,
    Repayment,
    RepaymentAllocation,
    RepaymentChannel,
    RepaymentKind,
    Schedule,
    ScheduleReason,
)

CASH = RepaymentChannel.CASH
ACCOUNT = RepaymentChannel.ACCOUNT
AUTO_DEBIT = RepaymentChannel.AUTO_DEBIT
REDUCE_EMI = PrepaymentChoice.REDUCE_EMI
REDUCE_TENURE = PrepaymentChoice.REDUCE_TENURE
# The borrower's choice at a floating-rate reset.
RESET_EMI = "emi"
RESET_TENURE = "tenure"
RESET_PREPAYMENT = "prepayment"
RESET_CHOICES = {
    RESET_TENURE: "Keep the EMI, lengthen the tenure (within the product's maximum)",
    RESET_EMI: "Keep the tenure, change the EMI",
    RESET_PREPAYMENT: "Prepay enough to keep both the EMI and the tenure",
}
PARTS = {"charges": AllocationPart.CHARGE, "interest": AllocationPart.INTEREST,
         "principal": AllocationPart.PRINCIPAL}
CHARGE_INCOME = {ChargeKind.PENAL: LOAN_PENAL_CHARGES, ChargeKind.BOUNCE: LOAN_PENAL_CHARGES,
                 ChargeKind.OTHER: LOAN_PENAL_CHARGES, ChargeKind.PREPAYMENT: LOAN_PREPAYMENT_CHARGES}


def _when(day):
    return f"{day:%d %b %Y}"


# -- reading ---------------------------------------------------------------------------


def _schedule_and_rows(loan):
    schedule = loan.schedules.filter(is_current=True).first()
    if schedule is None:
        return None, []
    return schedule, list(schedule.instalments.order_by("number"))


def overdue_instalments(loan, on=None):
    """The current schedule's instalments due on or before `on` and not fully paid, oldest first."""
    return dues_of([loan.pk], on)[loan.pk].instalments


def unpaid_charges(loan):
    return list(_unpaid_charges([loan.pk]))


def _unpaid_charges(loan_ids):
    return LoanCharge.objects.unpaid().filter(loan_id__in=loan_ids).order_by("loan_id", "levied_on", "id")


@dataclass
class Dues:
    charges: list = field(default_factory=list)
    instalments: list = field(default_factory=list)

    @property
    def charges_total(self):
        return sum(charge.unpaid for charge in self.charges)

    @property
    def interest(self):
        return sum(row.interest_unpaid for row in self.instalments)

    @property
    def principal(self):
        return sum(row.principal_unpaid for row in self.instalments)

    @property
    def total(self):
        return self.charges_total + self.interest + self.principal

    @property
    def oldest_due_on(self):
        return self.instalments[0].due_date if self.instalments else None


def dues(loan, on=None):
    """What is due on `on` (default the business date) and not paid."""
    return dues_of([loan.pk], on)[loan.pk]


# An instalment not fully paid (paid never exceeds due: a constraint).
_UNPAID = Q(principal_paid__lt=F("principal")) | Q(interest_paid__lt=F("interest"))


def dues_of(loan_ids, on=None):
    """{loan id: Dues} on `on` (default the business date) for each of `loan_ids`, in
    two queries however many loans: the charges levied and not paid (oldest first),
    and the current schedule's instalments due on or before `on` and not fully paid
    (oldest first). The one definition of what is due, for a loan or a partition."""
    on = on or business_date()
    owed = {loan_id: Dues() for loan_id in loan_ids}
    for charge in _unpaid_charges(list(owed)):
        owed[charge.loan_id].charges.append(charge)
    rows = (Instalment.objects.filter(schedule__loan_id__in=list(owed), schedule__is_current=True, due_date__lte=on)
            .filter(_UNPAID)
            .annotate(loan_id=F("schedule__loan_id")).order_by("schedule__loan_id", "number"))
    for row in rows:
        owed[row.loan_id].instalments.append(row)
    return owed


def _carried(schedule, row):
    """Interest the first instalment of a version carries from before its start."""
    own = schedule_math.broken_period_interest(row.opening, schedule.rate, schedule.starts_on, row.due_date)
    return max(row.interest - own, 0)


def _interest_to_date(schedule, rows, on):
    ahead = [row for row in rows if row.due_date > on]
    if not ahead:
        return 0
    upcoming = ahead[0]
    first_new = next(row for row in rows if row.due_date > schedule.starts_on)
    if upcoming.number == first_new.number:
        start, carried = schedule.starts_on, _carried(schedule, upcoming)
    else:
        start, carried = max(row.due_date for row in rows if row.due_date <= on), 0
    if on < start:
        raise ValidationFailed(f"The schedule runs from {_when(start)}; ask for a date on or after it.")
    return carried + schedule_math.broken_period_interest(upcoming.opening, schedule.rate, start, on)


def interest_to_date(loan, on):
    """Interest run on the principal not yet due, from the last due date (or the
    schedule's start, with what it carried) to `on`, actual/365: what the next
    instalment would have collected had it fallen due on `on`."""
    schedule, rows = _schedule_and_rows(loan)
    if schedule is None:
        return 0
    return _interest_to_date(schedule, rows, on)


@dataclass
class Outstanding:
    on: datetime.date
    principal: int
    principal_overdue: int
    interest_due: int
    interest_to_date: int
    charges: int

    @property
    def total(self):
        return self.principal + self.interest_due + self.interest_to_date + self.charges

    @property
    def principal_not_due(self):
        return self.principal - self.principal_overdue


def outstanding(loan, on=None):
    """Everything the borrower owes on `on` (default the business date)."""
    on = on or business_date()
    owed = dues(loan, on)
    return Outstanding(on=on, principal=loan.outstanding, principal_overdue=owed.principal,
                       interest_due=owed.interest, interest_to_date=interest_to_date(loan, on),
                       charges=owed.charges_total)


def _charge_waived(loan):
    # RBI: no foreclosure or prepayment charge on a floating-rate loan to an individual
    # (for purposes other than business: the bank's retail loans are).
    return loan.rate_type == RateType.FLOATING and loan.customer.is_individual


def prepayment_charge(loan, principal):
    """(charge, GST) in paise on `principal` prepaid, half-up to the paisa."""
    terms = loan.product_version
    if _charge_waived(loan) or principal <= 0 or not terms.prepayment_charge_percent:
        return 0, 0
    charge = schedule_math.to_paise(Decimal(principal) * terms.prepayment_charge_percent / 100)
    return charge, schedule_math.to_paise(Decimal(charge) * terms.gst_percent / 100)


@dataclass
class ForeclosureQuote:
    loan: Loan
    on: datetime.date
    principal: int
    interest_due: int
    interest_to_date: int
    charges: int
    prepayment_charge: int
    gst: int

    @property
    def total(self):
        return (self.principal + self.interest_due + self.interest_to_date + self.charges + self.prepayment_charge
                + self.gst)

    @property
    def lines(self):
        return [
            ("Principal outstanding", self.principal),
            ("Interest due and unpaid", self.interest_due),
            (f"Interest from the last due date to {_when(self.on)}", self.interest_to_date),
            ("Charges unpaid", self.charges),
            ("Foreclosure charge", self.prepayment_charge),
            ("GST on the foreclosure charge", self.gst),
        ]


def _require_open(loan):
    if loan.status == LoanStatus.CLOSED:
        since = f" since {_when(loan.closed_on)}" if loan.closed_on else ""
        raise ValidationFailed(f"Loan {loan.number} is closed{since}: it takes no more payments.")
    if loan.status != LoanStatus.ACTIVE or not loan.ledger_account_id:
        raise ValidationFailed(f"Loan {loan.number} has not been disbursed yet: nothing is owed on it.")


def foreclosure_quote(loan, on=None):
    """What closes `loan` on `on` (today or later; never a date in the past)."""
    today = business_date()
    on = on or today
    if not isinstance(on, datetime.date):
        raise ValidationFailed("Give the date of the quote.")
    if on < today:
        raise ValidationFailed(f"A foreclosure quote is for today ({_when(today)}) or a later date, "
                               f"not {_when(on)}.")
    _require_open(loan)
    owed = outstanding(loan, on)
    charge, gst = prepayment_charge(loan, owed.principal_not_due)
    return ForeclosureQuote(loan=loan, on=on, principal=owed.principal, interest_due=owed.interest_due,
                            interest_to_date=owed.interest_to_date, charges=owed.charges, prepayment_charge=charge,
                            gst=gst)


def _emi_of(ahead):
    """The instalment a schedule keeps: the EMI (any instalment but the last; one whose
    interest passes the EMI is larger), or the last when it is alone."""
    regular = [row.principal + row.interest for row in ahead[:-1]]
    return min(regular) if regular else ahead[-1].principal + ahead[-1].interest


def current_emi(loan):
    on = business_date()
    _schedule, rows = _schedule_and_rows(loan)
    ahead = [row for row in rows if row.due_date > on] or rows[-1:]
    return _emi_of(ahead) if ahead else 0


def _new_rows(loan, schedule, rows, *, on, principal, rate, choice, most=None):
    """The instalments after `on` repaying `principal` at `rate`, under `choice`
    (REDUCE_EMI keeps the number of instalments, REDUCE_TENURE the instalment), and
    whether the tenure had to stop at `most` instalments with a higher instalment."""
    ahead = [row for row in rows if row.due_date > on]
    if not ahead:
        raise ValidationFailed("Every instalment of this loan has fallen due: pay the dues, or foreclose it.")
    carried = _interest_to_date(schedule, rows, on)
    first_due = ahead[0].due_date
    if loan.schedule_type == schedule_math.BULLET:
        due = ahead[-1].due_date
        interest = carried + schedule_math.broken_period_interest(principal, rate, on, due)
        return [schedule_math.Instalment(1, due, principal, principal, interest, 0)], False
    build = dict(principal=principal, annual_rate=rate, schedule_type=loan.schedule_type, disbursed_on=on,
                 first_due=first_due, carried_interest=carried)
    if choice == REDUCE_EMI:
        return schedule_math.build_schedule(months=len(ahead), **build), False
    most = most or len(ahead)
    if loan.schedule_type == schedule_math.EMI:
        kept = _emi_of(ahead)
        new = schedule_math.build_schedule(months=most, emi=kept, **build)
        if new[-1].total <= kept or len(new) < most:
            return new, False
    else:
        part = ahead[0].principal if len(ahead) > 1 else ahead[0].principal
        return schedule_math.build_schedule(months=min(most, max(1, math.ceil(principal / part))),
                                            principal_part=part, **build), False
    # The instalment kept would not repay the loan within the product's tenure: the
    # tenure stops at its maximum and the EMI rises.
    return schedule_math.build_schedule(months=most, **build), True


@dataclass
class PrepaymentPreview:
    loan: Loan
    on: datetime.date
    principal: int
    choice: str
    dues: int
    charge: int
    gst: int
    rows: list
    old_emi: int
    new_emi: int
    old_count: int
    new_count: int
    principal_after: int

    @property
    def total(self):
        return self.dues + self.principal + self.charge + self.gst

    @property
    def interest_saved(self):
        return self._old_interest - sum(row.interest for row in self.rows)

    _old_interest: int = 0


def _check_choice(choice):
    if choice not in (REDUCE_EMI, REDUCE_TENURE):
        raise ValidationFailed("Choose whether the prepayment reduces the EMI or the tenure.")
    return PrepaymentChoice(choice)


def _check_paise(amount, what):
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise InvalidAmount(f"Enter the {what} in rupees and paise.")
    if amount <= 0:
        raise InvalidAmount(f"Enter the {what}: an amount above zero.")
    return amount


def preview_prepayment(loan, principal, choice, on=None):
    """The new schedule a part-prepayment of `principal` would make, before it is made."""
    on = on or business_date()
    _require_open(loan)
    _check_paise(principal, "principal to prepay")
    choice = _check_choice(choice)
    schedule, rows = _schedule_and_rows(loan)
    owed = dues(loan, on)
    not_due = loan.outstanding - owed.principal
    if principal >= not_due:
        raise ValidationFailed(
            f"A prepayment of {format_money(principal)} is not less than the principal outstanding "
            f"({format_money(not_due)} not yet due): foreclose the loan instead, with a foreclosure quote.")
    ahead = [row for row in rows if row.due_date > on]
    new, _stretched = _new_rows(loan, schedule, rows, on=on, principal=not_due - principal, rate=schedule.rate,
                                choice=choice)
    charge, gst = prepayment_charge(loan, principal)
    preview = PrepaymentPreview(
        loan=loan, on=on, principal=principal, choice=choice, dues=owed.total, charge=charge, gst=gst, rows=new,
        old_emi=_emi_of(ahead), new_emi=_emi_of(new), old_count=len(ahead), new_count=len(new),
        principal_after=not_due - principal)
    preview._old_interest = sum(row.interest for row in ahead)
    return preview


# -- allocation ---------------------------------------------------------------------------


@dataclass
class Allocation:
    part: str
    amount: int
    instalment: Instalment | None = None
    charge: LoanCharge | None = None


def allocation_order(loan):
    order = [name.strip().lower() for name in (loan.product_version.allocation_order or "").split(",")]
    if sorted(order) != sorted(PARTS):
        raise ValidationFailed(f"{loan.product.name}'s allocation order {loan.product_version.allocation_order!r} "
                               "must name charges, interest and principal once each.")
    return [PARTS[name] for name in order]


def allocate(order, owed, amount):
    """Split `amount` over `owed` (Dues) in `order`, oldest first within each part.
    Returns the allocations and what is left over."""
    left, lines = amount, []
    for part in order:
        if part == AllocationPart.CHARGE:
            items = [(charge.unpaid, None, charge) for charge in owed.charges]
        elif part == AllocationPart.INTEREST:
            items = [(row.interest_unpaid, row, None) for row in owed.instalments]
        else:
            items = [(row.principal_unpaid, row, None) for row in owed.instalments]
        for unpaid, row, charge in items:
            take = min(unpaid, left)
            if take > 0:
                lines.append(Allocation(part=part, amount=take, instalment=row, charge=charge))
                left -= take
    return lines, left


# -- receiving money ------------------------------------------------------------------------


@dataclass
class _Source:
    channel: str
    debit_gl: int
    entry_kind: str
    ledger_channel: str
    till: object = None
    counts: object = None
    account: object = None


def _lock_till(actor, source, idempotency_key):
    """A cash repayment's first lock: the teller's open till (as a cash deposit takes it)."""
    if not idempotency_key:
        raise ValidationFailed("This form has no token; reload the page and enter it again.")
    if source != CASH:
        return None, None
    from banking.teller.actions import require_open_till

    if actor is None or not actor.has_perm("users.access_teller_portal"):
        raise NotPermitted("Only a teller takes cash for a loan, at the counter.")
    return require_open_till(actor, lock=True, token=idempotency_key)


def _lock_loan(loan):
    return Loan.objects.select_for_update(of=("self",)).select_related(
        "product", "product_version", "customer", "branch", "ledger_account", "deposit_account__ledger_account",
    ).get(pk=loan.pk)


def _earlier(idempotency_key, loan, amount):
    earlier = Repayment.objects.filter(idempotency_key=idempotency_key).first()
    if earlier is None:
        return None
    if earlier.loan_id != loan.pk or (amount is not None and earlier.amount != amount):
        raise IdempotencyConflict("This form was already submitted with different details.")
    return earlier


def _check_cash(amount, counts):
    from banking.teller.denominations import check_adds_up

    if amount % 100:
        raise InvalidAmount("Cash is handled in whole rupees: take the amount rounded up to the rupee.")
    if counts is None or counts.is_zero():
        raise ValidationFailed("Enter the notes and coins taken.")
    if not counts.is_nonnegative():
        raise ValidationFailed("A count cannot be negative.")
    check_adds_up(counts, amount)


def _source(actor, loan, source, *, amount, till, counts, account, code, approved_by=None):
    """Check the money's source and say which GL the entry debits. Cash over the
    teller's limit is refused unless a supervisor approved it (`approved_by`)."""
    if source == CASH:
        _check_cash(amount, counts)
        if _over_limit(source, till, amount) and approved_by is None:
            raise ValidationFailed(f"{format_money(amount)} is above your cash limit of "
                                   f"{format_money(till.teller_cash_limit)}: ask a supervisor to take it.")
        return _Source(channel=CASH, debit_gl=till.ledger_account_id, entry_kind=EntryKind.CASH_DEPOSIT,
                       ledger_channel=Channel.BRANCH, till=till, counts=counts)
    if source == ACCOUNT:
        from banking.teller.lookup import refuse

        borrower = loan.customer.user_id
        if actor is None or borrower is None or actor.pk != borrower:
            raise NotPermitted("Only the borrower pays a loan from their account, signed in with their code.")
        require_code(actor, code, confirms="loan payments")
        if account is None or account.customer_id != loan.customer_id or not account.ledger_account_id:
            raise ValidationFailed("Choose one of your own accounts to pay from.")
        refuse(account, debit=True)
        return _Source(channel=ACCOUNT, debit_gl=account.ledger_account_id, entry_kind=EntryKind.TRANSFER,
                       ledger_channel=Channel.INTERNET, account=account)
    if source == AUTO_DEBIT:
        from banking.teller.lookup import refuse

        if actor is not None:
            raise NotPermitted("The auto-debit under the mandate runs at end of day only.")
        account = account or loan.deposit_account
        refuse(account, debit=True)
        return _Source(channel=AUTO_DEBIT, debit_gl=account.ledger_account_id, entry_kind=EntryKind.TRANSFER,
                       ledger_channel=Channel.SYSTEM, account=account)
    raise ValidationFailed("Take the payment in cash or from the borrower's account.")


def _receivable_gls():
    """The ids of interest receivable and charges receivable, which repayments credit."""
    return _gl(INTEREST_RECEIVABLE).pk, _gl(LOAN_CHARGES_RECEIVABLE).pk


def _lines(loan, source, allocations, *, amount, extra=(), gls=None):
    """The entry's lines: Dr the source, Cr where each allocation goes (summed per GL),
    plus `extra` (account id, signed paise: + credit, − debit). `gls`: the ids
    `_receivable_gls()` gives, when the caller has them already."""
    credits = defaultdict(int)
    receivable, charges_gl = gls or _receivable_gls()
    for line in allocations:
        if line.part == AllocationPart.CHARGE:
            if line.charge.entry_id is None and line.charge.kind == ChargeKind.PREPAYMENT:
                continue  # levied in this entry: its income and GST come in `extra`
            credits[charges_gl] += line.amount
        elif line.part == AllocationPart.INTEREST:
            credits[receivable] += line.amount
        elif line.part == AllocationPart.ACCOUNT:
            credits[loan.deposit_account.ledger_account_id] += line.amount
        else:
            credits[loan.ledger_account_id] += line.amount
    for account_id, signed in extra:
        credits[account_id] += signed
    lines = [ledger.Line.debit(source.debit_gl, amount)]
    for account_id, value in credits.items():
        if value > 0:
            lines.append(ledger.Line.credit(account_id, value))
        elif value < 0:
            lines.append(ledger.Line.debit(account_id, -value))
    return lines


def _post(actor, loan, source, *, kind, amount, allocations, idempotency_key, narration, extra=(), choice="",
          prepayment_charge=0, schedule=None, before_post=None, checker=None):
    """Post the entry, count the cash in, write the repayment and its allocations, move
    the instalments' and charges' paid amounts and write the audit event."""
    lines = _lines(loan, source, allocations, amount=amount, extra=extra)
    names = {source.debit_gl: f"Account {source.account.number}"} if source.account is not None else None
    try:
        entry = ledger.post_entry(actor=actor, checker=checker, lines=lines, kind=source.entry_kind,
                                  narration=narration, idempotency_key=f"loan-repay-{idempotency_key}",
                                  channel=source.ledger_channel,
                                  reference=loan.number, names=names)
    except InsufficientFunds:
        if source.account is None:
            raise
        available = LedgerAccount.objects.get(pk=source.debit_gl).available
        raise InsufficientFunds(f"Account {source.account.number} has {format_money(available)} available, less "
                                f"than {format_money(amount)}.") from None
    if source.till is not None:
        from banking.teller.actions import record_till_cash

        record_till_cash(till=source.till, counts=source.counts, entry=entry, actor=actor)
    repayment = Repayment.objects.create(
        number=_next_number("RP", loan.branch), loan=loan, kind=kind, channel=source.channel, amount=amount,
        on=entry.business_date, deposit_account=source.account, choice=choice,
        counts=source.counts.as_dict() if source.counts is not None else None, prepayment_charge=prepayment_charge,
        schedule=schedule, entry=entry, received_by=actor, idempotency_key=idempotency_key,
    )
    for line in allocations:
        if line.charge is not None:
            if line.charge.pk is None:
                line.charge.entry = entry
                line.charge.save()
            else:
                LoanCharge.objects.filter(pk=line.charge.pk).update(paid=line.charge.paid + line.amount)
                line.charge.paid += line.amount
        elif line.instalment is not None:
            row = line.instalment
            if line.part == AllocationPart.INTEREST:
                row.interest_paid += line.amount
                Instalment.objects.filter(pk=row.pk).update(interest_paid=row.interest_paid)
            else:
                row.principal_paid += line.amount
                Instalment.objects.filter(pk=row.pk).update(principal_paid=row.principal_paid)
    RepaymentAllocation.objects.bulk_create(
        RepaymentAllocation(repayment=repayment, part=line.part, amount=line.amount, instalment=line.instalment,
                            charge=line.charge)
        for line in allocations
    )
    return repayment


def _audit(actor, repayment, summary, **after):
    record_event(action=f"loans.{repayment.kind}_received", obj=repayment.loan, actor=actor, summary=summary,
                 after={"receipt": repayment.number, "amount": repayment.amount, "channel": repayment.channel,
                        "entry": repayment.entry_id,
                        "allocations": [[a.part, a.amount, a.instalment_id, a.charge_id]
                                        for a in repayment.allocations.all()], **after})


def _close_if_repaid(loan, actor, on):
    """A loan whose principal, interest and charges are all paid is closed."""
    loan.ledger_account.refresh_from_db()
    if loan.ledger_account.balance != 0 or overdue_instalments(loan, datetime.date.max) or unpaid_charges(loan):
        return False
    loan.status, loan.closed_on, loan.accrued_interest = LoanStatus.CLOSED, on, 0
    loan.save(update_fields=["status", "closed_on", "accrued_interest"])
    record_event(action="loans.closed", obj=loan, actor=actor, summary=f"Loan {loan.number} repaid in full and closed",
                 after={"closed_on": on})
    return True


def _paise_over(source, amount, owed_total):
    """Cash: the dues rounded up to the rupee may be taken; the paise over go to the
    borrower's linked account. Returns those paise (0 when none)."""
    over = amount - owed_total
    if over <= 0:
        return 0
    if source == CASH and over < 100 and owed_total % 100:
        return over
    return -1


@transaction.atomic
def repay(*, actor, loan, amount, source, idempotency_key, account=None, counts=None, code=None,
          queue_over_limit=False, approved_by=None):
    """Receive `amount` paise for `loan`'s dues and allocate it (see the module's rules).

    Refuses a closed loan, a loan with nothing due, and more than is due. Cash over
    the teller's cash limit is refused, or with `queue_over_limit` queued for a
    supervisor (`_queue_cash`)."""
    till, _day = _lock_till(actor, source, idempotency_key)
    loan = _lock_loan(loan)
    earlier = _earlier(idempotency_key, loan, amount)
    if earlier is not None:
        return earlier
    _require_open(loan)
    _check_paise(amount, "amount paid")
    today = business_date()
    owed = dues(loan, today)
    if owed.total == 0:
        _schedule, rows = _schedule_and_rows(loan)
        upcoming = next((row for row in rows if row.due_date > today), None)
        words = (f" The next instalment, {format_money(upcoming.total)}, falls due on {_when(upcoming.due_date)}."
                 if upcoming else "")
        raise ValidationFailed(f"Nothing is due on loan {loan.number} today.{words} To pay ahead, make a "
                               "part-prepayment.")
    over = _paise_over(source, amount, owed.total)
    if over < 0:
        raise ValidationFailed(f"Only {format_money(owed.total)} is due on loan {loan.number}; "
                               f"{format_money(amount)} is more than that. To pay more, make a part-prepayment.")
    if queue_over_limit and approved_by is None and _over_limit(source, till, amount):
        return _queue_cash(actor, loan, till, what=RepaymentKind.DUES, amount=amount, counts=counts,
                           idempotency_key=idempotency_key)
    money = _source(actor, loan, source, amount=amount, till=till, counts=counts, account=account, code=code,
                    approved_by=approved_by)
    allocations, left = allocate(allocation_order(loan), owed, amount - over)
    assert left == 0, "the dues cover the amount"
    allocations += _paise_line(over)
    repayment = _post(actor, loan, money, kind=RepaymentKind.DUES, amount=amount, allocations=allocations,
                      idempotency_key=idempotency_key, checker=approved_by,
                      narration=f"Loan {loan.number} repayment{' (cash)' if source == CASH else ''}")
    _close_if_repaid(loan, actor, today)
    _audit(actor, repayment, f"Received {format_money(amount)} for loan {loan.number} "
                             f"({repayment.get_channel_display().lower()}), receipt {repayment.number}",
           paise_to_account=over)
    return repayment


CASH_OVER_LIMIT_KIND = "loans.cash_over_limit"
# What a queued request's cash pays, by its payload's "what" (a request queued before
# the word was written pays dues), in the words the supervisor's queue shows.
CASH_PAYS = {
    RepaymentKind.DUES: "the loan's dues (charges, interest, principal, oldest first)",
    RepaymentKind.PREPAYMENT: "the loan's dues, then the principal ahead with any prepayment charge, and writes "
                              "the new schedule",
    RepaymentKind.FORECLOSURE: "today's foreclosure amount and closes the loan",
}


def _over_limit(source, till, amount):
    """Cash above the teller's per-transaction cash limit needs a supervisor."""
    return source == CASH and amount > till.teller_cash_limit


def _queue_cash(actor, loan, till, *, what, amount, counts, idempotency_key, **terms):
    """Queue cash over the teller's limit for a supervisor (maker-checker,
    CASH_OVER_LIMIT_KIND), as the counter queues a deposit over it (banking.teller's
    CASH_OVER_LIMIT), once every other check of the repayment, part-prepayment or
    foreclosure (`what`, a RepaymentKind; `terms` its own figures) has passed. The
    ApprovalRequest is returned instead of a repayment; nothing moves, and the notes
    stay with the teller, until it is approved (`repay_approved_cash`, which passes
    `approved_by` to the same action, so every check runs again then)."""
    from banking.approvals.actions import submit_request

    _check_cash(amount, counts)
    what = RepaymentKind(what)
    approval = submit_request(
        actor=actor, kind=CASH_OVER_LIMIT_KIND, amount=amount, branch=till.branch,
        payload={"loan_id": loan.pk, "number": loan.number, "what": what.value, "amount": amount,
                 "counts": counts.as_dict(), "idempotency_key": idempotency_key, "till_id": till.pk, **terms},
        summary=f"Cash of {format_money(amount)} for loan {loan.number} ({what.label.lower()}, "
                f"{loan.customer.display_name}), above {actor.display_name}'s limit of "
                f"{format_money(till.teller_cash_limit)}",
        idempotency_key=f"loan-cash-{idempotency_key}"[:64])
    record_event(action="loans.cash_queued", obj=loan, actor=actor,
                 summary=f"Cash of {format_money(amount)} for loan {loan.number} ({what.label.lower()}) waits for a "
                         "supervisor",
                 after={"request": approval.pk, "what": what.value, "amount": amount,
                        "limit": till.teller_cash_limit, **terms})
    return approval


def repay_approved_cash(approval, checker):
    """The approval handler for CASH_OVER_LIMIT_KIND: the repayment, part-prepayment or
    foreclosure, as its teller took it, checked again now (the till still open, the
    dues or the quote, the loan) and posted with the supervisor as checker."""
    from banking.teller.denominations import Denominations

    payload = approval.payload
    loan = Loan.objects.filter(pk=payload.get("loan_id")).first()
    if loan is None:
        raise ValidationFailed("The loan named in this request no longer exists.")
    taken = {"actor": approval.maker, "loan": loan, "amount": payload["amount"], "source": CASH,
             "counts": Denominations.of(payload["counts"]), "idempotency_key": payload["idempotency_key"],
             "approved_by": checker}
    what = payload.get("what", RepaymentKind.DUES)
    if what == RepaymentKind.PREPAYMENT:
        repayment = part_prepay(principal=payload["principal"], choice=payload["choice"], **taken)
    elif what == RepaymentKind.FORECLOSURE:
        repayment = foreclose(**taken)
    else:
        repayment = repay(**taken)
    return {"receipt": repayment.number, "entry_id": repayment.entry_id}


def _paise_line(over):
    return [Allocation(part=AllocationPart.ACCOUNT, amount=over)] if over else []


# -- schedules ----------------------------------------------------------------------------


def _write_version(loan, schedule, rows, *, on, reason, actor, new_rows, rate):
    """A new current schedule: the instalments due by `on` copied (with what was paid
    of them), then `new_rows` (schedule.py rows) numbered after them."""
    kept = [row for row in rows if row.due_date <= on]
    schedule.is_current = False
    schedule.save(update_fields=["is_current"])
    version = Schedule.objects.create(loan=loan, version=schedule.version + 1, reason=reason,
                                      principal=sum(row.principal for row in new_rows), rate=rate,
                                      schedule_type=loan.schedule_type, starts_on=on, created_by=actor)
    after = kept[-1].number if kept else 0
    Instalment.objects.bulk_create(
        [Instalment(schedule=version, number=row.number, due_date=row.due_date, opening=row.opening,
                    principal=row.principal, interest=row.interest, principal_paid=row.principal_paid,
                    interest_paid=row.interest_paid) for row in kept]
        + [Instalment(schedule=version, number=after + row.number, due_date=row.due_date, opening=row.opening,
                      principal=row.principal, interest=row.interest) for row in new_rows]
    )
    return version


# -- part-prepayment -------------------------------------------------------------------------


@transaction.atomic
def part_prepay(*, actor, loan, principal, choice, source, idempotency_key, amount=None, account=None, counts=None,
                code=None, queue_over_limit=False, approved_by=None):
    """Pay the dues, then `principal` paise ahead of the schedule with the prepayment
    charge and its GST; a new schedule version reducing the EMI or the tenure
    (`choice`). `amount`, when given (cash: what was counted), must be the preview's
    total. Returns the repayment; `repayment.schedule` is the new version. Cash over
    the teller's limit as `repay`."""
    till, _day = _lock_till(actor, source, idempotency_key)
    loan = _lock_loan(loan)
    earlier = _earlier(idempotency_key, loan, amount)
    if earlier is not None:
        return earlier
    today = business_date()
    preview = preview_prepayment(loan, principal, choice, today)
    total = preview.total
    if amount is None and source == CASH:
        raise ValidationFailed(f"Count the cash: {format_money(total)}.")
    amount = total if amount is None else amount
    over = _paise_over(source, amount, total)
    if over < 0 or amount < total:
        raise ValidationFailed(f"The prepayment comes to {format_money(total)} (dues {format_money(preview.dues)}, "
                               f"principal {format_money(principal)}, charge and GST "
                               f"{format_money(preview.charge + preview.gst)}), not {format_money(amount)}.")
    if queue_over_limit and approved_by is None and _over_limit(source, till, amount):
        return _queue_cash(actor, loan, till, what=RepaymentKind.PREPAYMENT, amount=amount, counts=counts,
                           idempotency_key=idempotency_key, principal=principal, choice=preview.choice.value)
    money = _source(actor, loan, source, amount=amount, till=till, counts=counts, account=account, code=code,
                    approved_by=approved_by)
    owed = dues(loan, today)
    allocations, _left = allocate(allocation_order(loan), owed, owed.total)
    allocations.append(Allocation(part=AllocationPart.PRINCIPAL, amount=principal))
    extra = []
    if preview.charge:
        charge = LoanCharge(loan=loan, kind=ChargeKind.PREPAYMENT, levied_on=today, amount=preview.charge,
                            gst=preview.gst, paid=preview.charge + preview.gst, created_by=actor,
                            narration=f"Prepayment charge on {format_money(principal)}")
        allocations.append(Allocation(part=AllocationPart.CHARGE, amount=charge.total, charge=charge))
        extra += [(_gl(LOAN_PREPAYMENT_CHARGES).pk, preview.charge)]
        if preview.gst:
            extra.append((_gl(GST_PAYABLE).pk, preview.gst))
    allocations += _paise_line(over)
    repayment = _post(actor, loan, money, kind=RepaymentKind.PREPAYMENT, amount=amount, allocations=allocations,
                      idempotency_key=idempotency_key, extra=extra, choice=preview.choice, checker=approved_by,
                      prepayment_charge=preview.charge + preview.gst,
                      narration=f"Loan {loan.number} part-prepayment of {format_money(principal)}")
    schedule, rows = _schedule_and_rows(loan)
    version = _write_version(loan, schedule, rows, on=today, reason=ScheduleReason.PREPAYMENT, actor=actor,
                             new_rows=preview.rows, rate=schedule.rate)
    repayment.schedule = version
    repayment.save(update_fields=["schedule"])
    _audit(actor, repayment, f"Part-prepayment of {format_money(principal)} on loan {loan.number} "
                             f"({preview.choice.label.lower()}), receipt {repayment.number}",
           choice=preview.choice, schedule_version=version.version, new_emi=preview.new_emi,
           instalments_left=preview.new_count)
    return repayment


# -- foreclosure ---------------------------------------------------------------------------


@transaction.atomic
def foreclose(*, actor, loan, amount, source, idempotency_key, account=None, counts=None, code=None,
              queue_over_limit=False, approved_by=None):
    """Close `loan` today for exactly today's foreclosure quote (cash: rounded up to
    the rupee, the paise over to the linked account). Returns the repayment. Cash over
    the teller's limit as `repay`."""
    till, _day = _lock_till(actor, source, idempotency_key)
    loan = _lock_loan(loan)
    earlier = _earlier(idempotency_key, loan, amount)
    if earlier is not None:
        return earlier
    _check_paise(amount, "amount paid")
    today = business_date()
    quote = foreclosure_quote(loan, today)
    over = _paise_over(source, amount, quote.total)
    if over < 0 or amount < quote.total:
        raise ValidationFailed(f"Today's foreclosure amount is {format_money(quote.total)}, not "
                               f"{format_money(amount)}.")
    if queue_over_limit and approved_by is None and _over_limit(source, till, amount):
        return _queue_cash(actor, loan, till, what=RepaymentKind.FORECLOSURE, amount=amount, counts=counts,
                           idempotency_key=idempotency_key)
    money = _source(actor, loan, source, amount=amount, till=till, counts=counts, account=account, code=code,
                    approved_by=approved_by)
    owed = dues(loan, today)
    allocations, _left = allocate(allocation_order(loan), owed, owed.total)
    # The last version: the instalments due so far, then one due today with the
    # principal left and the interest to date. The dues are paid on its copies.
    schedule, rows = _schedule_and_rows(loan)
    left = quote.principal - owed.principal
    final = schedule_math.Instalment(1, today, left, left, quote.interest_to_date, 0)
    version = _write_version(loan, schedule, rows, on=today, reason=ScheduleReason.FORECLOSURE, actor=actor,
                             new_rows=[final] if left or quote.interest_to_date else [], rate=schedule.rate)
    copies = {row.number: row for row in version.instalments.order_by("number")}
    for line in allocations:
        if line.instalment is not None:
            line.instalment = copies[line.instalment.number]
    last = copies[max(copies)] if (left or quote.interest_to_date) else None
    extra = []
    if last is not None:
        if left:
            allocations.append(Allocation(part=AllocationPart.PRINCIPAL, amount=left, instalment=last))
        if quote.interest_to_date:
            allocations.append(Allocation(part=AllocationPart.INTEREST, amount=quote.interest_to_date,
                                          instalment=last))
            # The interest to date clears what end of day accrued of it out of 1301;
            # the rest (or the shortfall) is interest income.
            extra.append((_gl(INTEREST_RECEIVABLE).pk, loan.accrued_interest - quote.interest_to_date))
            extra.append((_gl(LOAN_INTEREST_INCOME).pk, quote.interest_to_date - loan.accrued_interest))
    elif loan.accrued_interest:
        extra.append((_gl(INTEREST_RECEIVABLE).pk, loan.accrued_interest))
        extra.append((_gl(LOAN_INTEREST_INCOME).pk, -loan.accrued_interest))
    if quote.prepayment_charge:
        charge = LoanCharge(loan=loan, kind=ChargeKind.PREPAYMENT, levied_on=today, amount=quote.prepayment_charge,
                            gst=quote.gst, paid=quote.prepayment_charge + quote.gst, created_by=actor,
                            narration="Foreclosure charge")
        allocations.append(Allocation(part=AllocationPart.CHARGE, amount=charge.total, charge=charge))
        extra.append((_gl(LOAN_PREPAYMENT_CHARGES).pk, quote.prepayment_charge))
        if quote.gst:
            extra.append((_gl(GST_PAYABLE).pk, quote.gst))
    allocations += _paise_line(over)
    repayment = _post(actor, loan, money, kind=RepaymentKind.FORECLOSURE, amount=amount, allocations=allocations,
                      idempotency_key=idempotency_key, extra=extra, schedule=version, checker=approved_by,
                      prepayment_charge=quote.prepayment_charge + quote.gst,
                      narration=f"Loan {loan.number} foreclosure")
    loan.status, loan.closed_on, loan.accrued_interest = LoanStatus.CLOSED, today, 0
    loan.save(update_fields=["status", "closed_on", "accrued_interest"])
    _audit(actor, repayment, f"Loan {loan.number} foreclosed for {format_money(amount)}, receipt "
                             f"{repayment.number}", quote={name: value for name, value in quote.lines})
    record_event(action="loans.closed", obj=loan, actor=actor, summary=f"Loan {loan.number} foreclosed and closed",
                 after={"closed_on": today, "receipt": repayment.number})
    return repayment


# -- charges -----------------------------------------------------------------------------------


@transaction.atomic
def levy_charge(*, actor, loan, kind, amount, narration, idempotency_key, on=None, instalment=None):
    """Levy a charge (penal, returned mandate, other) on `loan` with GST at the
    product's rate: Dr charges receivable, Cr the charge's income and GST payable.
    Never interest, never added to the principal. Idempotent by `idempotency_key`."""
    if kind not in (ChargeKind.PENAL, ChargeKind.BOUNCE, ChargeKind.OTHER):
        raise ValidationFailed("Levy a penal, returned-mandate or other charge; a prepayment charge is taken with "
                               "the prepayment.")
    if not idempotency_key:
        raise ValidationFailed("A charge needs its key.")
    earlier = LoanCharge.objects.filter(idempotency_key=idempotency_key).first()
    if earlier is not None:
        if earlier.loan_id != loan.pk or earlier.amount != amount:
            raise IdempotencyConflict("This charge was already levied with different details.")
        return earlier
    loan = _lock_loan(loan)
    _require_open(loan)
    _check_paise(amount, "charge")
    narration = " ".join(str(narration or "").split())[:200]
    if not narration:
        raise ValidationFailed("Say what the charge is for.")
    gst = schedule_math.to_paise(Decimal(amount) * loan.product_version.gst_percent / 100)
    lines = [ledger.Line.debit(_gl(LOAN_CHARGES_RECEIVABLE), amount + gst),
             ledger.Line.credit(_gl(CHARGE_INCOME[ChargeKind(kind)]), amount)]
    if gst:
        lines.append(ledger.Line.credit(_gl(GST_PAYABLE), gst))
    entry = ledger.post_entry(actor=actor, lines=lines, kind=EntryKind.FEE,
                              narration=f"Loan {loan.number}: {narration}", reference=loan.number,
                              idempotency_key=f"loan-charge-{idempotency_key}",
                              channel=Channel.SYSTEM if actor is None else Channel.BRANCH)
    charge = LoanCharge.objects.create(loan=loan, instalment=instalment, kind=kind, levied_on=on or business_date(),
                                       amount=amount, gst=gst, narration=narration, entry=entry,
                                       idempotency_key=idempotency_key, created_by=actor)
    record_event(action="loans.charge_levied", obj=loan, actor=actor,
                 summary=f"{charge.get_kind_display()} of {format_money(amount)} + GST {format_money(gst)} on "
                         f"loan {loan.number}",
                 after={"charge": charge.pk, "kind": kind, "amount": amount, "gst": gst, "entry": entry.pk})
    return charge


# -- floating-rate reset ---------------------------------------------------------------------------


@dataclass
class ResetPreview:
    loan: Loan
    on: datetime.date
    old_rate: Decimal
    new_rate: Decimal
    choice: str
    rows: list
    old_emi: int
    new_emi: int
    old_count: int
    new_count: int
    stretched: bool
    prepayment: int = 0


def _reset_terms(loan, *, ahead=False):
    """The reset's date, the schedule, its rows and the new rate. `ahead`: for the
    borrower's choice before the reset date (the benchmark in force that day)."""
    if loan.rate_type != RateType.FLOATING or loan.next_reset_on is None:
        raise ValidationFailed(f"Loan {loan.number} is at a fixed rate: it has no rate reset.")
    _require_open(loan)
    on = loan.next_reset_on
    today = business_date()
    if today < on and not ahead:
        raise ValidationFailed(f"Loan {loan.number} resets on {_when(on)}, not before.")
    schedule, rows = _schedule_and_rows(loan)
    if any(on < row.due_date <= today for row in rows):
        raise ValidationFailed(f"The reset of {_when(on)} was missed and an instalment has fallen due since; "
                               "correct the schedule before resetting.")
    terms = loan.product_version
    benchmark = benchmark_on(terms.benchmark, on)
    if benchmark is None:
        raise ValidationFailed(f"No {terms.get_benchmark_display()} is entered for {_when(on)}.")
    return on, schedule, rows, benchmark.rate + (loan.spread or 0)


def _prepayment_to_keep(emi, rate, count, principal):
    """Principal to prepay so that `emi` repays the rest over `count` months at `rate`."""
    with localcontext() as ctx:
        ctx.prec = 40
        r = schedule_math.monthly_rate(rate)
        present = Decimal(emi) * count if r == 0 else Decimal(emi) * (1 - (1 + r) ** -count) / r
        need = (Decimal(principal) - present).quantize(Decimal(1), rounding=ROUND_CEILING)
    return max(int(need), 0)


def preview_rate_reset(loan, choice=RESET_TENURE, *, ahead=False):
    """The schedule the reset at `next_reset_on` would make under `choice`; `ahead`
    shows it before the reset date, as the borrower chooses (the schedule as it stands
    today, every instalment due by the reset date taken as paid by then)."""
    if choice not in RESET_CHOICES:
        raise ValidationFailed("Choose a higher EMI, a longer tenure, or a prepayment.")
    on, schedule, rows, new_rate = _reset_terms(loan, ahead=ahead)
    owed = dues(loan, on)
    principal = loan.outstanding - owed.principal
    ahead = [row for row in rows if row.due_date > on]
    elapsed = ahead[0].number - 1 if ahead else len(rows)
    most = max(loan.product_version.max_months - elapsed, len(ahead))
    prepay = 0
    if choice == RESET_PREPAYMENT:
        prepay = _prepayment_to_keep(_emi_of(ahead), new_rate, len(ahead), principal) if ahead else 0
        if prepay >= principal:
            raise ValidationFailed("The prepayment would repay the whole loan: foreclose it instead.")
    build_choice = REDUCE_TENURE if choice == RESET_TENURE else REDUCE_EMI
    new, stretched = _new_rows(loan, schedule, rows, on=on, principal=principal - prepay, rate=new_rate,
                               choice=build_choice, most=most)
    return ResetPreview(loan=loan, on=on, old_rate=loan.rate, new_rate=new_rate, choice=choice, rows=new,
                        old_emi=_emi_of(ahead), new_emi=_emi_of(new), old_count=len(ahead), new_count=len(new),
                        stretched=stretched, prepayment=prepay)


@transaction.atomic
def reset_rate(*, actor, loan, choice=RESET_TENURE, source=None, idempotency_key=None, account=None, counts=None,
               code=None, amount=None):
    """Reset a floating-rate loan at its `next_reset_on` to the benchmark then in force
    plus its spread, with the borrower's `choice` (RESET_CHOICES; the tenure by
    default). A prepayment choice takes the prepayment (`source` and the rest as for
    `part_prepay`) that keeps the EMI and tenure. Writes a rate-reset schedule version
    (and the prepayment's) and moves `next_reset_on` on by the product's reset period.
    Operations reset, or end of day (actor None)."""
    if actor is not None and not actor.has_perm("loans.manage_loan_products") and choice != RESET_PREPAYMENT:
        raise NotPermitted("Only operations reset a loan's rate.")
    if choice == RESET_PREPAYMENT:
        _lock_till(actor, source, idempotency_key)
        earlier = _earlier(idempotency_key, loan, amount)
        if earlier is not None:
            return earlier
    loan = _lock_loan(loan)
    preview = preview_rate_reset(loan, choice)
    schedule, rows = _schedule_and_rows(loan)
    old_rate = loan.rate
    version = None
    if preview.new_rate != old_rate or choice == RESET_PREPAYMENT:
        full_rows = preview.rows
        if choice == RESET_PREPAYMENT:
            # The rate changes first (same tenure); the prepayment then brings the EMI back.
            full_rows, _ = _new_rows(loan, schedule, rows, on=preview.on, principal=sum(
                row.principal for row in preview.rows) + preview.prepayment, rate=preview.new_rate, choice=REDUCE_EMI)
        version = _write_version(loan, schedule, rows, on=preview.on, reason=ScheduleReason.RATE_RESET,
                                 actor=actor, new_rows=full_rows, rate=preview.new_rate)
    loan.rate = preview.new_rate
    loan.next_reset_on = add_months(preview.on, loan.product_version.reset_months)
    loan.save(update_fields=["rate", "next_reset_on"])
    record_event(action="loans.rate_reset", obj=loan, actor=actor,
                 summary=f"Loan {loan.number} reset from {old_rate}% to {preview.new_rate}% on {_when(preview.on)} "
                         f"({RESET_CHOICES[choice].lower()})",
                 after={"on": preview.on, "old_rate": old_rate, "new_rate": preview.new_rate, "choice": choice,
                        "schedule_version": version.version if version else None, "new_emi": preview.new_emi,
                        "instalments_left": preview.new_count, "tenure_at_maximum": preview.stretched})
    if choice == RESET_PREPAYMENT and preview.prepayment:
        return part_prepay(actor=actor, loan=loan, principal=preview.prepayment, choice=REDUCE_EMI, source=source,
                           idempotency_key=idempotency_key, amount=amount, account=account, counts=counts, code=code)
    return version


# -- end of day: the standing mandate -------------------------------------------------------------------


def _mandate_key(date, loan_id):
    return f"mandate-{date.isoformat()}-{loan_id}"


def collect_by_mandate(*, date, first=None, last=None):
    """Under the standing mandate, take each active loan's dues (ids `first` to `last`)
    from its linked deposit account, as far as the account's available balance
    allows (never an overdraft), with the rules of `repay` (the same `dues_of`,
    `allocate`, `_source` and `_lines`). Returns how many loans paid something.

    Set-based, one transaction: the due loans locked (FOR UPDATE, in id order, as
    `repay` locks one) and read with their dues in a few queries, the allocations
    worked out loan by loan in memory, every entry posted through one `post_batch`
    (the ledger judges each on its own: a frozen or closed account, or a refusal,
    leaves that loan's dues overdue and the others are collected), then the
    repayments, their allocations and the instalments' and charges' paid amounts
    written a statement each. Loans sharing a linked account take from it in id
    order, each from what the earlier ones left. Each repayment keeps the key
    `mandate-<date>-<loan id>`, so a rerun of the date takes nothing twice. One audit
    event for the partition lists its receipts (the ledger's batch event lists the
    entries); a loan the auto-debit repays in full is closed with its own event."""
    loans = Loan.objects.filter(status=LoanStatus.ACTIVE, first_disbursed_on__isnull=False)
    if first is not None:
        loans = loans.filter(pk__gte=first)
    if last is not None:
        loans = loans.filter(pk__lte=last)
    overdue = Instalment.objects.filter(schedule__loan_id=OuterRef("pk"), schedule__is_current=True,
                                        due_date__lte=date).filter(_UNPAID)
    # Only a linked account with something in it can pay: holds only lower what the
    # balance and any overdraft give (LedgerAccount.available, checked below). The
    # loans due first, from the loans' own rows; then their accounts and those loans
    # by id (a join from the range would read every deposit account).
    from banking.deposits.models import DepositAccount

    due = dict(loans.filter(Exists(overdue), deposit_account__isnull=False).values_list("pk", "deposit_account_id"))
    accounts = (DepositAccount.objects.filter(pk__in=set(due.values()))
                .alias(room=F("ledger_account__balance") + F("ledger_account__overdraft_limit")).filter(room__gt=0)
                .select_related("product", "ledger_account").in_bulk())
    with transaction.atomic():
        due_loans = list(Loan.objects.filter(pk__in=[pk for pk, account in due.items() if account in accounts],
                                             status=LoanStatus.ACTIVE)
                         .order_by("pk").select_for_update(of=("self",)).select_related("product", "product_version"))
        for loan in due_loans:
            loan.deposit_account = accounts[loan.deposit_account_id]
        done = set(Repayment.objects.filter(idempotency_key__in=[_mandate_key(date, loan.pk) for loan in due_loans])
                   .values_list("loan_id", flat=True))
        payers = [loan for loan in due_loans
                  if loan.pk not in done and loan.deposit_account.ledger_account.available > 0]
        owed_by = dues_of([loan.pk for loan in payers], date)
        gls = _receivable_gls()
        left, plans, entries = {}, [], []  # left: each linked account's available, less what earlier loans took
        for loan in payers:
            owed, ledger_id = owed_by[loan.pk], loan.deposit_account.ledger_account_id
            left.setdefault(ledger_id, loan.deposit_account.ledger_account.available)
            take = min(owed.total, max(left[ledger_id], 0))
            if take <= 0:
                continue
            try:
                money = _source(None, loan, AUTO_DEBIT, amount=take, till=None, counts=None, account=None, code=None)
                allocations, rest = allocate(allocation_order(loan), owed, take)
            except BankingError:
                continue
            assert rest == 0, "the dues cover the amount"
            left[ledger_id] -= take
            key = _mandate_key(date, loan.pk)
            plans.append((loan, take, owed, allocations, key))
            entries.append(ledger.BatchEntry(f"loan-repay-{key}", f"Loan {loan.number} repayment",
                                             tuple(_lines(loan, money, allocations, amount=take, gls=gls)),
                                             reference=loan.number))
        outcomes = ledger.post_batch(actor=None, entries=entries, kind=EntryKind.TRANSFER, channel=Channel.SYSTEM)
        posted = [(*plan, outcome.entry_id) for plan, outcome in zip(plans, outcomes, strict=True) if outcome.posted]
        _write_mandate_repayments(posted, date)
    return len(posted)


def _write_mandate_repayments(posted, date):
    """The repayments of the mandate's entries `posted` ((loan, amount, dues,
    allocations, key, entry id)), their allocations, the instalments' and charges'
    paid amounts, the loans repaid in full closed, and the partition's audit event."""
    if not posted:
        return
    by_branch = defaultdict(list)
    for plan in posted:
        by_branch[plan[0].branch_id].append(plan)
    numbers = {}
    for branch in Branch.objects.filter(pk__in=list(by_branch)):
        plans = by_branch[branch.pk]
        for plan, number in zip(plans, _next_numbers("RP", branch, len(plans)), strict=True):
            numbers[plan[4]] = number
    columns = list(zip(*((numbers[key], loan.pk, take, loan.deposit_account_id, entry_id, key)
                         for loan, take, _owed, _allocations, key, entry_id in posted), strict=True))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Repayment._meta.db_table} (number, loan_id, kind, channel, amount, \"on\","  # noqa: S608 the model's table
            " deposit_account_id, choice, prepayment_charge, entry_id, idempotency_key, created_at)"
            " SELECT c.number, c.loan_id, %s, %s, c.amount, %s, c.account_id, '', 0, c.entry_id, c.key, now()"
            " FROM unnest(%s::text[], %s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[], %s::text[])"
            " AS c(number, loan_id, amount, account_id, entry_id, key) RETURNING id, idempotency_key",
            [RepaymentKind.DUES.value, AUTO_DEBIT.value, date, *(list(column) for column in columns)])
        repayment_of = {key: pk for pk, key in cursor.fetchall()}
        paid_rows, paid_charges, lines = defaultdict(lambda: [0, 0]), defaultdict(int), []
        for _loan, _take, _owed, allocations, key, _entry in posted:
            for line in allocations:
                lines.append((repayment_of[key], str(line.part), line.instalment.pk if line.instalment else None,
                              line.charge.pk if line.charge else None, line.amount))
                if line.charge is not None:
                    paid_charges[line.charge.pk] += line.amount
                elif line.part == AllocationPart.INTEREST:
                    paid_rows[line.instalment.pk][0] += line.amount
                else:
                    paid_rows[line.instalment.pk][1] += line.amount
        cursor.execute(
            f"INSERT INTO {RepaymentAllocation._meta.db_table} (repayment_id, part, instalment_id, charge_id, amount)"  # noqa: S608 the model's table
            " SELECT * FROM unnest(%s::bigint[], %s::text[], %s::bigint[], %s::bigint[], %s::bigint[])",
            [list(column) for column in zip(*lines, strict=True)])
        if paid_rows:
            cursor.execute(
                f"UPDATE {Instalment._meta.db_table} i SET interest_paid = i.interest_paid + c.interest,"  # noqa: S608 the model's table
                " principal_paid = i.principal_paid + c.principal"
                " FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[]) AS c(id, interest, principal)"
                " WHERE i.id = c.id",
                [list(paid_rows), [paid[0] for paid in paid_rows.values()], [paid[1] for paid in paid_rows.values()]])
        if paid_charges:
            cursor.execute(
                f"UPDATE {LoanCharge._meta.db_table} g SET paid = g.paid + c.amount"  # noqa: S608 the model's table
                " FROM unnest(%s::bigint[], %s::bigint[]) AS c(id, amount) WHERE g.id = c.id",
                [list(paid_charges), list(paid_charges.values())])
    # A loan whose dues are all paid and with no instalment still to come may be repaid in full.
    paid_up = {loan.pk: loan for loan, take, owed, *_rest in posted if take == owed.total}
    ahead = set(Instalment.objects.filter(schedule__loan_id__in=list(paid_up), schedule__is_current=True,
                                          due_date__gt=date).values_list("schedule__loan_id", flat=True))
    for loan_id, loan in paid_up.items():
        if loan_id not in ahead:
            _close_if_repaid(loan, None, date)  # reads the loan's ledger account itself
    total = sum(take for _loan, take, *_rest in posted)
    record_event(action="loans.mandate_collected", object_type="loans.repayment",
                 summary=f"Auto-debit under the mandate on {_when(date)}: {len(posted):,} repayments, "
                         f"{format_money(total)}",
                 after={"date": date, "total": total, "receipts": [
                     [numbers[key], loan.pk, take, entry_id] for loan, take, _owed, _allocations, key, entry_id
                     in posted]})
