"""Loan actions: products and rates, application, KFS, sanction, disbursement.

Design overview
- Products change through maker-checker (`loans.product_change`): operations propose
  the full set of terms with the date they take effect (after today's business date,
  never back-dated); a second operations user approves, and the handler writes a new
  `LoanProductVersion`. The benchmark (repo) rate and the day's gold rate are entered
  by operations directly, audited, one per date.
- `quote_loan` reads the product's terms and the rates in force on a date and
  computes, with the pure functions of eligibility.py and schedule.py, what the
  application form shows live and the KFS states: rate, EMI, eligibility in words,
  fee and GST, the schedule, total interest, total payable and the APR.
- `apply_for_loan` (a teller, for a walk-in customer) refuses in words and writes
  nothing when the customer is not KYC-verified, the deposit account is not theirs
  or not active, or any eligibility check fails (amount or tenure outside the
  product, income zero, FOIR or score or LTV past the product's limits). Otherwise it
  stores the application with its KFS figures.
- `acknowledge_kfs`: for a walk-in borrower the teller attests that the KFS was given
  and explained and the borrower accepted it. `request_sanction` is refused without
  it. Sanction authority goes by the amount (`sanction_kind`): up to ₹10,00,000 a
  supervisor, up to ₹1,00,00,000 a branch manager, above that the credit committee;
  each band is its own approval kind whose checker permission only that authority
  holds, so the queue shows a request only to those who may decide it (the credit
  committee's requests are head office's, where the committee sits). The request
  carries no amount for the approval-limit check: a sanction moves no money, and the
  authority is the band's permission.
- On approval `sanction_approved_loan` creates the `Loan` (status sanctioned). On
  rejection the application records the checker's reason and the applicant is
  emailed it. A lapsed request (expired, or refused by the handler) puts the
  application back to acknowledged so the branch may ask again.
- `disburse_loan` pays into the customer's deposit account: Dr the loan's sub-ledger
  (an asset under the product's control GL, created at the first disbursement), Cr
  the deposit account. At the first disbursement the processing fee and its GST are
  collected in a second entry: Dr the deposit account, Cr loan processing fees (4205)
  and GST payable (2602). Home loans may be disbursed in tranches; other products
  disburse the whole sanction at once. Each disbursement writes a new schedule
  version for the principal disbursed so far, with its reason; a later tranche keeps
  the loan's due dates and remaining tenure and carries the interest already run on
  the earlier tranches into the next instalment.

Locks: `disburse_loan` locks the Loan row first, then lets the ledger lock the
ledger accounts in id order. `apply_for_loan` locks the customer's row (a form sent
twice at once makes one application) and the branch's number series.
`acknowledge_kfs` and `request_sanction` lock the application row.

Every action writes a `loans.*` audit event in its own transaction.

Errors (banking.core.errors): ValidationFailed (bad input, ineligible, no rate),
NotPermitted (not KYC-verified, wrong branch, no permission), IdempotencyConflict,
and whatever the ledger raises (InsufficientFunds, AccountFrozen ...).
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from banking.approvals.actions import submit_request
from banking.audit.actions import record_event
from banking.core.errors import IdempotencyConflict, InvalidAmount, NotPermitted, ValidationFailed
from banking.core.identifiers import with_check_digit
from banking.core.money import format_money
from banking.customers.models import Customer
from banking.deposits.interest import add_months
from banking.deposits.models import DepositStatus
from banking.ledger import actions as ledger
from banking.ledger.chart import GST_PAYABLE, LOAN_PROCESSING_FEES
from banking.ledger.models import AccountType, BusinessDate, Channel, EntryKind, LedgerAccount

from . import bureau, eligibility
from . import schedule as schedule_math
from .models import (
    ApplicationStatus,
    BenchmarkRate,
    BureauSource,
    Disbursement,
    GoldRate,
    Instalment,
    Loan,
    LoanApplication,
    LoanProduct,
    LoanProductVersion,
    LoanStatus,
    NumberSeries,
    ProductKind,
    RateType,
    Schedule,
    ScheduleReason,
)

PRODUCT_CHANGE_KIND = "loans.product_change"
# Sanction authority by amount (paise): (up to, approval kind, checker permission, who).
SANCTION_BANDS = [
    (10_00_000_00, "loans.sanction", "loans.sanction_up_to_10_lakh", "a supervisor"),
    (1_00_00_000_00, "loans.sanction_branch_manager", "loans.sanction_up_to_1_crore", "a branch manager"),
    (None, "loans.sanction_credit_committee", "loans.sanction_above_1_crore", "the credit committee"),
]
SANCTION_KINDS = frozenset(band[1] for band in SANCTION_BANDS)
PRODUCT_TERMS = (
    "min_amount", "max_amount", "min_months", "max_months", "rate_type", "rate", "benchmark", "reset_months",
    "processing_fee_percent", "processing_fee_cap", "gst_percent", "penal_charge_percent",
    "prepayment_charge_percent", "schedule_type", "max_foir_percent", "min_bureau_score", "max_ltv_percent",
    "allocation_order",
)
MONEY_TERMS = ("min_amount", "max_amount", "processing_fee_cap")


def business_date():
    return BusinessDate.objects.current()


def sanction_kind(amount):
    """(approval kind, who) that may sanction a loan of `amount` paise."""
    for limit, kind, _permission, who in SANCTION_BANDS:
        if limit is None or amount <= limit:
            return kind, who
    raise AssertionError("the last band has no limit")


def _require_branch(actor):
    branch = getattr(actor, "branch", None)
    if branch is None:
        raise NotPermitted("Loans are taken at a branch; your profile has none.")
    return branch


def _require_permission(actor, permission, words):
    if actor is None or not actor.has_perm(permission):
        raise NotPermitted(words)


def _next_number(letters, branch):
    """LA or LN, then the branch code, a seven-digit serial and a Verhoeff check digit."""
    return _next_numbers(letters, branch, 1)[0]


def _next_numbers(letters, branch, count):
    """The branch's next `count` numbers of the series (`_next_number`), taken under
    one lock of the series row: end of day numbers a partition's receipts at once."""
    prefix = f"{letters}{branch.code}"
    NumberSeries.objects.get_or_create(prefix=prefix)
    series = NumberSeries.objects.select_for_update().get(prefix=prefix)
    first = series.last + 1
    series.last += count
    series.save(update_fields=["last"])
    return [letters + with_check_digit(f"{branch.code}{serial:07d}") for serial in range(first, series.last + 1)]


