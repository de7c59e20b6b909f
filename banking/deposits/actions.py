"""Deposit account actions: opening, term deposits, freezes, dormancy, closing, holds.

Design overview
- Opening a savings or current account is maker-checker (`deposits.account_opening`).
  `request_account_opening` checks what can be checked at the counter (the customer
  and every joint holder are KYC-verified, the product exists and is sold, the mode
  of operation fits the holders, the nominee is complete), writes the account as
  *pending* with its number, and queues the request. On approval
  (`approval_kinds.py`) `open_approved_account` creates the ledger sub-ledger under
  the product's control GL and activates the account. An initial deposit in cash
  is the teller's: `banking.teller.actions.request_opening_with_cash` counts the
  notes on the opening form and passes `initial_deposit`, and the teller module's
  handler for this kind posts it into the till that counted it once the account
  is open, like any approved cash deposit.
- Fixed deposits are opened at once from the customer's own savings or current
  account: the rate comes from the product's slab for the term, the maturity date
  and amount are computed by `quote_fixed_deposit` (quarterly compounding, see
  interest.py) and shown before the teller confirms; confirming debits the source
  and credits the new FD in one entry. Premature closure pays the slab rate for the
  period actually run less the product's penalty (1% p.a.), shown first by
  `quote_premature_closure`, into the source account; a matured deposit that end of
  day could not pay is paid its maturity amount the same way. Both settle through
  `terms.settle_term_deposit` (interest, TDS and payout, each in words).
- Recurring deposits are opened at once with their instalment, months and the
  maturity amount; the monthly instalment is debited from the source account by end
  of day (terms.py), so opening posts nothing.
- Freeze (debit or total), unfreeze and close are maker-checker kinds, checked by
  the supervisors of the branch that holds the account, wherever the maker sits. Closing
  needs a zero balance and no holds: the maker either names another of the
  customer's accounts to pay the balance into, or the request is refused with the
  amount still held. The handler checks again under the lock. A savings account's
  interest accrued since the last quarter's credit is credited first
  (savings.settle_interest_on_closing) and paid out with the balance, so an account
  with interest due needs somewhere to pay it even when its balance is zero.
- Inoperative (dormant) accounts: `mark_inoperative` sets the ledger account to
  debit_frozen, so every debit — the customer's withdrawals and transfers, and also
  charges, which RBI forbids on inoperative accounts — is refused by the posting
  path, while credits (interest, inward payments) still land. `reactivate_account`
  puts it back to active after the branch has seen the customer.
- Holds and liens go through the ledger's place_hold / release_hold.
- Money is Decimal until posting and rounded once (interest.to_paise, half-up,
  DESIGN §5); postings are integer paise through ledger.post_entry.

Locks: every action that changes an account locks its DepositAccount row first
(SELECT ... FOR UPDATE, that row alone), then lets the ledger lock LedgerAccounts
in id order. Opening locks the customer's row (so that one form sent twice at once
opens one account), then the branch's AccountNumberSeries row to hand out the next
number.
Every action writes a `deposits.*` audit event in its own transaction.

Errors (banking.core.errors): ValidationFailed (bad input, unknown product, term
outside the product's range, closing with a balance), NotPermitted (customer not
KYC-verified, no branch), AccountFrozen / AccountClosed / InsufficientFunds from
the ledger, IdempotencyConflict.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from banking.approvals.actions import submit_request
from banking.approvals.models import ApprovalRequest
from banking.audit.actions import record_event
from banking.core.errors import AccountClosed, IdempotencyConflict, InvalidAmount, NotPermitted, ValidationFailed
from banking.core.identifiers import with_check_digit
from banking.core.money import format_money
from banking.customers.models import Customer
from banking.ledger import actions as ledger
from banking.ledger.models import AccountStatus, AccountType, BusinessDate, Channel, EntryKind, LedgerAccount

from . import interest
from .models import (
    KIND_DIGITS,
    AccountHolder,
    AccountNumberSeries,
    DepositAccount,
    DepositStatus,
    MaturityInstruction,
    ModeOfOperation,
    Product,
    ProductKind,
)

OPENING_KIND = "deposits.account_opening"
FREEZE_KIND = "deposits.freeze"
UNFREEZE_KIND = "deposits.unfreeze"
CLOSURE_KIND = "deposits.closure"

LEDGER_STATUS = {
    DepositStatus.ACTIVE: AccountStatus.ACTIVE,
    DepositStatus.INOPERATIVE: AccountStatus.DEBIT_FROZEN,
    DepositStatus.DEBIT_FROZEN: AccountStatus.DEBIT_FROZEN,
    DepositStatus.FROZEN: AccountStatus.FROZEN,
    DepositStatus.CLOSED: AccountStatus.CLOSED,
}
FREEZES = {"debit": DepositStatus.DEBIT_FROZEN, "total": DepositStatus.FROZEN}


# -- looking things up --------------------------------------------------------------


def find_product(product, *kinds):
    """A Product from a Product or its code; an unknown or withdrawn product is refused."""
    if not isinstance(product, Product):
        code = str(product or "").strip().upper()
        product = Product.objects.active().filter(code=code).first()
        if product is None:
            raise ValidationFailed(f"The bank has no deposit product {code or '(none given)'!r}.")
    if not product.is_active:
        raise ValidationFailed(f"{product.name} is no longer offered.")
    if kinds and product.kind not in kinds:
        raise ValidationFailed(f"{product.name} cannot be opened here.")
    return product


def business_date():
    return BusinessDate.objects.current()


def _require_verified(customer, role="The customer"):
    if not customer.is_kyc_verified:
        raise NotPermitted(
            f"{role} {customer.display_name} ({customer.cif}) is not KYC-verified yet, so no account can be opened."
        )


def _require_branch(actor):
    branch = getattr(actor, "branch", None)
    if branch is None:
        raise NotPermitted("Accounts are opened at a branch; your profile has none.")
    return branch


def _holding_branch(account, actor):
    """The branch whose supervisors check a request about `account`: the branch
    that holds it, wherever the maker sits. The maker must still be a branch's staff."""
    _require_branch(actor)
    return account.branch


