"""Term deposits over their life: daily accrual, maturity, renewal, recurring
instalments, and tax deducted at source on their interest.

Design overview
- Fixed deposit accrual. A deposit of principal P at rate r opened on S and maturing
  on M earns, by the close of day D (S ≤ D < M), the interest of the quarterly-
  compounded value from S to D + 1 (interest.term_deposit_value, DESIGN §5). End of
  day keeps that cumulative figure in hundredths of a paisa, rounded half-up once
  from the exact value (`TermDepositState.accrued`); the day's accrual is today's
  figure less yesterday's. So the accruals add up, to the hundredth of a paisa, to
  the interest the deposit pays at maturity, and a missed day is caught up by the next.
- Interest payable. After the day's accruals, one entry per product and branch
  (Dr interest on term deposits 5102, Cr interest payable 2201) brings what the GL
  holds for unsettled fixed deposits to their accruals rounded half-up to the paisa.
  What settling a deposit releases from 2201 is its accrual in paise; the interest
  paid is the figure promised at opening (or the premature closure's), and the
  difference between the two goes to 5102.
- Settlement, at maturity by end of day or at the branch (early, or after maturity):
  three entries in one transaction, each in words on the deposit's statement:
    1. "Interest on fixed deposit ...": Dr 2201 (the accrual), ± 5102, Cr the deposit;
    2. "Tax deducted at source (section 194A) ...": Dr the deposit, Cr TDS payable 2601;
    3. the payout: Dr the deposit, Cr the linked account and/or a renewed deposit,
  then the deposit is closed. The stored instruction decides 3: pay principal and
  interest out; renew the principal at that day's rate for the same term and pay the
  interest out; or renew both. A renewal opens a new deposit (its own number), linked
  to the old one through the settlement. A renewal the product no longer allows (no
  slab for the term, product withdrawn) pays out instead, and says so.
  A deposit that cannot be settled (frozen, a lien on it, a linked account closed)
  stays open, earns nothing more, shows the problem to the teller, and is tried again
  at each end of day; the branch can pay it out at any time (`close_fixed_deposit_early`
  pays a matured deposit its maturity amount).
- Recurring deposits. Instalment k (1..n) falls due on the opening date's day of the
  month, k − 1 months on. End of day debits the linked account on the due day; short
  of funds it is tried again at each end of day, oldest instalment first, with a
  penalty per product (default ₹1.50 per ₹100 of the instalment for each started 30
  days late, DESIGN §5: 10 days late is one period, 40 days two; no GST), collected
  with the instalment in one entry. When a product's number of instalments (six by
  default) are unpaid at once, the deposit is in default: nothing more is debited, the
  customer is emailed, and at maturity what was paid in is paid out with interest.
  At maturity a deposit with every instalment paid pays its maturity amount; one with
  gaps pays each instalment paid, compounded quarterly from the day it was paid.
- TDS (Income-tax Act s.194A, DESIGN §5). Every credit of fixed or recurring deposit
  interest to a customer (the primary holder) is an `InterestCredit` of its financial
  year (April to March). Once the year's interest passes ₹50,000 (₹1,00,000 for a
  senior citizen, 60 or over by the year's end), tax is deducted: on the crossing
  credit, on the whole year's interest so far; then on each later credit. 10% with a
  PAN on file, 20% without. None in a year with a Form 15G or 15H recorded. TDS never
  exceeds the interest of the credit it comes from; what could not be taken is carried
  to the year's next credit. Interest accrued but not yet credited at the year's end
  is not taxed here (a simplification: the bank's tax return covers it).

Locks: a settlement locks the deposit's row, then its state row, then the primary
holder's customer row (the year's TDS totals), then the ledger accounts (post_entry),
in that order everywhere. Each deposit is settled, accrued or collected in its own
transaction, so one deposit's refusal never undoes another's.

Errors: ValidationFailed, NotPermitted, and the ledger's refusals, which end of day
records on the deposit as its problem.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q, Sum

from banking.audit.actions import record_event
from banking.core.eod import posting_key
from banking.core.errors import BankingError, NotPermitted, ValidationFailed
from banking.core.money import format_money
from banking.customers.models import Customer, DocumentType
from banking.ledger import actions as ledger
from banking.ledger.chart import (
    INTEREST_ON_TERM_DEPOSITS,
    INTEREST_PAYABLE,
    RD_PENALTY_INCOME,
    TDS_PAYABLE,
    ensure_standard_chart,
)
from banking.ledger.models import BusinessDate, Channel, EntryKind, LedgerAccount

from . import interest
from .models import DepositAccount, DepositStatus, MaturityInstruction, ProductKind
from .term_models import (
    DEFAULT_MISSED_TO_DEFAULT,
    DEFAULT_PENALTY_PER_HUNDRED,
    InterestCredit,
    RecurringDepositRule,
    RecurringInstalment,
    SettlementKind,
    TaxDeclaration,
    TaxForm,
    TermAccrualPosting,
    TermDepositSettlement,
    TermDepositState,
)

FIXED_DEPOSITS_STEP = "deposits.fixed_deposits"
FIXED_DEPOSIT_INTEREST_STEP = "deposits.fixed_deposit_interest"
RECURRING_STEP = "deposits.recurring_instalments"

TDS_THRESHOLD = 50_000_00
SENIOR_TDS_THRESHOLD = 1_00_000_00
SENIOR_AGE = 60
TDS_RATE = Decimal("10")
TDS_RATE_WITHOUT_PAN = Decimal("20")
PENALTY_DAYS = 30
HUNDRED = Decimal(100)


def _day(value):
    return datetime.date.fromisoformat(value) if isinstance(value, str) else value


def _gl(code):
    """A GL of the standard chart; a chart from before the GL existed gets it now."""
    account = LedgerAccount.objects.filter(code=code).first()
    if account is None:
        ensure_standard_chart()
        account = LedgerAccount.objects.get(code=code)
    return account


def _state(account, *, lock=True):
    state, _ = TermDepositState.objects.get_or_create(account=account)
    if lock:
        state = TermDepositState.objects.select_for_update().get(pk=state.pk)
    return state


def _note_problem(account_id, on, problem):
    """Record why end of day could not settle or collect: in its own transaction, so
    that it survives the rollback of the attempt."""
    with transaction.atomic():
        state, _ = TermDepositState.objects.get_or_create(account_id=account_id)
        TermDepositState.objects.filter(pk=state.pk).update(problem=str(problem)[:300], problem_on=on)


def _clear_problem(state):
    if state.problem:
        state.problem, state.problem_on = "", None
        state.save(update_fields=["problem", "problem_on"])


# -- tax deducted at source (s.194A) ----------------------------------------------------


def financial_year(day):
    """The year an Indian financial year starts in: 1 Apr 2026 to 31 Mar 2027 is 2026."""
    return day.year if day.month >= 4 else day.year - 1


def financial_year_label(year):
    return f"FY {year}-{(year + 1) % 100:02d}"


def financial_year_end(year):
    return datetime.date(year + 1, 3, 31)


def is_senior_citizen(customer, year):
    """Sixty or over at any time in the year, that is by its last day (s.194A's proviso)."""
    age = customer.age_on(financial_year_end(year)) if customer.is_individual else None
    return age is not None and age >= SENIOR_AGE


def has_pan(customer):
    return customer.identity_documents.filter(doc_type=DocumentType.PAN).exists()


@dataclass(frozen=True)
class TdsQuote:
    financial_year: int
    interest: int
    year_interest: int  # the year's interest with this credit
    threshold: int
    rate: Decimal
    tds_due: int
    tds: int
    note: str


def quote_tds(*, customer, on, interest_paise):
    """The TDS on crediting `interest_paise` of deposit interest to `customer` on `on`,
    from the year's credits so far (DESIGN §5). Reads only; `credit_interest` takes
    the customer's lock and writes the credit."""
    year = financial_year(on)
    so_far = InterestCredit.objects.for_year(customer, year).totals()
    total = so_far["interest"] + interest_paise
    senior = is_senior_citizen(customer, year)
    threshold = SENIOR_TDS_THRESHOLD if senior else TDS_THRESHOLD
    label = financial_year_label(year)
    declaration = TaxDeclaration.objects.filter(customer=customer, financial_year=year).first()
    if declaration is not None:
        return TdsQuote(year, interest_paise, total, threshold, Decimal(0), 0, 0,
                        f"No TDS: {declaration.get_form_display()} recorded for {label}.")
    if total <= threshold:
        return TdsQuote(year, interest_paise, total, threshold, Decimal(0), 0, 0,
                        f"No TDS: deposit interest in {label} is {format_money(total)}, within "
                        f"{format_money(threshold)}.")
    pan = has_pan(customer)
    rate = TDS_RATE if pan else TDS_RATE_WITHOUT_PAN
    crossing = so_far["interest"] <= threshold
    taxed = total if crossing else interest_paise
    due = interest.to_paise(Decimal(taxed) * rate / HUNDRED)
    carried = so_far["tds_due"] - so_far["tds"]  # what earlier credits could not take
    tds = max(0, min(interest_paise, due + carried))
    note = (f"TDS at {rate}%{'' if pan else ' (no PAN on file)'} on "
            + (f"the whole of {label}'s deposit interest, {format_money(total)}, which passed "
               f"{format_money(threshold)} with this credit" if crossing else "this credit")
            + (f", with {format_money(carried)} carried from earlier credits" if carried else "")
            + (f"; {format_money(due + carried - tds)} could not be taken from this interest and is carried"
               if due + carried > tds else "") + ".")
    return TdsQuote(year, interest_paise, total, threshold, rate, due, tds, note)


def credit_interest(*, account, on, interest_paise):
    """Record a credit of `interest_paise` of `account`'s interest to its primary
    holder and return (InterestCredit, TdsQuote). Locks the customer's row, so that
    two deposits of one customer settled at once count each other."""
    Customer.objects.select_for_update(no_key=True).filter(pk=account.customer_id).first()
    quote = quote_tds(customer=account.customer, on=on, interest_paise=interest_paise)
    credit = InterestCredit.objects.create(
        customer_id=account.customer_id, account=account, financial_year=quote.financial_year, credited_on=on,
        interest=interest_paise, tds_due=quote.tds_due, tds=quote.tds, tds_rate=quote.rate, note=quote.note[:200])
    return credit, quote


def year_tax_summary(customer, year):
    """The year's deposit interest credited and TDS deducted, for the screens."""
    totals = InterestCredit.objects.for_year(customer, year).totals()
    return {"financial_year": year, "label": financial_year_label(year), "interest": totals["interest"],
            "tds": totals["tds"], "declaration": TaxDeclaration.objects.filter(customer=customer,
                                                                                  financial_year=year).first(),
            "senior": is_senior_citizen(customer, year), "has_pan": has_pan(customer),
            "threshold": SENIOR_TDS_THRESHOLD if is_senior_citizen(customer, year) else TDS_THRESHOLD}


@transaction.atomic
def record_tax_declaration(*, actor, customer, form, received_on=None):
    """Record the Form 15G or 15H a customer signed at the branch for the financial
    year of the business date: no TDS on their deposit interest that year. Form 15H is
    for a resident individual of 60 or over (by the year's end), 15G for one below 60;
    both need the customer's PAN (a form without it is invalid, s.206AA). Locks the
    customer's row; one declaration a year."""
    today = BusinessDate.objects.current()
    received_on = received_on or today
    if received_on > today:
        raise ValidationFailed("The form cannot be dated after today.")
    year = financial_year(received_on)
    label = financial_year_label(year)
    try:
        form = TaxForm(form)
    except ValueError:
        raise ValidationFailed("Choose Form 15G or Form 15H.") from None
    customer = Customer.objects.select_for_update(no_key=True).get(pk=customer.pk)
    if not customer.is_kyc_verified:
        raise NotPermitted(f"{customer.display_name}'s KYC is not verified.")
    if not customer.is_individual:
        raise ValidationFailed("Forms 15G and 15H are given by individuals; a firm or company cannot give one.")
    if not has_pan(customer):
        raise ValidationFailed("The customer's PAN is not on file; Forms 15G and 15H are valid only with a PAN. "
                               "Add the PAN through re-KYC first.")
    senior = is_senior_citizen(customer, year)
    if form == TaxForm.FORM_15H and not senior:
        raise ValidationFailed(f"Form 15H is for senior citizens (60 or over by 31 Mar {year + 1}); "
                               f"{customer.display_name} gives Form 15G.")
    if form == TaxForm.FORM_15G and senior:
        raise ValidationFailed(f"{customer.display_name} is a senior citizen in {label}: take Form 15H, not 15G.")
    existing = TaxDeclaration.objects.filter(customer=customer, financial_year=year).first()
    if existing is not None:
        raise ValidationFailed(f"{existing.get_form_display()} is already recorded for {label} "
                               f"(on {existing.received_on:%d %b %Y}).")
    declaration = TaxDeclaration.objects.create(customer=customer, financial_year=year, form=form,
                                                received_on=received_on, recorded_by=actor)
    record_event(action="deposits.tax_declaration_recorded", obj=customer, actor=actor,
                 summary=f"{declaration.get_form_display()} recorded for {customer.display_name} ({customer.cif}), "
                         f"{label}: no TDS on deposit interest this year",
                 after={"form": form.value, "financial_year": year, "received_on": received_on})
    return declaration


# -- fixed deposits: accrual ------------------------------------------------------------


def accrual_target(account, through):
    """Interest earned by the close of `through`, in hundredths of a paisa: the exact
    quarterly-compounded interest from the opening to the next day, rounded once."""
    start, end = account.opened_on, account.maturity_date
    if through < start:
        return 0
    until = min(through + datetime.timedelta(days=1), end)
    value = interest.term_deposit_value(account.principal, account.rate, start, until)
    return interest.to_hundredths(value - account.principal)


def accrue_fixed_deposit(account, on):
    """Bring a locked fixed deposit's accrual to the close of `on`; returns the day's
    accrual in hundredths of a paisa (0 when already done: a rerun changes nothing)."""
    state = _state(account)
    through = min(on, account.maturity_date - datetime.timedelta(days=1))
    if through < account.opened_on or (state.accrued_through and state.accrued_through >= through):
        return 0
    target = accrual_target(account, through)
    day = target - state.accrued
    state.accrued, state.accrued_through = target, through
    state.save(update_fields=["accrued", "accrued_through"])
    return day


def post_accrued_interest(on):
    """One entry per product and branch that brings interest payable for unsettled
    fixed deposits to their accruals in paise; returns the number of entries posted.
    Run once a day after the accruals; recorded, so a rerun posts nothing."""
    on = _day(on)
    pairs = (TermDepositState.objects.filter(account__product__kind=ProductKind.FIXED)
             .values_list("account__product_id", "account__branch_id").distinct())
    posted = 0
    for product_id, branch_id in sorted(set(pairs)):
        with transaction.atomic():
            if TermAccrualPosting.objects.filter(date=on, product_id=product_id, branch_id=branch_id).exists():
                continue
            deposits = DepositAccount.objects.filter(product_id=product_id, branch_id=branch_id)
            outstanding = (TermDepositState.objects.filter(account__in=deposits, account__settlement__isnull=True)
                           .aggregate(total=Sum("accrued"))["total"] or 0)
            target = interest.to_paise(Decimal(outstanding) / 100)
            booked = (TermAccrualPosting.objects.filter(product_id=product_id, branch_id=branch_id)
                      .aggregate(total=Sum("amount"))["total"] or 0)
            released = (TermDepositSettlement.objects.filter(account__in=deposits)
                        .aggregate(total=Sum("accrual_released"))["total"] or 0)
            change = target - (booked - released)
            row = TermAccrualPosting(date=on, product_id=product_id, branch_id=branch_id, amount=change)
            if change:
                expense, payable = _gl(INTEREST_ON_TERM_DEPOSITS), _gl(INTEREST_PAYABLE)
                deposit = deposits.select_related("product", "branch").first()
                lines = ([ledger.Line.debit(expense, change), ledger.Line.credit(payable, change)] if change > 0
                         else [ledger.Line.debit(payable, -change), ledger.Line.credit(expense, -change)])
                row.entry = ledger.post_entry(
                    actor=None, kind=EntryKind.INTEREST, lines=lines, channel=Channel.SYSTEM,
                    idempotency_key=posting_key(on, FIXED_DEPOSIT_INTEREST_STEP,
                                                f"{deposit.product.code}-{deposit.branch.code}"),
                    narration=f"Interest accrued on {deposit.product.name.lower()}s at {deposit.branch.name}, "
                              f"{on:%d %b %Y}")
                posted += 1
            row.save()
    return posted


# -- fixed deposits: settlement -----------------------------------------------------------


def _describe(account):
    return (f"fixed deposit {account.number} at {account.rate}% from {account.opened_on:%d %b %Y} "
            f"to {account.maturity_date:%d %b %Y}")


def _open_renewal(old, principal, on):
    """A new fixed deposit for the same term from `on` at that day's rate, holding
    `principal`; raises ValidationFailed when the product no longer allows it."""
    from . import actions

    quote = actions.quote_fixed_deposit(product=old.product, principal=principal, days=old.term_days, start=on)
    # Opened by whoever opened the first deposit: the renewal carries out their standing
    # instruction (the audit event of the settlement records that end of day did it).
    new = DepositAccount(
        number=actions._allocate_number(old.branch, ProductKind.FIXED), product=quote.product,
        customer=old.customer, branch=old.branch, mode_of_operation=old.mode_of_operation,
        status=DepositStatus.ACTIVE, created_by=old.created_by, source_account=old.source_account,
        principal=principal, rate=quote.rate, term_days=quote.term_days, maturity_date=quote.maturity_date,
        maturity_amount=quote.maturity_amount, maturity_instruction=old.maturity_instruction, opened_on=on,
        last_customer_activity_on=old.last_customer_activity_on, nominee_name=old.nominee_name,
        nominee_relationship=old.nominee_relationship, nominee_date_of_birth=old.nominee_date_of_birth,
        nominee_guardian_name=old.nominee_guardian_name,
    )
    new.ledger_account = actions._create_ledger_account(new)
    new.save(force_insert=True)
    for holder in old.holders.all():
        new.holders.create(customer_id=holder.customer_id, role=holder.role, position=holder.position)
    return new


def _settlement_refusal(account):
    """Why a deposit cannot be settled now, in the teller's words, or None."""
    if account.status != DepositStatus.ACTIVE:
        return (f"Deposit {account.number} is {account.get_status_display().lower()}; it is paid once that is "
                "lifted.")
    if account.ledger_account.on_hold:
        return (f"A hold of {format_money(account.ledger_account.on_hold)} stands on deposit {account.number}; "
                "release it, or settle the deposit at the branch.")
    target = account.source_account
    if target is None:
        return f"Deposit {account.number} has no linked account to pay into; pay it out at the branch."
    if target.status in (DepositStatus.CLOSED, DepositStatus.FROZEN, DepositStatus.PENDING):
        return (f"The linked account {target.number} is {target.get_status_display().lower()} and cannot take "
                "the money; pay the deposit out at the branch into another account.")
    return None


def settle_term_deposit(*, actor, account, on, kind, interest_paise, keys, channel=Channel.SYSTEM, narration=""):
    """Credit a locked deposit's interest, deduct TDS, pay it out or renew it by its
    instruction, close it, and return its TermDepositSettlement. `keys(part)` gives
    each entry's idempotency key. Runs inside the caller's transaction."""
    refusal = _settlement_refusal(account)
    if refusal:
        raise ValidationFailed(refusal)
    state = _state(account)
    label = narration or _describe(account)
    released = state.accrued_paise if account.is_fixed else 0
    deposit_gl = account.ledger_account
    lines = []
    if interest_paise:
        lines.append(ledger.Line.credit(deposit_gl, interest_paise))
    if released:
        lines.append(ledger.Line.debit(_gl(INTEREST_PAYABLE), released))
    difference = interest_paise - released
    if difference:
        expense = _gl(INTEREST_ON_TERM_DEPOSITS)
        lines.append(ledger.Line.debit(expense, difference) if difference > 0
                     else ledger.Line.credit(expense, -difference))
    if lines:
        ledger.post_entry(actor=actor, kind=EntryKind.INTEREST, lines=lines, channel=channel,
                          idempotency_key=keys("interest"), reference=account.number,
                          narration=(f"Interest on {label}" if interest_paise
                                     else f"Interest accrued on {account.number} released: none is due")[:200])
    tds = 0
    if interest_paise:
        credit, quote = credit_interest(account=account, on=on, interest_paise=interest_paise)
        tds = credit.tds
        if tds:
            ledger.post_entry(
                actor=actor, kind=EntryKind.FEE, channel=channel, idempotency_key=keys("tds"),
                reference=account.number,
                lines=[ledger.Line.debit(deposit_gl, tds), ledger.Line.credit(_gl(TDS_PAYABLE), tds)],
                narration=f"Tax deducted at source (section 194A) on interest of {account.number}, "
                          f"{financial_year_label(quote.financial_year)}")
    deposit_gl.refresh_from_db()
    total = deposit_gl.balance
    target = account.source_account
    instruction = account.maturity_instruction if kind == SettlementKind.PAID_OUT else MaturityInstruction.PAY_OUT
    renewed, renewal_note = None, ""
    if account.is_fixed and instruction in (MaturityInstruction.RENEW_PRINCIPAL, MaturityInstruction.RENEW_ALL):
        renew = account.principal if instruction == MaturityInstruction.RENEW_PRINCIPAL else total
        try:
            with transaction.atomic():
                renewed = _open_renewal(account, min(renew, total), on)
                # Its first day is today: accrued now, so that a rerun of the step finds
                # nothing left to do and today's interest-payable entry counts it.
                accrue_fixed_deposit(renewed, on)
        except ValidationFailed as error:
            renewal_note = f" Not renewed ({error}); paid out instead."
        else:
            kind = (SettlementKind.RENEWED_PRINCIPAL if instruction == MaturityInstruction.RENEW_PRINCIPAL
                    else SettlementKind.RENEWED_ALL)
    paid_out = total - (renewed.principal if renewed else 0)
    payout = [ledger.Line.debit(deposit_gl, total)] if total else []
    if renewed:
        payout.append(ledger.Line.credit(renewed.ledger_account, renewed.principal))
    if paid_out:
        payout.append(ledger.Line.credit(target.ledger_account, paid_out))
    principal = total - interest_paise + tds
    parts = f"principal {format_money(principal)}"
    parts += f", interest {format_money(interest_paise)}" + (f" less TDS {format_money(tds)}" if tds else "")
    what = "Fixed deposit" if account.is_fixed else "Recurring deposit"
    if renewed:
        words = f"{what} {account.number} renewed as {renewed.number}: {parts}"
    elif kind == SettlementKind.CLOSED_EARLY:
        words = f"{what} {account.number} closed early: {parts}"
    else:
        words = f"{what} {account.number} matured: {parts}"
    if payout:
        ledger.post_entry(actor=actor, kind=EntryKind.TRANSFER, lines=payout, channel=channel,
                          idempotency_key=keys("payout"), reference=account.number, narration=words[:200])
    from .actions import _set_status

    deposit_gl.refresh_from_db()
    _set_status(account, DepositStatus.CLOSED, actor, SettlementKind(kind).label)
    _clear_problem(state)
    settlement = TermDepositSettlement.objects.create(
        account=account, kind=kind, settled_on=on, principal=principal, interest=interest_paise,
        tds=tds, accrual_released=released, paid_out=paid_out, paid_to=target if paid_out else None,
        renewed_into=renewed)
    record_event(action="deposits.term_deposit_settled", obj=account, actor=actor,
                 summary=(words + renewal_note)[:500],
                 after={"kind": kind, "interest": interest_paise, "tds": tds, "paid_out": paid_out,
                        "paid_to": target.number if paid_out else None,
                        "renewed_into": renewed.number if renewed else None, "accrual_released": released})
    _advise(account, settlement, renewal_note)
    return settlement


def _advise(account, settlement, note=""):
    """The maturity advice, by email (queued in the outbox with this transaction)."""
    email = (account.customer.email or "").strip()
    if not email or settlement.kind == SettlementKind.CLOSED_EARLY:
        return
    bank = settings.CBS_BANK_NAME
    what = "fixed deposit" if account.is_fixed else "recurring deposit"
    lines = [f"Dear {account.customer.display_name},", "",
             f"Your {what} {account.masked_number} matured on {account.maturity_date:%d %b %Y}.", "",
             f"Principal: {format_money(settlement.principal)}",
             f"Interest: {format_money(settlement.interest)}"]
    if settlement.tds:
        lines.append(f"Tax deducted at source (section 194A): {format_money(settlement.tds)}")
    if settlement.renewed_into_id:
        new = settlement.renewed_into
        lines += ["", f"Renewed as fixed deposit {new.masked_number}: {format_money(new.principal)} for "
                      f"{new.term_days} days at {new.rate}%, maturing on {new.maturity_date:%d %b %Y} with "
                      f"{format_money(new.maturity_amount)}."]
    if settlement.paid_out:
        lines += ["", f"Paid into account {settlement.paid_to.masked_number}: {format_money(settlement.paid_out)}."]
    if note:
        lines += ["", note.strip()]
    lines += ["", bank]
    send_mail(f"{bank}: your {what} {account.masked_number} has matured", "\n".join(lines), None, [email])


def maturity_outcome(account):
    """What will happen at maturity, in words, for the FD page (None once settled)."""
    if not account.is_fixed or account.is_closed:
        return None
    principal, gross = account.principal, account.maturity_amount
    earned = gross - principal
    target = account.source_account.masked_number if account.source_account_id else "the linked account"
    instruction = account.maturity_instruction or MaturityInstruction.PAY_OUT
    if instruction == MaturityInstruction.RENEW_PRINCIPAL:
        return (f"{format_money(principal)} is renewed for another {account.term_days} days at that day's rate, "
                f"and the interest of {format_money(earned)}, less any TDS, is paid into {target}.")
    if instruction == MaturityInstruction.RENEW_ALL:
        return (f"{format_money(gross)} (principal and interest, less any TDS) is renewed for another "
                f"{account.term_days} days at that day's rate.")
    return f"{format_money(gross)} (principal and interest, less any TDS) is paid into {target}."


@transaction.atomic
def change_maturity_instruction(*, actor, account, instruction):
    """Change what a fixed deposit does at maturity, up to the day before it matures.
    Locks the deposit's row."""
    from .actions import _locked

    try:
        instruction = MaturityInstruction(instruction)
    except ValueError:
        raise ValidationFailed("Choose what happens at maturity: pay out, renew the principal, or renew both.") \
            from None
    account = _locked(account)
    if not account.is_fixed:
        raise ValidationFailed("Only a fixed deposit has a maturity instruction.")
    if account.status != DepositStatus.ACTIVE:
        raise ValidationFailed(f"Fixed deposit {account.number} is {account.get_status_display().lower()}.")
    today = BusinessDate.objects.current()
    if today >= account.maturity_date:
        raise ValidationFailed(f"Fixed deposit {account.number} matured on {account.maturity_date:%d %b %Y}; "
                               "its instruction can no longer change.")
    if account.maturity_instruction == instruction:
        raise ValidationFailed(f"The instruction is already: {instruction.label.lower()}.")
    before = account.maturity_instruction
    account.maturity_instruction = instruction
    account.save(update_fields=["maturity_instruction"])
    record_event(action="deposits.maturity_instruction_changed", obj=account, actor=actor,
                 summary=f"Fixed deposit {account.number} at maturity: {instruction.label.lower()}",
                 before={"instruction": before}, after={"instruction": instruction.value})
    return account


# -- the fixed deposits' step ----------------------------------------------------------


def fixed_deposits_due(on):
    """Fixed deposits end of day still works on: opened, not yet settled."""
    return (DepositAccount.objects.filter(product__kind=ProductKind.FIXED, opened_on__lte=on)
            .exclude(status__in=[DepositStatus.PENDING, DepositStatus.CLOSED]).filter(settlement__isnull=True))


def run_fixed_deposits(*, date, first=None, last=None):
    """Accrue each fixed deposit in [first, last] to the close of `date`, and settle
    those that have matured by their instruction; returns how many deposits."""
    from .actions import _locked

    on = _day(date)
    deposits = fixed_deposits_due(on)
    if first is not None:
        deposits = deposits.filter(pk__gte=first)
    if last is not None:
        deposits = deposits.filter(pk__lte=last)
    count = 0
    for pk in deposits.order_by("pk").values_list("pk", flat=True):
        problem = None
        with transaction.atomic():
            account = _locked(pk)
            if account.status in (DepositStatus.PENDING, DepositStatus.CLOSED):
                continue
            accrue_fixed_deposit(account, on)
            if on >= account.maturity_date and not TermDepositSettlement.objects.filter(account=account).exists():
                account = DepositAccount.objects.select_related("product", "customer", "branch", "ledger_account",
                                                                "source_account__ledger_account").get(pk=pk)
                try:
                    with transaction.atomic():
                        settle_term_deposit(
                            actor=None, account=account, on=on, kind=SettlementKind.PAID_OUT,
                            interest_paise=account.maturity_amount - account.principal,
                            keys=lambda part, pk=pk: posting_key(on, FIXED_DEPOSITS_STEP, f"{pk}:{part}"))
                except BankingError as error:
                    problem = error
        if problem is not None:
            _note_problem(pk, on, problem)
        count += 1
    return count


# -- recurring deposits ---------------------------------------------------------------


def recurring_rule(product):
    rule = RecurringDepositRule.objects.filter(product=product).first()
    if rule is None:
        return DEFAULT_PENALTY_PER_HUNDRED, DEFAULT_MISSED_TO_DEFAULT
    return rule.penalty_per_hundred, rule.missed_to_default


def due_dates(account):
    """Each instalment's number and due date: the opening date's day, month by month."""
    return [(k + 1, interest.add_months(account.opened_on, k)) for k in range(account.months)]


def late_penalty(amount, due_on, paid_on, per_hundred=DEFAULT_PENALTY_PER_HUNDRED):
    """The penalty for paying an instalment of `amount` paise on `paid_on` rather than
    `due_on`: `per_hundred` rupees per ₹100 for each started 30 days (DESIGN §5),
    rounded half-up once. No GST: it is a penalty, not a fee for a service."""
    late = (paid_on - due_on).days
    if late <= 0:
        return 0
    periods = -(-late // PENALTY_DAYS)
    return interest.to_paise(Decimal(amount) * per_hundred / HUNDRED * periods)


def _ensure_instalments(account, on):
    existing = set(account.instalments.values_list("number", flat=True))
    RecurringInstalment.objects.bulk_create([
        RecurringInstalment(account=account, number=number, due_on=due, amount=account.instalment)
        for number, due in due_dates(account) if due <= on and number not in existing
    ])


def collect_instalments(account, on):
    """Debit each unpaid instalment of a locked recurring deposit due by `on`, oldest
    first, with its penalty, until one cannot be paid. Returns how many were paid."""
    per_hundred, _ = recurring_rule(account.product)
    source = account.source_account
    paid = 0
    for instalment in account.instalments.unpaid().filter(due_on__lte=on).order_by("number"):
        penalty = late_penalty(instalment.amount, instalment.due_on, on, per_hundred)
        words = (f"Recurring deposit {account.number}: instalment {instalment.number} of {account.months}, "
                 f"due {instalment.due_on:%d %b %Y}")
        if penalty:
            words += f", paid late with a penalty of {format_money(penalty)}"
        lines = [ledger.Line.debit(source.ledger_account, instalment.amount + penalty),
                 ledger.Line.credit(account.ledger_account, instalment.amount)]
        if penalty:
            lines.append(ledger.Line.credit(_gl(RD_PENALTY_INCOME), penalty))
        try:
            with transaction.atomic():
                entry = ledger.post_entry(
                    actor=None, kind=EntryKind.TRANSFER, lines=lines, channel=Channel.SYSTEM,
                    idempotency_key=posting_key(on, RECURRING_STEP, f"{account.pk}:{instalment.number}"),
                    reference=account.number, narration=words[:200])
        except BankingError as error:
            if not instalment.missed:
                instalment.missed = True
                instalment.save(update_fields=["missed"])
            state = _state(account)
            state.problem, state.problem_on = (f"Instalment {instalment.number} not paid: {error}")[:300], on
            state.save(update_fields=["problem", "problem_on"])
            break
        instalment.paid_on, instalment.penalty, instalment.entry = on, penalty, entry
        instalment.missed = instalment.missed or on > instalment.due_on
        instalment.save(update_fields=["paid_on", "penalty", "entry", "missed"])
        paid += 1
    if paid and not account.instalments.unpaid().filter(due_on__lte=on).exists():
        _clear_problem(_state(account))
    return paid


def _check_default(account, on):
    """Put a recurring deposit in default once its product's number of instalments are
    unpaid at once; email the customer. Returns True when it defaulted now."""
    _, limit = recurring_rule(account.product)
    state = _state(account)
    if state.defaulted_on:
        return False
    unpaid = list(account.instalments.unpaid().filter(due_on__lte=on).order_by("number"))
    if len(unpaid) < limit:
        return False
    state.defaulted_on = on
    state.save(update_fields=["defaulted_on"])
    record_event(action="deposits.recurring_deposit_defaulted", obj=account, actor=None,
                 summary=f"Recurring deposit {account.number} in default: {len(unpaid)} instalments unpaid",
                 after={"unpaid": [i.number for i in unpaid], "defaulted_on": on})
    email = (account.customer.email or "").strip()
    if email:
        bank = settings.CBS_BANK_NAME
        body = "\n".join([
            f"Dear {account.customer.display_name},", "",
            f"{len(unpaid)} monthly instalments of {format_money(account.instalment)} on your recurring deposit "
            f"{account.masked_number} could not be debited from account {account.source_account.masked_number} "
            f"(the first was due on {unpaid[0].due_on:%d %b %Y}).", "",
            "The deposit is now in default: no more instalments will be debited. What you have paid in, with "
            f"interest, will be paid into account {account.source_account.masked_number} on "
            f"{account.maturity_date:%d %b %Y}. Please visit your branch if you would like to discuss it.", "",
            bank])
        send_mail(f"{bank}: your recurring deposit {account.masked_number} is in default", body, None, [email])
    return True


def recurring_interest(account):
    """The interest a recurring deposit pays at maturity: its maturity amount when every
    instalment was paid; otherwise each instalment paid earns quarterly-compounded
    interest from the day it was paid to maturity, rounded once."""
    paid = list(account.instalments.filter(paid_on__isnull=False))
    principal = sum(i.amount for i in paid)
    if len(paid) == account.months:
        return account.maturity_amount - principal
    value = sum((interest.term_deposit_value(i.amount, account.rate, i.paid_on, account.maturity_date)
                 for i in paid), Decimal(0))
    return max(0, interest.to_paise(value) - principal)


def recurring_deposits_due(on):
    return (DepositAccount.objects.filter(product__kind=ProductKind.RECURRING, opened_on__lte=on)
            .exclude(status__in=[DepositStatus.PENDING, DepositStatus.CLOSED]).filter(settlement__isnull=True))


def run_recurring_deposits(*, date, first=None, last=None):
    """Collect the instalments due by `date` of each recurring deposit in [first, last],
    put those with too many unpaid in default, and pay out those that have matured."""
    from .actions import _locked

    on = _day(date)
    deposits = recurring_deposits_due(on)
    if first is not None:
        deposits = deposits.filter(pk__gte=first)
    if last is not None:
        deposits = deposits.filter(pk__lte=last)
    count = 0
    for pk in deposits.order_by("pk").values_list("pk", flat=True):
        problem = None
        with transaction.atomic():
            account = _locked(pk)
            if account.status in (DepositStatus.PENDING, DepositStatus.CLOSED):
                continue
            account = DepositAccount.objects.select_related(
                "product", "customer", "branch", "ledger_account", "source_account__ledger_account").get(pk=pk)
            state = _state(account)
            if on >= account.maturity_date:
                try:
                    with transaction.atomic():
                        settle_term_deposit(
                            actor=None, account=account, on=on, kind=SettlementKind.PAID_OUT,
                            interest_paise=recurring_interest(account),
                            keys=lambda part, pk=pk: posting_key(on, RECURRING_STEP, f"{pk}:{part}"),
                            narration=f"recurring deposit {account.number} at {account.rate}% from "
                                      f"{account.opened_on:%d %b %Y} to {account.maturity_date:%d %b %Y}")
                except BankingError as error:
                    problem = error
            else:
                _ensure_instalments(account, on)
                if not state.defaulted_on:
                    collect_instalments(account, on)
                    _check_default(account, on)
        if problem is not None:
            _note_problem(pk, on, problem)
        count += 1
    return count


def recurring_summary(account):
    """Instalments paid, missed and unpaid, and penalties, for the teller's 360 view."""
    instalments = account.instalments.all()
    totals = instalments.aggregate(penalties=Sum("penalty"))
    state = TermDepositState.objects.filter(account=account).first()
    return {
        "paid": instalments.filter(paid_on__isnull=False).count(),
        "missed": instalments.filter(missed=True).count(),
        "unpaid": list(instalments.unpaid().filter(Q(due_on__lte=BusinessDate.objects.current()))),
        "penalties": totals["penalties"] or 0,
        "defaulted_on": state.defaulted_on if state else None,
        "problem": state.problem if state else "",
    }