def _decimal(value, what):
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationFailed(f"The {what} must be a number.") from None
    if not number.is_finite():
        raise ValidationFailed(f"The {what} must be a number.")
    return number


def _paise(value, what, *, minimum=0):
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidAmount(f"The {what} must be a whole number of paise.")
    if value < minimum:
        raise InvalidAmount(f"The {what} cannot be below {format_money(minimum)}.")
    return value


def find_product(product):
    if isinstance(product, LoanProduct):
        found = product
    else:
        code = str(product or "").strip().upper()
        found = LoanProduct.objects.filter(code=code).first()
        if found is None:
            raise ValidationFailed(f"The bank has no loan product {code or '(none given)'!r}.")
    if not found.is_active:
        raise ValidationFailed(f"{found.name} is no longer offered.")
    return found


def terms_on(product, on):
    terms = product.version_on(on)
    if terms is None:
        raise ValidationFailed(f"{product.name} has no terms in force on {on:%d %b %Y}.")
    return terms


def benchmark_on(benchmark, on):
    return BenchmarkRate.objects.filter(benchmark=benchmark, effective_from__lte=on).order_by("-effective_from").first()


def rate_for(terms, on):
    """The rate (% p.a.) a new loan under `terms` is priced at on `on`."""
    if terms.rate_type == RateType.FIXED:
        return terms.rate
    benchmark = benchmark_on(terms.benchmark, on)
    if benchmark is None:
        raise ValidationFailed(f"No {terms.get_benchmark_display()} has been entered yet, so {terms.product.name} "
                               "cannot be priced. Operations enter it under benchmark rates.")
    return benchmark.rate + terms.rate


def gold_rate_on(on):
    rate = GoldRate.objects.filter(on=on).first()
    if rate is None:
        raise ValidationFailed(f"Operations have not entered the gold rate for {on:%d %b %Y} yet.")
    return rate


# -- rates and products ----------------------------------------------------------