def _locked(account):
    """The account, locked. Only its own row: its product, customer and branch are
    read with it, and locking those too would hold up every other account of the
    product and every transaction at the branch until this one commits."""
    return DepositAccount.objects.select_for_update(of=("self",)).select_related("product", "customer", "branch").get(
        pk=account.pk if isinstance(account, DepositAccount) else account
    )


def _audit(action, account, actor, summary, before=None, after=None):
    record_event(action=action, obj=account, actor=actor, summary=summary, before=before, after=after)


def _allocate_number(branch, kind):
    """The next account number for `branch` and `kind`: branch code, two kind digits,
    a six-digit serial and a Verhoeff check digit. Locks the series row."""
    prefix = branch.code + KIND_DIGITS[ProductKind(kind)]
    AccountNumberSeries.objects.get_or_create(prefix=prefix)
    series = AccountNumberSeries.objects.select_for_update().get(prefix=prefix)
    series.last += 1
    series.save(update_fields=["last"])
    return with_check_digit(f"{prefix}{series.last:06d}")


def _create_ledger_account(account, overdraft_limit=0):
    control = LedgerAccount.objects.filter(code=account.product.control_gl_code, is_header=True).first()
    if control is None:
        raise ValidationFailed(
            f"The control account {account.product.control_gl_code} for {account.product.name} is missing "
            "from the chart of accounts."
        )
    return LedgerAccount.objects.create(
        code=f"{control.code}-{account.number}", name=f"{account.product.code} {account.customer.display_name}"[:160],
        type=AccountType.LIABILITY, parent=control, is_subledger=True, branch_code=account.branch.code,
        overdraft_limit=overdraft_limit, enforce_balance=True,
    )


def _existing_by_key(key, **content):
    """The account opened earlier under the same form token, if any."""
    if not key:
        return None
    found = DepositAccount.objects.filter(opening_key=key).first()
    if found is None:
        return None
    for field, value in content.items():
        if getattr(found, field) != value:
            raise IdempotencyConflict("This form was already submitted with different details.")
    return found


# -- opening savings and current accounts ------------------------------------------


@dataclass(frozen=True)
class Nominee:
    name: str
    relationship: str
    date_of_birth: datetime.date | None = None
    guardian_name: str = ""

    def check(self, today):
        if not self.name.strip():
            raise ValidationFailed("Give the nominee's name, or leave the nominee out.")
        if not self.relationship.strip():
            raise ValidationFailed("Give the nominee's relationship to the account holder.")
        if self.date_of_birth and self.date_of_birth > today:
            raise ValidationFailed("The nominee's date of birth cannot be in the future.")
        if self.date_of_birth and _age(self.date_of_birth, today) < 18 and not self.guardian_name.strip():
            raise ValidationFailed("The nominee is a minor: give the name of the guardian who receives for them.")


def _age(born, on):
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


@transaction.atomic
def request_account_opening(*, actor, customer, product, joint_holders=(), mode_of_operation=ModeOfOperation.SELF,
                            nominee=None, initial_deposit=0, overdraft_limit=0, idempotency_key=None):
    """Write a pending savings or current account and queue its opening for a checker.

    `initial_deposit` is cash in paise counted into the teller's till, which only the
    teller's `request_opening_with_cash` passes: it shows on the request, and the
    teller's handler posts it when the checker approves. Locks the customer's row,
    then the branch's number series. Returns the pending DepositAccount, whose
    `opening_request` is the ApprovalRequest.
    """
    branch = _require_branch(actor)
    product = find_product(product, ProductKind.SAVINGS, ProductKind.ZERO_BALANCE, ProductKind.CURRENT)
    today = business_date()
    for amount, what in ((initial_deposit, "initial deposit"), (overdraft_limit, "overdraft limit")):
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
            raise InvalidAmount(f"The {what} must be a whole number of paise, zero or more.")
    if overdraft_limit and not product.overdraft_allowed:
        raise ValidationFailed(f"{product.name} does not allow an overdraft.")
    _require_verified(customer)
    joint = list(joint_holders)
    seen = {customer.pk}
    for holder in joint:
        if holder.pk in seen:
            raise ValidationFailed(f"{holder.display_name} is named twice among the holders.")
        seen.add(holder.pk)
        _require_verified(holder, "Joint holder")
    mode = ModeOfOperation(mode_of_operation)
    if joint and mode == ModeOfOperation.SELF:
        raise ValidationFailed("A joint account is operated 'either or survivor' or 'jointly', not 'self'.")
    if not joint and mode != ModeOfOperation.SELF:
        raise ValidationFailed("An account with one holder is operated by that holder ('self').")
    if nominee is not None:
        nominee.check(today)

    # The same form sent twice at once: the second waits here, then finds the first.
    Customer.objects.select_for_update(no_key=True).filter(pk=customer.pk).first()
    existing = _existing_by_key(idempotency_key, customer_id=customer.pk, product_id=product.pk)
    if existing is not None:
        return existing

    account = DepositAccount.objects.create(
        number=_allocate_number(branch, product.kind), product=product, customer=customer, branch=branch,
        mode_of_operation=mode, status=DepositStatus.PENDING, created_by=actor, opening_key=idempotency_key,
        nominee_name=nominee.name.strip() if nominee else "",
        nominee_relationship=nominee.relationship.strip() if nominee else "",
        nominee_date_of_birth=nominee.date_of_birth if nominee else None,
        nominee_guardian_name=nominee.guardian_name.strip() if nominee else "",
    )
    for position, holder in enumerate(joint, start=2):
        AccountHolder.objects.create(account=account, customer=holder, position=position)
    payload = {"account_id": account.pk, "number": account.number, "initial_deposit": initial_deposit,
               "overdraft_limit": overdraft_limit}
    summary = f"Open {product.name} {account.number} for {customer.display_name}"
    if initial_deposit:
        summary += f" with {format_money(initial_deposit)} cash"
    account.opening_request = submit_request(
        actor=actor, kind=OPENING_KIND, payload=payload, amount=initial_deposit + overdraft_limit, branch=branch,
        summary=summary,
    )
    account.save(update_fields=["opening_request"])
    _audit("deposits.account_requested", account, actor, summary,
           after={"product": product.code, "customer": customer.cif, "holders": [h.cif for h in joint],
                  "mode": mode.value, "initial_deposit": initial_deposit, "request": account.opening_request_id})
    return account


def open_approved_account(approval, checker):
    """Open an approved account: runs inside the approval's transaction, called by
    the handler of the account_opening kind (the teller module's, which then posts
    any initial cash deposit into its till). Locks the DepositAccount."""
    account = DepositAccount.objects.filter(pk=approval.payload.get("account_id")).first()
    if account is None:
        raise ValidationFailed("The account to open no longer exists.")
    account = _locked(account)
    if account.status != DepositStatus.PENDING:
        raise ValidationFailed(f"Account {account.number} is already {account.get_status_display().lower()}.")
    _require_verified(account.customer)
    for holder in account.holders.select_related("customer"):
        _require_verified(holder.customer, "Joint holder")
    today = business_date()
    account.ledger_account = _create_ledger_account(account, int(approval.payload.get("overdraft_limit") or 0))
    account.status = DepositStatus.ACTIVE
    account.opened_on = today
    deposit = int(approval.payload.get("initial_deposit") or 0)
    account.save(update_fields=["ledger_account", "status", "opened_on"])
    _audit("deposits.account_opened", account, checker, f"Opened {account.product.name} {account.number}",
           before={"status": DepositStatus.PENDING}, after={"status": account.status, "initial_deposit": deposit})
    return {"account_id": account.pk, "number": account.number, "entry_id": None}