@transaction.atomic
def enter_benchmark_rate(*, actor, benchmark, effective_from, rate):
    """Record the benchmark's rate from a date (today or later). One per date."""
    _require_permission(actor, "loans.manage_loan_products", "Only operations enter benchmark rates.")
    rate = _decimal(rate, "rate")
    if not Decimal(0) <= rate < 100:
        raise ValidationFailed("A benchmark rate runs from 0% to below 100%.")
    if effective_from < business_date():
        raise ValidationFailed("A benchmark rate takes effect today or later, never in the past.")
    if BenchmarkRate.objects.filter(benchmark=benchmark, effective_from=effective_from).exists():
        raise ValidationFailed(f"A rate from {effective_from:%d %b %Y} is already entered.")
    entry = BenchmarkRate.objects.create(benchmark=benchmark, effective_from=effective_from,
                                         rate=rate.quantize(Decimal("0.01")), entered_by=actor)
    record_event(action="loans.benchmark_entered", obj=entry, actor=actor, summary=str(entry),
                 after={"benchmark": benchmark, "effective_from": effective_from, "rate": entry.rate})
    return entry


@transaction.atomic
def enter_gold_rate(*, actor, on, rate_per_gram):
    """Record the day's rate per gram of 24-carat gold, in paise. Once per day."""
    _require_permission(actor, "loans.manage_loan_products", "Only operations enter the gold rate.")
    _paise(rate_per_gram, "gold rate per gram", minimum=1)
    if GoldRate.objects.filter(on=on).exists():
        raise ValidationFailed(f"The gold rate for {on:%d %b %Y} is already entered.")
    entry = GoldRate.objects.create(on=on, rate_per_gram=rate_per_gram, entered_by=actor)
    from .security import value_gold_loans

    valued = value_gold_loans(actor=actor, rate=entry)
    record_event(action="loans.gold_rate_entered", obj=entry, actor=actor, summary=str(entry),
                 after={"on": on, "rate_per_gram": rate_per_gram, "gold_loans_valued": valued})
    return entry


def _clean_terms(product, effective_from, terms):
    unknown = set(terms) - set(PRODUCT_TERMS)
    if unknown:
        raise ValidationFailed(f"Unknown product terms: {', '.join(sorted(unknown))}.")
    version = LoanProductVersion(product=product, effective_from=effective_from, **terms)
    try:
        version.full_clean(exclude=["created_by", "approved_by"])
    except ValidationError as error:
        raise ValidationFailed(" ".join(error.messages)) from None
    return version


@transaction.atomic
def request_product_change(*, actor, product, effective_from, terms, idempotency_key=""):
    """Queue a new version of `product`'s terms from `effective_from` for a second
    operations user. `terms` names every parameter (PRODUCT_TERMS)."""
    _require_permission(actor, "loans.manage_loan_products", "Only operations change loan products.")
    product = find_product(product)
    if effective_from <= business_date():
        raise ValidationFailed("A product change takes effect from a later date than today, never back-dated.")
    missing = set(PRODUCT_TERMS) - set(terms) - {"allocation_order"}
    if missing:
        raise ValidationFailed(f"Give every term of the product; missing: {', '.join(sorted(missing))}.")
    version = _clean_terms(product, effective_from, terms)
    payload = {"product": product.code, "effective_from": effective_from,
               "terms": {name: getattr(version, name) for name in PRODUCT_TERMS}}
    approval = submit_request(actor=actor, kind=PRODUCT_CHANGE_KIND, payload=payload, amount=None, branch=None,
                              summary=f"Change {product.name} from {effective_from:%d %b %Y}",
                              idempotency_key=idempotency_key)
    record_event(action="loans.product_change_requested", obj=product, actor=actor,
                 summary=f"Proposed new terms for {product.name} from {effective_from:%d %b %Y}",
                 after=payload | {"request": approval.pk})
    return approval


def create_approved_product_version(approval, checker):
    """Handler of `loans.product_change`: writes the approved version."""
    payload = approval.payload
    product = find_product(payload.get("product"))
    effective_from = datetime.date.fromisoformat(payload["effective_from"])
    if effective_from <= business_date():
        raise ValidationFailed("The change was to take effect on or before today; propose it again with a later date.")
    terms = dict(payload["terms"])
    for name in ("rate", "processing_fee_percent", "gst_percent", "penal_charge_percent",
                 "prepayment_charge_percent", "max_foir_percent", "max_ltv_percent"):
        if terms.get(name) is not None:
            terms[name] = Decimal(str(terms[name]))
    version = _clean_terms(product, effective_from, terms)
    version.created_by = approval.maker
    version.approved_by = checker
    version.save()
    record_event(action="loans.product_changed", obj=product, actor=checker,
                 summary=f"New terms for {product.name} from {effective_from:%d %b %Y}",
                 after={"version": version.pk, **payload})
    return {"version_id": version.pk}


# -- quoting ---------------------------------------------------------------------