# -- fixed deposits -----------------------------------------------------------------


@dataclass(frozen=True)
class FixedDepositQuote:
    product: Product
    principal: int
    start: datetime.date
    maturity_date: datetime.date
    term_days: int
    rate: Decimal
    maturity_amount: int

    @property
    def interest(self):
        return self.maturity_amount - self.principal


def quote_fixed_deposit(*, product, principal, months=0, days=0, start=None):
    """The rate, maturity date and maturity amount of a fixed deposit, before it is
    opened. The term is whole months then days from `start` (the business date)."""
    product = find_product(product, ProductKind.FIXED)
    start = start or business_date()
    if isinstance(principal, bool) or not isinstance(principal, int) or principal <= 0:
        raise InvalidAmount("Enter the amount to deposit.")
    if principal < product.min_amount:
        raise ValidationFailed(f"The smallest {product.name} is {format_money(product.min_amount)}.")
    if months < 0 or days < 0:
        raise ValidationFailed("The term cannot be negative.")
    maturity = interest.add_months(start, months) + datetime.timedelta(days=days)
    term_days = (maturity - start).days
    longest = interest.add_months(start, product.max_term_months)
    if term_days < product.min_term_days or maturity > longest:
        raise ValidationFailed(
            f"A {product.name} runs from {product.min_term_days} days to {product.max_term_months // 12} years; "
            f"{term_days} days is outside that range."
        )
    rate = product.rate_for(term_days)
    if rate is None:
        raise ValidationFailed(f"{product.name} has no rate for a term of {term_days} days.")
    amount = interest.maturity_amount(principal, rate, start, maturity)
    return FixedDepositQuote(product, principal, start, maturity, term_days, rate, amount)


def _require_source(source, customer=None):
    if not source.is_operative:
        raise ValidationFailed("Term deposits are funded from a savings or current account.")
    if source.status != DepositStatus.ACTIVE:
        raise ValidationFailed(f"Account {source.number} is {source.get_status_display().lower()}; "
                               "fund the deposit from an active account.")
    if customer is not None and source.customer_id != customer.pk:
        raise NotPermitted("The source account belongs to another customer.")
    _require_verified(source.customer)


@transaction.atomic
def open_fixed_deposit(*, actor, source, principal, months=0, days=0,
                       maturity_instruction=MaturityInstruction.PAY_OUT, idempotency_key,
                       channel=Channel.BRANCH, product="FD"):
    """Open a fixed deposit funded from `source` (the customer's savings or current
    account) and return it. Locks the source's DepositAccount row, the number
    series, then the two ledger accounts (post_entry)."""
    source = _locked(source)
    _require_source(source)
    quote = quote_fixed_deposit(product=product, principal=principal, months=months, days=days)
    instruction = MaturityInstruction(maturity_instruction)
    existing = _existing_by_key(idempotency_key, source_account_id=source.pk, principal=principal)
    if existing is not None:
        return existing
    branch = getattr(actor, "branch", None) or source.branch
    fd = DepositAccount(
        number=_allocate_number(branch, ProductKind.FIXED), product=quote.product, customer=source.customer,
        branch=branch, mode_of_operation=source.mode_of_operation, status=DepositStatus.ACTIVE, created_by=actor,
        opening_key=idempotency_key, source_account=source, principal=principal, rate=quote.rate,
        term_days=quote.term_days, maturity_date=quote.maturity_date, maturity_amount=quote.maturity_amount,
        maturity_instruction=instruction, opened_on=quote.start, last_customer_activity_on=quote.start,
        nominee_name=source.nominee_name, nominee_relationship=source.nominee_relationship,
        nominee_date_of_birth=source.nominee_date_of_birth, nominee_guardian_name=source.nominee_guardian_name,
    )
    fd.ledger_account = _create_ledger_account(fd)
    fd.save(force_insert=True)
    for holder in source.holders.all():
        AccountHolder.objects.create(account=fd, customer_id=holder.customer_id, role=holder.role,
                                     position=holder.position)
    ledger.post_entry(
        actor=actor, kind=EntryKind.TRANSFER, channel=channel, idempotency_key=f"fd-open-{idempotency_key}",
        lines=[ledger.Line.debit(source.ledger_account, principal), ledger.Line.credit(fd.ledger_account, principal)],
        narration=f"Fixed deposit {fd.number} opened for {quote.term_days} days at {quote.rate}%",
        reference=fd.number,
    )
    source.last_customer_activity_on = quote.start
    source.save(update_fields=["last_customer_activity_on"])
    fd.ledger_account.refresh_from_db()
    _audit("deposits.fixed_deposit_opened", fd, actor,
           f"Fixed deposit {fd.number}: {format_money(principal)} for {quote.term_days} days at {quote.rate}%",
           after={"source": source.number, "principal": principal, "rate": str(quote.rate),
                  "maturity_date": quote.maturity_date, "maturity_amount": quote.maturity_amount,
                  "instruction": instruction.value})
    return fd


@dataclass(frozen=True)
class PrematureClosureQuote:
    account: DepositAccount
    closing_on: datetime.date
    days_run: int
    slab_rate: Decimal
    penalty: Decimal
    applied_rate: Decimal
    interest: int
    tds: int = 0
    tds_note: str = ""
    matured: bool = False

    @property
    def payout(self):
        return self.account.principal + self.interest - self.tds


def quote_premature_closure(account, on=None):
    """What closing a fixed deposit now pays, less the TDS its interest would bear
    (terms.quote_tds). Before maturity: interest at the slab rate for the period
    actually run, less the product's penalty, compounded as the deposit would have
    been; a deposit closed before the product's shortest term (7 days) earns nothing.
    On or after maturity (end of day could not pay it, or the customer is at the
    counter first): the maturity amount, in full."""
    from .terms import quote_tds

    if not account.is_fixed:
        raise ValidationFailed("Only fixed deposits are closed early this way.")
    if account.status == DepositStatus.CLOSED:
        raise AccountClosed(f"Fixed deposit {account.number} is already closed.")
    on = on or business_date()
    if account.maturity_date and on >= account.maturity_date:
        earned = account.maturity_amount - account.principal
        tax = quote_tds(customer=account.customer, on=on, interest_paise=earned)
        return PrematureClosureQuote(account, on, account.term_days, account.rate, Decimal("0"), account.rate,
                                     earned, tax.tds, tax.note, matured=True)
    days_run = (on - account.opened_on).days
    product = account.product
    slab = product.rate_for(days_run) if days_run >= product.min_term_days else None
    penalty = product.premature_penalty
    if slab is None:
        return PrematureClosureQuote(account, on, days_run, Decimal("0"), penalty, Decimal("0"), 0)
    applied = max(slab - penalty, Decimal("0"))
    earned = interest.maturity_amount(account.principal, applied, account.opened_on, on) - account.principal
    tax = quote_tds(customer=account.customer, on=on, interest_paise=earned)
    return PrematureClosureQuote(account, on, days_run, slab, penalty, applied, earned, tax.tds, tax.note)


@transaction.atomic
def close_fixed_deposit_early(*, actor, account, idempotency_key, expected_payout=None, channel=Channel.BRANCH):
    """Close a fixed deposit at the branch and pay principal and interest, less TDS,
    into its source account: before maturity at the reduced rate, after it (once
    matured, a deposit can always be paid out) its maturity amount. `expected_payout`
    is the figure the person confirmed: if the business date or the year's TDS moved
    since, the figures differ and nothing is done. The entries are those of every
    settlement (terms.settle_term_deposit). Locks the FD's DepositAccount row, then
    as a settlement does."""
    from .term_models import SettlementKind
    from .terms import settle_term_deposit

    account = _locked(account)
    if account.status != DepositStatus.ACTIVE:
        raise ValidationFailed(f"Fixed deposit {account.number} is {account.get_status_display().lower()}.")
    quote = quote_premature_closure(account)
    if expected_payout is not None and expected_payout != quote.payout:
        raise ValidationFailed("The figures have changed since they were shown (the business date moved). "
                               "Review them again before confirming.")
    account = DepositAccount.objects.select_related(
        "product", "customer", "branch", "ledger_account", "source_account__ledger_account").get(pk=account.pk)
    narration = (f"fixed deposit {account.number}, closed early after {quote.days_run} days at "
                 f"{quote.applied_rate}%" if not quote.matured else "")
    settlement = settle_term_deposit(
        actor=actor, account=account, on=quote.closing_on, interest_paise=quote.interest, channel=channel,
        kind=SettlementKind.PAID_AFTER_MATURITY if quote.matured else SettlementKind.CLOSED_EARLY,
        keys=lambda part: f"fd-close-{idempotency_key}-{part}", narration=narration)
    if settlement.tds != quote.tds:
        raise ValidationFailed("The tax deducted has changed since the figures were shown. Review them again.")
    _audit("deposits.fixed_deposit_closed_early", account, actor,
           f"Fixed deposit {account.number} {'paid out after maturity' if quote.matured else 'closed early'}: "
           f"{format_money(quote.payout)} to {account.source_account.number}",
           after={"days_run": quote.days_run, "slab_rate": str(quote.slab_rate),
                  "applied_rate": str(quote.applied_rate), "interest": quote.interest, "tds": quote.tds,
                  "payout": quote.payout})
    return quote