@dataclass
class Quote:
    """What the form shows and the KFS states, for one set of inputs."""

    product: LoanProduct
    terms: LoanProductVersion
    rate: Decimal
    amount: int
    months: int
    assessment: eligibility.Assessment
    processing_fee: int = 0
    gst_on_fee: int = 0
    rows: list | None = None
    total_interest: int = 0
    total_payable: int = 0
    apr: Decimal | None = None
    disbursed_on: datetime.date | None = None
    gold_value: int | None = None
    gold_rate_per_gram: int | None = None

    @property
    def eligible(self):
        return self.assessment.eligible

    @property
    def net_disbursed(self):
        return self.amount - self.processing_fee - self.gst_on_fee


def quote_loan(*, product, amount, months, monthly_income, existing_emis=0, bureau_score, gold_grams=None,
               gold_carat=None, on=None):
    """Price and assess a loan on `on` (the business date by default). Writes nothing.
    The schedule and KFS figures are filled only for an eligible loan."""
    on = on or business_date()
    product = find_product(product)
    for value, what in ((amount, "amount"), (monthly_income, "net monthly income"), (existing_emis, "existing EMIs")):
        _paise(value, what)
    if isinstance(months, bool) or not isinstance(months, int) or months < 1:
        raise ValidationFailed("The tenure must be a whole number of months, at least one.")
    if isinstance(bureau_score, bool) or not isinstance(bureau_score, int):
        raise ValidationFailed("The bureau score must be a whole number.")
    terms = terms_on(product, on)
    rate = rate_for(terms, on)
    collateral = gold_rate = None
    if product.kind == ProductKind.GOLD and gold_grams is not None and gold_carat is not None:
        grams = _decimal(gold_grams, "weight of the gold")
        if grams <= 0 or grams > 100_000:
            raise ValidationFailed("The gold's weight must be above zero grams (and a real weight).")
        if isinstance(gold_carat, bool) or not isinstance(gold_carat, int) or not 1 <= gold_carat <= 24:
            raise ValidationFailed("The gold's purity runs from 1 to 24 carat.")
        gold_rate = gold_rate_on(on).rate_per_gram
        collateral = eligibility.gold_value(grams, gold_carat, gold_rate)
    assessment = eligibility.assess(terms=terms, rate=rate, amount=amount, months=months,
                                    monthly_income=monthly_income, existing_emis=existing_emis,
                                    bureau_score=bureau_score, collateral_value=collateral)
    quote = Quote(product=product, terms=terms, rate=rate, amount=amount, months=months, assessment=assessment,
                  disbursed_on=on, gold_value=collateral, gold_rate_per_gram=gold_rate)
    if assessment.eligible:
        quote.processing_fee, quote.gst_on_fee = eligibility.processing_fee(amount, terms)
        quote.rows = schedule_math.build_schedule(principal=amount, annual_rate=rate, months=months,
                                                  schedule_type=terms.schedule_type, disbursed_on=on)
        _principal, quote.total_interest, quote.total_payable = schedule_math.totals(quote.rows)
        quote.apr = schedule_math.annual_percentage_rate(net_disbursed=quote.net_disbursed, rows=quote.rows,
                                                         disbursed_on=on)
    return quote


# -- application, KFS and sanction -------------------------------------------------


def _require_verified(customer):
    if not customer.is_kyc_verified:
        raise NotPermitted(f"{customer.display_name} ({customer.cif}) is not KYC-verified, so cannot borrow yet.")


def _require_deposit_account(account, customer):
    if account is None or account.customer_id != customer.pk:
        raise ValidationFailed("Choose one of the customer's own savings or current accounts to pay the loan into.")
    if not account.is_operative or account.status != DepositStatus.ACTIVE or not account.ledger_account_id:
        raise ValidationFailed(f"Account {account.number} is {account.get_status_display().lower()}: the loan "
                               "must be paid into an active savings or current account.")


@transaction.atomic
def apply_for_loan(*, actor, customer, product, deposit_account, amount, months, purpose, monthly_income,
                   existing_emis=0, bureau_score=None, gold_grams=None, gold_carat=None, idempotency_key=None):
    """Take a walk-in customer's application at the teller's branch and issue its KFS.

    `bureau_score` None asks the bundled bureau simulator. Refuses in words and
    writes nothing when the customer or the loan does not qualify."""
    branch = _require_branch(actor)
    _require_permission(actor, "users.access_teller_portal", "Only branch staff take loan applications.")
    return take_application(actor=actor, branch=branch, customer=customer, product=product,
                            deposit_account=deposit_account, amount=amount, months=months, purpose=purpose,
                            monthly_income=monthly_income, existing_emis=existing_emis, bureau_score=bureau_score,
                            gold_grams=gold_grams, gold_carat=gold_carat, idempotency_key=idempotency_key)