# -- recurring deposits -------------------------------------------------------------


@dataclass(frozen=True)
class RecurringDepositQuote:
    product: Product
    instalment: int
    months: int
    start: datetime.date
    maturity_date: datetime.date
    rate: Decimal
    maturity_amount: int

    @property
    def total_paid(self):
        return self.instalment * self.months

    @property
    def interest(self):
        return self.maturity_amount - self.total_paid


def quote_recurring_deposit(*, product, instalment, months, start=None):
    product = find_product(product, ProductKind.RECURRING)
    start = start or business_date()
    if isinstance(instalment, bool) or not isinstance(instalment, int) or instalment <= 0:
        raise InvalidAmount("Enter the monthly instalment.")
    if instalment < product.min_amount:
        raise ValidationFailed(f"The smallest instalment is {format_money(product.min_amount)}.")
    if not product.min_term_months <= months <= product.max_term_months:
        raise ValidationFailed(f"A {product.name} runs from {product.min_term_months} to "
                               f"{product.max_term_months} months; {months} months is outside that range.")
    maturity = interest.add_months(start, months)
    rate = product.rate_for((maturity - start).days)
    if rate is None:
        raise ValidationFailed(f"{product.name} has no rate for {months} months.")
    amount = interest.recurring_maturity_amount(instalment, rate, months)
    return RecurringDepositQuote(product, instalment, months, start, maturity, rate, amount)


@transaction.atomic
def open_recurring_deposit(*, actor, source, instalment, months, idempotency_key, product="RD"):
    """Open a recurring deposit whose instalments end of day will debit from
    `source` each month. Posts nothing now. Locks the source row and the series."""
    source = _locked(source)
    _require_source(source)
    quote = quote_recurring_deposit(product=product, instalment=instalment, months=months)
    existing = _existing_by_key(idempotency_key, source_account_id=source.pk, instalment=instalment)
    if existing is not None:
        return existing
    branch = getattr(actor, "branch", None) or source.branch
    rd = DepositAccount(
        number=_allocate_number(branch, ProductKind.RECURRING), product=quote.product, customer=source.customer,
        branch=branch, mode_of_operation=source.mode_of_operation, status=DepositStatus.ACTIVE, created_by=actor,
        opening_key=idempotency_key, source_account=source, instalment=instalment, months=months,
        rate=quote.rate, maturity_date=quote.maturity_date, maturity_amount=quote.maturity_amount,
        maturity_instruction=MaturityInstruction.PAY_OUT, opened_on=quote.start,
        nominee_name=source.nominee_name, nominee_relationship=source.nominee_relationship,
        nominee_date_of_birth=source.nominee_date_of_birth, nominee_guardian_name=source.nominee_guardian_name,
    )
    rd.ledger_account = _create_ledger_account(rd)
    rd.save(force_insert=True)
    _audit("deposits.recurring_deposit_opened", rd, actor,
           f"Recurring deposit {rd.number}: {format_money(instalment)} a month for {months} months",
           after={"source": source.number, "instalment": instalment, "months": months, "rate": str(quote.rate),
                  "maturity_amount": quote.maturity_amount})
    return rd


# -- status: freezes, dormancy, closing ---------------------------------------------


def _set_status(account, status, actor, reason):
    """Move a locked account to `status` and its ledger account with it."""
    before = account.status
    ledger.set_account_status(actor=actor, account=account.ledger_account, status=LEDGER_STATUS[status],
                              reason=reason)
    account.status = status
    fields = ["status"]
    if status == DepositStatus.CLOSED:
        account.closed_on = business_date()
        fields.append("closed_on")
    account.save(update_fields=fields)
    account.ledger_account.refresh_from_db()
    _audit("deposits.account_status", account, actor, f"{account.number}: {account.get_status_display()}",
           before={"status": before}, after={"status": status, "reason": reason})


def _pending(kind, account):
    return ApprovalRequest.objects.pending().filter(kind=kind, payload__account_id=account.pk).first()


def _require_open(account):
    if account.status == DepositStatus.PENDING:
        raise ValidationFailed(f"Account {account.number} is still waiting for its opening to be approved.")
    if account.status == DepositStatus.CLOSED:
        raise AccountClosed(f"Account {account.number} is closed.")


def _require_reason(reason):
    reason = " ".join(str(reason or "").split())
    if not reason:
        raise ValidationFailed("Give the reason; the checker and the audit trail will show it.")
    return reason[:300]


@transaction.atomic
def request_freeze(*, actor, account, freeze, reason):
    """Queue a debit freeze (`freeze="debit"`) or a total freeze for a checker."""
    account = _locked(account)
    _require_open(account)
    if freeze not in FREEZES:
        raise ValidationFailed("Choose a debit freeze or a total freeze.")
    target = FREEZES[freeze]
    if account.status == target:
        raise ValidationFailed(f"Account {account.number} is already {target.label.lower()}.")
    if _pending(FREEZE_KIND, account):
        raise ValidationFailed(f"A freeze of {account.number} is already waiting for approval.")
    reason = _require_reason(reason)
    return submit_request(
        actor=actor, kind=FREEZE_KIND, amount=None, branch=_holding_branch(account, actor),
        payload={"account_id": account.pk, "number": account.number, "freeze": freeze, "reason": reason},
        summary=f"{target.label.replace('frozen', 'freeze').capitalize()} on {account.number}: {reason}",
    )


def freeze_approved_account(approval, checker):
    account = _locked(approval.payload["account_id"])
    _require_open(account)
    target = FREEZES[approval.payload["freeze"]]
    if account.status not in (DepositStatus.DEBIT_FROZEN, DepositStatus.FROZEN):
        account.status_before_freeze = account.status
        account.save(update_fields=["status_before_freeze"])
    _set_status(account, target, checker, approval.payload.get("reason", ""))
    return {"account_id": account.pk, "status": account.status}


@transaction.atomic
def request_unfreeze(*, actor, account, reason):
    account = _locked(account)
    _require_open(account)
    if account.status not in (DepositStatus.DEBIT_FROZEN, DepositStatus.FROZEN):
        raise ValidationFailed(f"Account {account.number} is not frozen.")
    if _pending(UNFREEZE_KIND, account):
        raise ValidationFailed(f"Lifting the freeze on {account.number} is already waiting for approval.")
    reason = _require_reason(reason)
    return submit_request(
        actor=actor, kind=UNFREEZE_KIND, amount=None, branch=_holding_branch(account, actor),
        payload={"account_id": account.pk, "number": account.number, "reason": reason},
        summary=f"Lift the freeze on {account.number}: {reason}",
    )


def unfreeze_approved_account(approval, checker):
    account = _locked(approval.payload["account_id"])
    _require_open(account)
    if account.status not in (DepositStatus.DEBIT_FROZEN, DepositStatus.FROZEN):
        raise ValidationFailed(f"Account {account.number} is no longer frozen.")
    back_to = DepositStatus(account.status_before_freeze or DepositStatus.ACTIVE)
    _set_status(account, back_to, checker, approval.payload.get("reason", ""))
    account.status_before_freeze = ""
    account.save(update_fields=["status_before_freeze"])
    return {"account_id": account.pk, "status": account.status}


@transaction.atomic
def mark_inoperative(*, actor, account, reason="No customer-induced transaction for two years"):
    """Make an active account inoperative (dormant): its ledger account refuses
    debits until `reactivate_account`. Locks the account."""
    account = _locked(account)
    if account.status != DepositStatus.ACTIVE:
        raise ValidationFailed(f"Only an active account becomes inoperative; {account.number} is "
                               f"{account.get_status_display().lower()}.")
    _set_status(account, DepositStatus.INOPERATIVE, actor, _require_reason(reason))
    return account


@transaction.atomic
def reactivate_account(*, actor, account, reason):
    """Bring an inoperative account back into use after the branch has seen the
    customer (RBI: with fresh KYC where due). Locks the account."""
    account = _locked(account)
    if account.status != DepositStatus.INOPERATIVE:
        raise ValidationFailed(f"Account {account.number} is not inoperative.")
    _require_verified(account.customer)
    _set_status(account, DepositStatus.ACTIVE, actor, _require_reason(reason))
    account.last_customer_activity_on = business_date()
    account.save(update_fields=["last_customer_activity_on"])
    return account