@transaction.atomic
def take_application(*, actor, branch, customer, product, deposit_account, amount, months, purpose, monthly_income,
                     existing_emis=0, bureau_score=None, gold_grams=None, gold_carat=None, idempotency_key=None):
    """The rules every application keeps, whoever takes it (a teller at `branch`, or
    the customer online for their home branch: banking.loans.online). The caller has
    checked who the actor is and that they may apply here."""
    product = find_product(product)
    _require_verified(customer)
    _require_deposit_account(deposit_account, customer)
    purpose = " ".join(str(purpose or "").split())
    if not purpose:
        raise ValidationFailed("Say what the loan is for.")
    if product.kind == ProductKind.GOLD and (gold_grams is None or gold_carat is None):
        raise ValidationFailed("A gold loan needs the gold pledged: its weight in grams and its purity in carats.")
    source = BureauSource.ENTERED
    if bureau_score is None:
        bureau_score, source = bureau.score_for(customer), BureauSource.SIMULATOR
    quote = quote_loan(product=product, amount=amount, months=months, monthly_income=monthly_income,
                       existing_emis=existing_emis, bureau_score=bureau_score, gold_grams=gold_grams,
                       gold_carat=gold_carat)
    if not quote.eligible:
        raise ValidationFailed(quote.assessment.refusal)

    Customer.objects.select_for_update(no_key=True).filter(pk=customer.pk).first()
    if idempotency_key:
        existing = LoanApplication.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            if (existing.customer_id, existing.product_id, existing.amount, existing.months) != (
                    customer.pk, product.pk, amount, months):
                raise IdempotencyConflict("This form was already submitted with different details.")
            return existing
    application = LoanApplication.objects.create(
        number=_next_number("LA", branch), customer=customer, product=product, product_version=quote.terms,
        branch=branch, deposit_account=deposit_account, amount=amount, months=months, purpose=purpose[:200],
        monthly_income=monthly_income, existing_emis=existing_emis, bureau_score=bureau_score,
        bureau_source=source, gold_grams=Decimal(str(gold_grams)) if gold_grams is not None else None,
        gold_carat=gold_carat, gold_rate_per_gram=quote.gold_rate_per_gram, gold_value=quote.gold_value,
        rate=quote.rate, emi=quote.assessment.emi, processing_fee=quote.processing_fee,
        gst_on_fee=quote.gst_on_fee, apr=quote.apr, total_interest=quote.total_interest,
        total_payable=quote.total_payable, foir_percent=quote.assessment.foir_percent,
        assumed_disbursal_on=quote.disbursed_on, created_by=actor, idempotency_key=idempotency_key or None,
    )
    record_event(action="loans.application_taken", obj=application, actor=actor,
                 summary=f"Application {application.number}: {product.name} of {format_money(amount)} for "
                         f"{customer.display_name}",
                 after={"amount": amount, "months": months, "rate": quote.rate, "emi": application.emi,
                        "apr": quote.apr, "bureau_score": bureau_score, "bureau_source": source})
    return application


def kfs_schedule(application):
    """The schedule the application's KFS states (its stored figures came from it)."""
    return schedule_math.build_schedule(principal=application.amount, annual_rate=application.rate,
                                        months=application.months,
                                        schedule_type=application.product_version.schedule_type,
                                        disbursed_on=application.assumed_disbursal_on)


def _locked_application(application):
    return LoanApplication.objects.select_for_update(of=("self",)).select_related(
        "customer", "product", "product_version", "branch").get(pk=application.pk)


def _require_same_branch(actor, application):
    if _require_branch(actor).pk != application.branch_id:
        raise NotPermitted(f"Application {application.number} belongs to another branch.")