def _closure_refusal(account, payout_to):
    """Why `account` cannot be closed as asked, or None. The interest that closing
    credits (savings.settle_interest_on_closing) is paid out with the balance."""
    from .savings import interest_due_on_closing

    ledger_account = account.ledger_account
    if ledger_account.on_hold:
        return (f"Account {account.number} has {format_money(ledger_account.on_hold)} on hold. "
                "Release the holds before closing it.")
    if ledger_account.balance < 0:
        return (f"Account {account.number} is overdrawn by {format_money(-ledger_account.balance)}; "
                "the overdraft must be repaid before closing.")
    _, interest_due = interest_due_on_closing(account.pk)
    if ledger_account.balance and payout_to is None:
        return (f"Account {account.number} still holds {format_money(ledger_account.balance)}"
                + (f", and closing credits it {format_money(interest_due)} of interest" if interest_due else "")
                + ". Pay it out first (choose an account of the customer to transfer it to, or pay it in cash), "
                "then close it.")
    if interest_due and payout_to is None:
        return (f"Closing account {account.number} credits it {format_money(interest_due)} of interest accrued "
                "this quarter. Choose an account of the customer to pay it out to.")
    return None


@transaction.atomic
def request_closure(*, actor, account, reason, payout_to=None):
    """Queue the closing of a savings or current account. The balance must be zero,
    or `payout_to` (another open account of the same customer) takes it."""
    account = _locked(account)
    _require_open(account)
    if account.is_fixed:
        raise ValidationFailed("A fixed deposit is closed through premature closure, which pays out its interest.")
    if payout_to is not None:
        if payout_to.pk == account.pk or payout_to.customer_id != account.customer_id:
            raise ValidationFailed("Pay the balance out to another account of the same customer.")
        if payout_to.status in (DepositStatus.PENDING, DepositStatus.CLOSED, DepositStatus.FROZEN):
            raise ValidationFailed(f"Account {payout_to.number} cannot take credits.")
    refusal = _closure_refusal(account, payout_to)
    if refusal:
        raise ValidationFailed(refusal)
    if _pending(CLOSURE_KIND, account):
        raise ValidationFailed(f"Closing {account.number} is already waiting for approval.")
    reason = _require_reason(reason)
    from .savings import interest_due_on_closing

    balance = account.ledger_account.balance + interest_due_on_closing(account.pk)[1]
    summary = f"Close {account.number}: {reason}"
    if balance:
        summary += f" ({format_money(balance)} with interest to {payout_to.number})"
    return submit_request(
        actor=actor, kind=CLOSURE_KIND, amount=balance, branch=_holding_branch(account, actor), summary=summary,
        payload={"account_id": account.pk, "number": account.number, "reason": reason,
                 "payout_to": payout_to.pk if payout_to else None},
    )


def close_approved_account(approval, checker):
    account = _locked(approval.payload["account_id"])
    _require_open(account)
    account.ledger_account.refresh_from_db()
    payout_to = None
    if approval.payload.get("payout_to"):
        payout_to = DepositAccount.objects.select_related("ledger_account").get(pk=approval.payload["payout_to"])
    refusal = _closure_refusal(account, payout_to)
    if refusal:
        raise ValidationFailed(refusal)
    # The quarter's interest so far first, so that the payout carries it.
    from .savings import settle_interest_on_closing

    if settle_interest_on_closing(account=account, actor=approval.maker, checker=checker,
                                  idempotency_key=f"approval-{approval.pk}-interest"):
        account.ledger_account.refresh_from_db()
    balance = account.ledger_account.balance
    if balance:
        ledger.post_entry(
            actor=approval.maker, checker=checker, kind=EntryKind.TRANSFER, channel=Channel.BRANCH,
            lines=[ledger.Line.debit(account.ledger_account, balance),
                   ledger.Line.credit(payout_to.ledger_account, balance)],
            narration=f"Closing balance of {account.number} to {payout_to.number}",
            idempotency_key=f"approval-{approval.pk}", reference=f"AR{approval.pk}",
        )
        account.ledger_account.refresh_from_db()
    _set_status(account, DepositStatus.CLOSED, checker, approval.payload.get("reason", ""))
    return {"account_id": account.pk, "closed_on": account.closed_on, "paid_out": balance}


# -- holds and liens ----------------------------------------------------------------


@transaction.atomic
def place_account_hold(*, actor, account, amount, reason, expires_at=None):
    """A lien on a deposit account (a court order, a loan's security, a disputed
    credit). Locks the ledger account (ledger.place_hold)."""
    account = _locked(account)
    _require_open(account)
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationFailed("The hold's expiry must be in the future.")
    return ledger.place_hold(actor=actor, account=account.ledger_account, amount=amount, reason=reason,
                             expires_at=expires_at, reference=account.number)


@transaction.atomic
def release_account_hold(*, actor, account, hold, reason):
    """Release one of `account`'s holds. Locks the ledger account, then the hold."""
    if hold.account_id != account.ledger_account_id:
        raise ValidationFailed("That hold is on another account.")
    return ledger.release_hold(actor=actor, hold=hold, reason=_require_reason(reason))