@transaction.atomic
def acknowledge_kfs(*, actor, application, statement):
    """The teller's attestation that the walk-in borrower was given the KFS, had it
    explained, and accepted it (`statement`, in the teller's words)."""
    application = _locked_application(application)
    _require_same_branch(actor, application)
    statement = " ".join(str(statement or "").split())
    if not statement:
        raise ValidationFailed("Attest how the borrower acknowledged the Key Facts Statement.")
    if application.status != ApplicationStatus.APPLIED:
        raise ValidationFailed(f"Application {application.number} is {application.get_status_display().lower()}; "
                               "its KFS was acknowledged already.")
    application.status = ApplicationStatus.ACKNOWLEDGED
    application.acknowledged_at = timezone.now()
    application.acknowledged_by = actor
    application.acknowledgement = statement[:200]
    application.save(update_fields=["status", "acknowledged_at", "acknowledged_by", "acknowledgement"])
    record_event(action="loans.kfs_acknowledged", obj=application, actor=actor,
                 summary=f"KFS of {application.number} acknowledged: {statement}"[:300],
                 before={"status": ApplicationStatus.APPLIED}, after={"status": application.status})
    return application


@transaction.atomic
def request_sanction(*, actor, application, idempotency_key=""):
    """Queue the application for the authority its amount needs. Refused until the
    borrower has acknowledged the KFS."""
    application = _locked_application(application)
    _require_same_branch(actor, application)
    return send_for_sanction(actor=actor, application=application, idempotency_key=idempotency_key)


def send_for_sanction(*, actor, application, idempotency_key=""):
    """The queueing itself, for a caller inside a transaction holding the
    application's row lock (`request_sanction`, or the customer's online
    acknowledgement in banking.loans.online, which sends it at once)."""
    if application.status == ApplicationStatus.APPLIED:
        raise ValidationFailed("The borrower has not acknowledged the Key Facts Statement yet; sanction needs it.")
    if application.status != ApplicationStatus.ACKNOWLEDGED:
        raise ValidationFailed(f"Application {application.number} is {application.get_status_display().lower()}.")
    kind, who = sanction_kind(application.amount)
    # The credit committee sits at head office: its requests are head office's.
    branch = None if kind == SANCTION_BANDS[-1][1] else application.branch
    approval = submit_request(
        actor=actor, kind=kind, payload={"application_id": application.pk, "number": application.number},
        amount=None, branch=branch, idempotency_key=idempotency_key,
        summary=f"Sanction {application.product.name} of {format_money(application.amount)} for "
                f"{application.customer.display_name} ({application.number})",
    )
    application.status = ApplicationStatus.PENDING_SANCTION
    application.sanction_request = approval
    application.save(update_fields=["status", "sanction_request"])
    record_event(action="loans.sanction_requested", obj=application, actor=actor,
                 summary=f"Sanction of {application.number} asked of {who}",
                 before={"status": ApplicationStatus.ACKNOWLEDGED},
                 after={"status": application.status, "request": approval.pk, "kind": kind})
    return approval


def _application_of(approval):
    application = LoanApplication.objects.filter(pk=approval.payload.get("application_id")).first()
    if application is None:
        raise ValidationFailed("The application no longer exists.")
    return _locked_application(application)


def sanction_approved_loan(approval, checker):
    """Handler of the sanction kinds: the application becomes a sanctioned Loan."""
    application = _application_of(approval)
    if application.status != ApplicationStatus.PENDING_SANCTION or application.sanction_request_id != approval.pk:
        raise ValidationFailed(f"Application {application.number} is not waiting for this sanction.")
    if not application.is_acknowledged:
        raise ValidationFailed("The borrower has not acknowledged the Key Facts Statement; it cannot be sanctioned.")
    today = business_date()
    terms = application.product_version
    loan = Loan.objects.create(
        number=_next_number("LN", application.branch), application=application,
        customer=application.customer, product=application.product, product_version=terms,
        branch=application.branch, deposit_account=application.deposit_account,
        sanctioned_amount=application.amount, months=application.months, schedule_type=terms.schedule_type,
        rate_type=terms.rate_type, rate=application.rate, spread=terms.rate if terms.is_floating else None,
        sanctioned_on=today, sanctioned_by=checker,
    )
    application.status = ApplicationStatus.SANCTIONED
    application.save(update_fields=["status"])
    record_event(action="loans.sanctioned", obj=loan, actor=checker,
                 summary=f"Sanctioned {loan.number}: {loan.product.name} of {format_money(loan.sanctioned_amount)} "
                         f"for {loan.customer.display_name}",
                 after={"application": application.number, "amount": loan.sanctioned_amount, "rate": loan.rate,
                        "months": loan.months})
    return {"loan_id": loan.pk, "number": loan.number}


def reject_sanction(approval, checker):
    """on_reject of the sanction kinds: the reason is kept and reaches the applicant."""
    application = _application_of(approval)
    if application.status != ApplicationStatus.PENDING_SANCTION:
        return
    application.status = ApplicationStatus.REJECTED
    application.rejection_reason = approval.decision_reason
    application.save(update_fields=["status", "rejection_reason"])
    record_event(action="loans.rejected", obj=application, actor=checker,
                 summary=f"Application {application.number} rejected: {approval.decision_reason}"[:300],
                 after={"status": application.status, "reason": approval.decision_reason})
    if application.customer.email:
        bank = settings.CBS_BANK_NAME
        send_mail(
            f"{bank}: your loan application {application.number}",
            f"Dear {application.customer.display_name},\n\nWe are sorry: your application {application.number} "
            f"for a {application.product.name.lower()} of {format_money(application.amount)} was not sanctioned.\n"
            f"The reason: {approval.decision_reason}\n\nYou are welcome to speak to us at "
            f"{application.branch.name} about it.\n",
            None, [application.customer.email],
        )


def lapse_sanction(approval, checker):
    """on_lapse of the sanction kinds: the application may be sent for sanction again."""
    application = _application_of(approval)
    if application.status == ApplicationStatus.PENDING_SANCTION and application.sanction_request_id == approval.pk:
        application.status = ApplicationStatus.ACKNOWLEDGED
        application.save(update_fields=["status"])
        record_event(action="loans.sanction_lapsed", obj=application, actor=checker,
                     summary=f"Sanction request for {application.number} ended undecided; it may be sent again",
                     after={"status": application.status, "reason": approval.decision_reason})


# -- disbursement ---------------------------------------------------------------------


def _create_ledger_account(loan):
    control = LedgerAccount.objects.filter(code=loan.product.control_gl_code, is_header=True).first()
    if control is None:
        raise ValidationFailed(f"The control account {loan.product.control_gl_code} for {loan.product.name} is "
                               "missing from the chart of accounts.")
    return LedgerAccount.objects.create(
        code=f"{control.code}-{loan.number}", name=f"{loan.product.code} {loan.customer.display_name}"[:160],
        type=AccountType.ASSET, parent=control, is_subledger=True, branch_code=loan.branch.code,
        enforce_balance=True,
    )


def _gl(code):
    account = LedgerAccount.objects.filter(code=code).first()
    if account is None:
        raise ValidationFailed(f"The ledger account {code} is missing from the chart of accounts.")
    return account


def _write_schedule(loan, *, reason, on, actor):
    """A new current schedule for the principal disbursed so far, from `on`.

    A later tranche keeps the instalments already due (with what was paid of them,
    servicing's `_write_version`) and draws the rest for the principal outstanding
    not yet due, so the schedule's unpaid principal stays the loan sub-ledger's."""
    previous = loan.schedules.filter(is_current=True).first()
    if previous is not None:
        from .servicing import _interest_to_date, _write_version

        if loan.schedule_type == schedule_math.BULLET:
            raise ValidationFailed("A bullet loan is paid out once.")
        rows = list(previous.instalments.order_by("number"))
        ahead = [row for row in rows if row.due_date > on]
        if not ahead:
            raise ValidationFailed("Every instalment of this loan has fallen due; no further tranche can be paid.")
        loan.ledger_account.refresh_from_db()
        overdue = sum(row.principal - row.principal_paid for row in rows if row.due_date <= on)
        new_rows = schedule_math.build_schedule(
            principal=loan.ledger_account.balance - overdue, annual_rate=loan.rate, months=len(ahead),
            schedule_type=loan.schedule_type, disbursed_on=on, first_due=ahead[0].due_date,
            carried_interest=_interest_to_date(previous, rows, on))
        return _write_version(loan, previous, rows, on=on, reason=reason, actor=actor, new_rows=new_rows,
                              rate=loan.rate)
    first_due, months, carried = None, loan.months, 0
    rows = schedule_math.build_schedule(principal=loan.disbursed_amount, annual_rate=loan.rate, months=months,
                                        schedule_type=loan.schedule_type, disbursed_on=on, first_due=first_due,
                                        carried_interest=carried)
    schedule = Schedule.objects.create(loan=loan, version=1, reason=reason, principal=loan.disbursed_amount,
                                       rate=loan.rate, schedule_type=loan.schedule_type, starts_on=on,
                                       created_by=actor)
    Instalment.objects.bulk_create(
        Instalment(schedule=schedule, number=row.number, due_date=row.due_date, opening=row.opening,
                   principal=row.principal, interest=row.interest)
        for row in rows
    )
    return schedule


@transaction.atomic
def disburse_loan(*, actor, loan, amount, idempotency_key, channel=Channel.BRANCH):
    """Pay `amount` paise of a sanctioned loan into its deposit account.

    Locks the Loan row, then the ledger accounts (in the ledger). The first
    disbursement also collects the processing fee and GST from the account."""
    if not idempotency_key:
        raise ValidationFailed("A disbursement needs its form's key.")
    earlier = Disbursement.objects.filter(idempotency_key=idempotency_key).first()
    if earlier is not None:
        if earlier.loan_id != loan.pk or earlier.amount != amount:
            raise IdempotencyConflict("This form was already submitted with different details.")
        return earlier
    loan = Loan.objects.select_for_update(of=("self",)).select_related(
        "product", "customer", "branch", "deposit_account__ledger_account", "application").get(pk=loan.pk)
    if _require_branch(actor).pk != loan.branch_id:
        raise NotPermitted(f"Loan {loan.number} is disbursed by its own branch.")
    _require_permission(actor, "users.access_teller_portal", "Only branch staff disburse loans.")
    _paise(amount, "amount to disburse", minimum=1)
    if loan.status == LoanStatus.CLOSED:
        raise ValidationFailed(f"Loan {loan.number} is closed.")
    if amount > loan.undisbursed:
        raise ValidationFailed(f"Only {format_money(loan.undisbursed)} of the sanction is left to disburse; "
                               f"{format_money(amount)} is more than that.")
    if loan.product.kind != ProductKind.HOME and amount != loan.undisbursed:
        raise ValidationFailed(f"A {loan.product.name.lower()} is paid out whole: "
                               f"{format_money(loan.undisbursed)}.")
    account = loan.deposit_account
    _require_deposit_account(account, loan.customer)
    today = business_date()
    first = loan.ledger_account_id is None
    if first:
        loan.ledger_account = _create_ledger_account(loan)
        loan.first_disbursed_on = today
        loan.status = LoanStatus.ACTIVE
    tranche = loan.disbursements.count() + 1
    entry = ledger.post_entry(
        actor=actor, kind=EntryKind.TRANSFER, channel=channel, reference=loan.number,
        narration=f"Loan {loan.number} disbursement{f', tranche {tranche}' if tranche > 1 else ''}",
        idempotency_key=f"{idempotency_key}:disburse",
        lines=[ledger.Line.debit(loan.ledger_account, amount), ledger.Line.credit(account.ledger_account, amount)],
    )
    fee = gst = 0
    fee_entry = None
    if not loan.fees_collected:
        fee, gst = loan.application.processing_fee, loan.application.gst_on_fee
        if fee:
            lines = [ledger.Line.debit(account.ledger_account, fee + gst),
                     ledger.Line.credit(_gl(LOAN_PROCESSING_FEES), fee)]
            if gst:
                lines.append(ledger.Line.credit(_gl(GST_PAYABLE), gst))
            fee_entry = ledger.post_entry(
                actor=actor, kind=EntryKind.FEE, channel=channel, reference=loan.number, lines=lines,
                narration=f"Loan {loan.number} processing fee {format_money(fee)} and GST {format_money(gst)}",
                idempotency_key=f"{idempotency_key}:fee",
            )
        loan.fees_collected = True
    loan.disbursed_amount += amount
    if first and loan.rate_type == RateType.FLOATING:
        loan.next_reset_on = add_months(today, loan.product_version.reset_months)
    loan.save(update_fields=["ledger_account", "first_disbursed_on", "status", "disbursed_amount", "fees_collected",
                             "next_reset_on"])
    disbursement = Disbursement.objects.create(
        loan=loan, tranche=tranche, amount=amount, processing_fee=fee, gst_on_fee=gst, on=today, entry_id=entry.pk,
        fee_entry_id=fee_entry.pk if fee_entry else None, made_by=actor, idempotency_key=idempotency_key,
    )
    _write_schedule(loan, reason=ScheduleReason.DISBURSEMENT if first else ScheduleReason.TRANCHE, on=today,
                    actor=actor)
    record_event(action="loans.disbursed", obj=loan, actor=actor,
                 summary=f"Disbursed {format_money(amount)} of {loan.number} into {account.number}",
                 after={"tranche": tranche, "amount": amount, "fee": fee, "gst": gst, "entry": entry.pk,
                        "fee_entry": fee_entry.pk if fee_entry else None, "disbursed": loan.disbursed_amount})
    return disbursement
