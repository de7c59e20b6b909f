"""Loan products, applications, loans, their schedules and their classification.

Design overview
- A `LoanProduct` is what the bank lends (personal, home, vehicle, gold): its code,
  kind, whether it is secured, and the ledger header its loans' sub-ledgers sit
  under. Its parameters live in `LoanProductVersion` rows, each with the date it
  takes effect: operations change a product by queuing a new version through
  maker-checker (`loans.product_change`); `LoanProduct.version_on(date)` is the one
  that applies on a date. Versions are never edited, so a loan keeps pointing at the
  terms it was sanctioned under.
- A product's rate is fixed, or floating: the benchmark (`BenchmarkRate`, the repo
  rate entered by operations with its effective date) plus the version's spread,
  reset every `reset_months`. Gold loans lend at most `max_ltv_percent` of the gold's
  value: grams × carat ÷ 24 × the day's `GoldRate` per gram of 24-carat gold.
- A `LoanApplication` is taken at the branch for a customer: amount, tenure, purpose,
  income, existing EMIs, bureau score and, for gold, the collateral. Its Key Facts
  Statement figures (rate, EMI, fee, GST, APR, total interest and payable) are
  computed once when it is taken and stored, so the KFS the borrower acknowledged is
  the one the checker sees. Status: applied → acknowledged → pending sanction →
  sanctioned or rejected (the reason reaches the applicant).
- A `Loan` exists from sanction: its sanctioned amount, rate and tenure, the deposit
  account it pays into and its own ledger sub-ledger (an asset under the product's
  control GL). The money lives in the ledger only. Status: sanctioned → active
  (first disbursement) → closed. Its `classification` (standard, SMA-0/1/2,
  sub-standard, doubtful D1–D3, loss) is the bank's word for its health, and every
  change is kept in `LoanClassificationChange`.
- A `Schedule` is one version of a loan's repayment plan, with the reason it was
  made (disbursement, tranche, prepayment, rate reset, foreclosure); exactly one is
  current. Its `Instalment`s carry due date, principal and interest due, and the
  parts paid. An instalment is due once its due date has come (on or before the
  business date); what is due and unpaid is read off the current schedule, so no
  flag has to be flipped for it. A new version copies the instalments already due,
  with what was paid of them, so the current schedule always holds the whole story:
  the principal it has not yet been paid equals the loan sub-ledger's balance.
- Interest accrued and not yet due is `Loan.accrued_interest` (paise, through
  `accrued_through`): the end-of-day accrual adds to it and to interest receivable
  (1301), and the day an instalment falls due its interest stops being "accrued"
  and becomes "due" on the instalment.
- A `LoanCharge` is a charge levied on a loan (penal charge on an overdue, a
  returned mandate, a prepayment charge), with its GST and how much of it is paid.
  Penal charges are a charge: never interest, never added to the rate, never
  capitalised into principal (RBI, August 2023).
- A `Repayment` is money received for a loan (cash at the counter, from the
  borrower's account, auto-debit): instalment dues, a part-prepayment or a
  foreclosure; its `RepaymentAllocation` lines say what each rupee paid (a charge,
  an instalment's interest or principal), and they sum to the amount received.
- Money is integer paise; rates are Decimal percent per annum.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from banking.core.money import Money

from . import schedule as schedule_math


class ProductKind(models.TextChoices):
    PERSONAL = "personal", "Personal loan"
    HOME = "home", "Home loan"
    VEHICLE = "vehicle", "Vehicle loan"
    GOLD = "gold", "Gold loan"


class RateType(models.TextChoices):
    FIXED = "fixed", "Fixed"
    FLOATING = "floating", "Floating (benchmark + spread)"


class ScheduleType(models.TextChoices):
    EMI = schedule_math.EMI, "EMI (reducing balance)"
    EQUAL_PRINCIPAL = schedule_math.EQUAL_PRINCIPAL, "Equal principal"
    BULLET = schedule_math.BULLET, "Bullet (principal and interest at the end)"


class Benchmark(models.TextChoices):
    REPO = "repo", "RBI policy repo rate"


class LoanProductQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)


class LoanProduct(models.Model):
    code = models.CharField(max_length=8, unique=True)
    name = models.CharField(max_length=80)
    kind = models.CharField(max_length=12, choices=ProductKind.choices)
    secured = models.BooleanField(default=True)
    control_gl_code = models.CharField(max_length=32, help_text="The header its loans' sub-ledgers sit under.")
    is_active = models.BooleanField(default=True)

    objects = LoanProductQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        permissions = [
            ("sanction_up_to_10_lakh", "Can sanction loans up to ₹10,00,000"),
            ("sanction_up_to_1_crore", "Can sanction loans up to ₹1,00,00,000"),
            ("sanction_above_1_crore", "Can sanction loans above ₹1,00,00,000 (credit committee)"),
            ("manage_loan_products", "Can propose loan product changes and enter benchmark and gold rates"),
        ]

    def __str__(self):
        return self.name

    def version_on(self, date):
        """The parameters in force on `date`, or None before the first version."""
        return self.versions.filter(effective_from__lte=date).order_by("-effective_from").first()


class LoanProductVersion(models.Model):
    product = models.ForeignKey(LoanProduct, on_delete=models.PROTECT, related_name="versions")
    effective_from = models.DateField()
    min_amount = models.BigIntegerField()
    max_amount = models.BigIntegerField()
    min_months = models.PositiveSmallIntegerField()
    max_months = models.PositiveSmallIntegerField()
    rate_type = models.CharField(max_length=10, choices=RateType.choices)
    # Fixed: the rate itself. Floating: the spread over the benchmark.
    rate = models.DecimalField(max_digits=5, decimal_places=2)
    benchmark = models.CharField(max_length=10, choices=Benchmark.choices, blank=True)
    reset_months = models.PositiveSmallIntegerField(default=0)
    processing_fee_percent = models.DecimalField(max_digits=5, decimal_places=2)
    processing_fee_cap = models.BigIntegerField()
    gst_percent = models.DecimalField(max_digits=5, decimal_places=2, default=18)
    # A charge on the overdue amount, per annum; never added to the rate nor capitalised (RBI, Aug 2023).
    penal_charge_percent = models.DecimalField(max_digits=5, decimal_places=2)
    # Percent of the principal prepaid; never charged on a floating-rate loan to an individual (RBI).
    prepayment_charge_percent = models.DecimalField(max_digits=5, decimal_places=2)
    schedule_type = models.CharField(max_length=16, choices=ScheduleType.choices)
    max_foir_percent = models.DecimalField(max_digits=5, decimal_places=2)
    min_bureau_score = models.PositiveSmallIntegerField()
    max_ltv_percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    # Repayments pay these in this order, oldest instalment first.
    allocation_order = models.CharField(max_length=40, default="charges,interest,principal")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["product", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["product", "effective_from"], name="loan_product_version_once_a_day"),
            models.CheckConstraint(condition=Q(min_amount__gt=0, max_amount__gte=F("min_amount")),
                                   name="loan_product_amount_range"),
            models.CheckConstraint(condition=Q(min_months__gt=0, max_months__gte=F("min_months")),
                                   name="loan_product_tenure_range"),
            models.CheckConstraint(condition=Q(rate__gte=0, processing_fee_percent__gte=0, processing_fee_cap__gte=0,
                                               gst_percent__gte=0, penal_charge_percent__gte=0,
                                               prepayment_charge_percent__gte=0),
                                   name="loan_product_nonnegative"),
            models.CheckConstraint(condition=Q(rate_type="fixed") | ~Q(benchmark="") & Q(reset_months__gt=0),
                                   name="loan_product_floating_has_benchmark"),
            # RBI: no prepayment or foreclosure charge on a floating-rate loan to an individual.
            models.CheckConstraint(condition=Q(rate_type="fixed") | Q(prepayment_charge_percent=0),
                                   name="loan_product_floating_no_prepayment_charge"),
            models.CheckConstraint(condition=Q(max_foir_percent__gt=0, max_foir_percent__lte=100),
                                   name="loan_product_foir_percent"),
            models.CheckConstraint(condition=Q(max_ltv_percent__isnull=True)
                                   | Q(max_ltv_percent__gt=0, max_ltv_percent__lte=100),
                                   name="loan_product_ltv_percent"),
        ]

    def __str__(self):
        return f"{self.product.name} from {self.effective_from:%d %b %Y}"

    @property
    def is_floating(self):
        return self.rate_type == RateType.FLOATING


class BenchmarkRate(models.Model):
    benchmark = models.CharField(max_length=10, choices=Benchmark.choices)
    effective_from = models.DateField()
    rate = models.DecimalField(max_digits=5, decimal_places=2)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["benchmark", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["benchmark", "effective_from"], name="benchmark_rate_once_a_day"),
            models.CheckConstraint(condition=Q(rate__gte=0, rate__lt=100), name="benchmark_rate_range"),
        ]

    def __str__(self):
        return f"{self.get_benchmark_display()} {self.rate}% from {self.effective_from:%d %b %Y}"


class GoldRate(models.Model):
    """The day's rate for one gram of 24-carat gold, in paise, entered by operations."""

    on = models.DateField(unique=True)
    rate_per_gram = models.BigIntegerField()
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-on"]
        constraints = [models.CheckConstraint(condition=Q(rate_per_gram__gt=0), name="gold_rate_positive")]

    def __str__(self):
        return f"Gold {Money(self.rate_per_gram)} per gram on {self.on:%d %b %Y}"


class NumberSeries(models.Model):
    """The last serial handed out for a prefix (a branch's applications, a branch's loans)."""

    prefix = models.CharField(max_length=12, unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.prefix} at {self.last}"


class ApplicationStatus(models.TextChoices):
    APPLIED = "applied", "Applied: KFS issued"
    ACKNOWLEDGED = "acknowledged", "KFS acknowledged"
    PENDING_SANCTION = "pending_sanction", "Waiting for sanction"
    SANCTIONED = "sanctioned", "Sanctioned"
    REJECTED = "rejected", "Rejected"


class BureauSource(models.TextChoices):
    ENTERED = "entered", "Entered from the bureau report"
    SIMULATOR = "simulator", "Bureau simulator"


class LoanApplicationQuerySet(models.QuerySet):
    def for_branch(self, branch):
        return self.filter(branch=branch)


class LoanApplication(models.Model):
    number = models.CharField(max_length=20, unique=True)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="loan_applications")
    product = models.ForeignKey(LoanProduct, on_delete=models.PROTECT, related_name="applications")
    product_version = models.ForeignKey(LoanProductVersion, on_delete=models.PROTECT, related_name="+")
    branch = models.ForeignKey("users.Branch", on_delete=models.PROTECT, related_name="loan_applications")
    deposit_account = models.ForeignKey("deposits.DepositAccount", on_delete=models.PROTECT, related_name="+",
                                        help_text="Where the loan is paid and its instalments are taken from.")
    amount = models.BigIntegerField()
    months = models.PositiveSmallIntegerField()
    purpose = models.CharField(max_length=200)
    monthly_income = models.BigIntegerField()
    existing_emis = models.BigIntegerField(default=0)
    bureau_score = models.PositiveSmallIntegerField()
    bureau_source = models.CharField(max_length=10, choices=BureauSource.choices)
    gold_grams = models.DecimalField(max_digits=9, decimal_places=3, null=True, blank=True)
    gold_carat = models.PositiveSmallIntegerField(null=True, blank=True)
    gold_rate_per_gram = models.BigIntegerField(null=True, blank=True)
    gold_value = models.BigIntegerField(null=True, blank=True)
    # The KFS, as issued.
    rate = models.DecimalField(max_digits=5, decimal_places=2)
    emi = models.BigIntegerField()
    processing_fee = models.BigIntegerField()
    gst_on_fee = models.BigIntegerField()
    apr = models.DecimalField(max_digits=6, decimal_places=2)
    total_interest = models.BigIntegerField()
    total_payable = models.BigIntegerField()
    foir_percent = models.DecimalField(max_digits=7, decimal_places=2)
    assumed_disbursal_on = models.DateField()
    status = models.CharField(max_length=20, choices=ApplicationStatus.choices, default=ApplicationStatus.APPLIED)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                        related_name="+")
    acknowledgement = models.CharField(max_length=200, blank=True)
    sanction_request = models.ForeignKey("approvals.ApprovalRequest", on_delete=models.PROTECT, null=True,
                                         blank=True, related_name="+")
    rejection_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    idempotency_key = models.CharField(max_length=64, null=True, blank=True, unique=True)

    objects = LoanApplicationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0, months__gt=0, monthly_income__gt=0,
                                               existing_emis__gte=0), name="loan_application_positive"),
            models.CheckConstraint(condition=Q(bureau_score__gte=300, bureau_score__lte=900),
                                   name="loan_application_score_range"),
            models.CheckConstraint(condition=Q(status__in=["applied"]) | Q(acknowledged_at__isnull=False),
                                   name="loan_application_acknowledged_before_sanction"),
            models.CheckConstraint(condition=~Q(status="rejected") | ~Q(rejection_reason=""),
                                   name="loan_application_rejection_has_reason"),
        ]

    def __str__(self):
        return f"{self.number} {self.product.name} for {self.customer.display_name}"

    @property
    def is_acknowledged(self):
        return self.acknowledged_at is not None

    @property
    def net_disbursed(self):
        return self.amount - self.processing_fee - self.gst_on_fee


class LoanStatus(models.TextChoices):
    SANCTIONED = "sanctioned", "Sanctioned, not yet disbursed"
    ACTIVE = "active", "Active"
    CLOSED = "closed", "Closed"


class Classification(models.TextChoices):
    STANDARD = "standard", "Standard"
    SMA_0 = "sma0", "SMA-0 (1–30 days past due)"
    SMA_1 = "sma1", "SMA-1 (31–60 days past due)"
    SMA_2 = "sma2", "SMA-2 (61–90 days past due)"
    SUB_STANDARD = "substandard", "Sub-standard"
    DOUBTFUL_1 = "d1", "Doubtful D1"
    DOUBTFUL_2 = "d2", "Doubtful D2"
    DOUBTFUL_3 = "d3", "Doubtful D3"
    LOSS = "loss", "Loss"


# Non-performing assets: over 90 days past due, and what follows (RBI's IRAC norms).
NPA_CLASSES = frozenset({Classification.SUB_STANDARD, Classification.DOUBTFUL_1, Classification.DOUBTFUL_2,
                         Classification.DOUBTFUL_3, Classification.LOSS})


class LoanQuerySet(models.QuerySet):
    def for_branch(self, branch):
        return self.filter(branch=branch)

    def for_customer(self, customer):
        return self.filter(customer=customer)


class Loan(models.Model):
    number = models.CharField(max_length=20, unique=True)
    application = models.OneToOneField(LoanApplication, on_delete=models.PROTECT, related_name="loan")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="loans")
    product = models.ForeignKey(LoanProduct, on_delete=models.PROTECT, related_name="loans")
    product_version = models.ForeignKey(LoanProductVersion, on_delete=models.PROTECT, related_name="+")
    branch = models.ForeignKey("users.Branch", on_delete=models.PROTECT, related_name="loans")
    deposit_account = models.ForeignKey("deposits.DepositAccount", on_delete=models.PROTECT, related_name="loans")
    ledger_account = models.OneToOneField("ledger.LedgerAccount", on_delete=models.PROTECT, null=True, blank=True,
                                          related_name="loan")
    sanctioned_amount = models.BigIntegerField()
    disbursed_amount = models.BigIntegerField(default=0)
    months = models.PositiveSmallIntegerField()
    schedule_type = models.CharField(max_length=16, choices=ScheduleType.choices)
    rate_type = models.CharField(max_length=10, choices=RateType.choices)
    rate = models.DecimalField(max_digits=5, decimal_places=2)
    spread = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    next_reset_on = models.DateField(null=True, blank=True)
    fees_collected = models.BooleanField(default=False)
    status = models.CharField(max_length=12, choices=LoanStatus.choices, default=LoanStatus.SANCTIONED)
    classification = models.CharField(max_length=12, choices=Classification.choices,
                                      default=Classification.STANDARD)
    days_past_due = models.PositiveIntegerField(default=0)
    # Interest accrued since the last due date and not yet due (paise); end of day adds to it.
    accrued_interest = models.BigIntegerField(default=0)
    accrued_through = models.DateField(null=True, blank=True)
    sanctioned_on = models.DateField()
    sanctioned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    first_disbursed_on = models.DateField(null=True, blank=True)
    closed_on = models.DateField(null=True, blank=True)

    objects = LoanQuerySet.as_manager()

    class Meta:
        ordering = ["-sanctioned_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(disbursed_amount__gte=0)
                                   & Q(disbursed_amount__lte=F("sanctioned_amount")),
                                   name="loan_disbursed_within_sanction"),
            models.CheckConstraint(condition=Q(status="sanctioned") | Q(ledger_account__isnull=False,
                                                                         first_disbursed_on__isnull=False),
                                   name="loan_disbursed_has_ledger"),
            models.CheckConstraint(condition=Q(rate_type="fixed") | Q(spread__isnull=False),
                                   name="loan_floating_has_spread"),
            models.CheckConstraint(condition=Q(accrued_interest__gte=0), name="loan_accrued_interest_nonnegative"),
            models.CheckConstraint(condition=~Q(status="closed") | Q(closed_on__isnull=False),
                                   name="loan_closed_has_date"),
        ]

    def __str__(self):
        return f"{self.number} {self.product.name}"

    @property
    def outstanding(self):
        """Principal outstanding: the loan sub-ledger's balance."""
        return self.ledger_account.balance if self.ledger_account_id else 0

    @property
    def is_closed(self):
        return self.status == LoanStatus.CLOSED

    @property
    def is_npa(self):
        return self.classification in NPA_CLASSES

    @property
    def undisbursed(self):
        return self.sanctioned_amount - self.disbursed_amount

    @property
    def current_schedule(self):
        return self.schedules.filter(is_current=True).first()


class LoanClassificationChange(models.Model):
    """One change of a loan's classification, date-stamped (RBI asks for it daily)."""

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="classification_history")
    on = models.DateField()
    classification = models.CharField(max_length=12, choices=Classification.choices)
    days_past_due = models.PositiveIntegerField(default=0)
    reason = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["loan", "-on", "-id"]

    def __str__(self):
        return f"{self.loan.number} {self.get_classification_display()} on {self.on:%d %b %Y}"


class Disbursement(models.Model):
    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="disbursements")
    tranche = models.PositiveSmallIntegerField()
    amount = models.BigIntegerField()
    processing_fee = models.BigIntegerField(default=0)
    gst_on_fee = models.BigIntegerField(default=0)
    on = models.DateField()
    entry = models.ForeignKey("ledger.JournalEntry", on_delete=models.PROTECT, related_name="+")
    fee_entry = models.ForeignKey("ledger.JournalEntry", on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+")
    made_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    idempotency_key = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["loan", "tranche"]
        constraints = [
            models.UniqueConstraint(fields=["loan", "tranche"], name="loan_disbursement_tranche_once"),
            models.CheckConstraint(condition=Q(amount__gt=0, processing_fee__gte=0, gst_on_fee__gte=0),
                                   name="loan_disbursement_positive"),
        ]

    def __str__(self):
        return f"{self.loan.number} tranche {self.tranche}: {Money(self.amount)}"


class ScheduleReason(models.TextChoices):
    DISBURSEMENT = "disbursement", "Disbursement"
    TRANCHE = "tranche", "Further tranche"
    PREPAYMENT = "prepayment", "Part-prepayment"
    RATE_RESET = "rate_reset", "Rate reset"
    FORECLOSURE = "foreclosure", "Foreclosure"


class Schedule(models.Model):
    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="schedules")
    version = models.PositiveSmallIntegerField()
    reason = models.CharField(max_length=16, choices=ScheduleReason.choices)
    is_current = models.BooleanField(default=True)
    principal = models.BigIntegerField()
    rate = models.DecimalField(max_digits=5, decimal_places=2)
    schedule_type = models.CharField(max_length=16, choices=ScheduleType.choices)
    starts_on = models.DateField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["loan", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["loan", "version"], name="loan_schedule_version_once"),
            models.UniqueConstraint(fields=["loan"], condition=Q(is_current=True), name="loan_one_current_schedule"),
        ]

    def __str__(self):
        return f"{self.loan.number} schedule v{self.version} ({self.get_reason_display()})"


class Instalment(models.Model):
    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="instalments")
    number = models.PositiveSmallIntegerField()
    due_date = models.DateField()
    opening = models.BigIntegerField()
    principal = models.BigIntegerField()
    interest = models.BigIntegerField()
    principal_paid = models.BigIntegerField(default=0)
    interest_paid = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["schedule", "number"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "number"], name="loan_instalment_once"),
            models.CheckConstraint(condition=Q(principal__gte=0, interest__gte=0, opening__gte=0),
                                   name="loan_instalment_nonnegative"),
            models.CheckConstraint(condition=Q(principal_paid__gte=0, principal_paid__lte=F("principal"))
                                   & Q(interest_paid__gte=0, interest_paid__lte=F("interest")),
                                   name="loan_instalment_paid_within_due"),
        ]

    def __str__(self):
        return f"Instalment {self.number} due {self.due_date:%d %b %Y}"

    @property
    def total(self):
        return self.principal + self.interest

    @property
    def closing(self):
        return self.opening - self.principal

    @property
    def principal_unpaid(self):
        return self.principal - self.principal_paid

    @property
    def interest_unpaid(self):
        return self.interest - self.interest_paid

    @property
    def unpaid(self):
        return self.principal_unpaid + self.interest_unpaid

    @property
    def paid(self):
        return self.principal_paid + self.interest_paid

    @property
    def is_paid(self):
        return self.principal_paid == self.principal and self.interest_paid == self.interest


class ChargeKind(models.TextChoices):
    PENAL = "penal", "Penal charge on the overdue"
    BOUNCE = "bounce", "Returned mandate charge"
    PREPAYMENT = "prepayment", "Prepayment charge"
    OTHER = "other", "Other charge"


class LoanChargeQuerySet(models.QuerySet):
    def unpaid(self):
        return self.filter(paid__lt=F("amount") + F("gst"))


class LoanCharge(models.Model):
    """A charge levied on a loan, with its GST, and how much of both is paid.

    Levied (`servicing.levy_charge`): Dr charges receivable (1302), Cr the charge's
    income and GST payable. Paid by a repayment: Cr charges receivable. A prepayment
    charge is levied and paid in the repayment's own entry (no receivable)."""

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="charges")
    instalment = models.ForeignKey(Instalment, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="charges", help_text="The overdue instalment it was levied on.")
    kind = models.CharField(max_length=12, choices=ChargeKind.choices)
    levied_on = models.DateField()
    amount = models.BigIntegerField()
    gst = models.BigIntegerField(default=0)
    paid = models.BigIntegerField(default=0)
    narration = models.CharField(max_length=200)
    entry = models.ForeignKey("ledger.JournalEntry", on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+")
    idempotency_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = LoanChargeQuerySet.as_manager()

    class Meta:
        ordering = ["loan", "levied_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0, gst__gte=0, paid__gte=0)
                                   & Q(paid__lte=F("amount") + F("gst")), name="loan_charge_paid_within_due"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {Money(self.total)} on {self.loan.number}"

    @property
    def total(self):
        return self.amount + self.gst

    @property
    def unpaid(self):
        return self.total - self.paid


class RepaymentKind(models.TextChoices):
    DUES = "dues", "Instalment dues"
    PREPAYMENT = "prepayment", "Part-prepayment"
    FORECLOSURE = "foreclosure", "Foreclosure"


class RepaymentChannel(models.TextChoices):
    CASH = "cash", "Cash at the counter"
    ACCOUNT = "account", "From the borrower's account"
    AUTO_DEBIT = "auto_debit", "Auto-debit under the mandate"


class PrepaymentChoice(models.TextChoices):
    REDUCE_EMI = "emi", "Reduce the EMI, keep the tenure"
    REDUCE_TENURE = "tenure", "Reduce the tenure, keep the EMI"


class RepaymentQuerySet(models.QuerySet):
    def for_branch(self, branch):
        return self.filter(loan__branch=branch)

    def for_customer(self, customer):
        return self.filter(loan__customer=customer)


class Repayment(models.Model):
    """Money received for a loan, with its receipt number; `allocations` say what it paid."""

    number = models.CharField(max_length=20, unique=True)
    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="repayments")
    kind = models.CharField(max_length=12, choices=RepaymentKind.choices)
    channel = models.CharField(max_length=12, choices=RepaymentChannel.choices)
    amount = models.BigIntegerField()
    on = models.DateField(help_text="The business date it was received.")
    deposit_account = models.ForeignKey("deposits.DepositAccount", on_delete=models.PROTECT, null=True, blank=True,
                                        related_name="+")
    counts = models.JSONField(null=True, blank=True, help_text="Cash: the notes and coins taken.")
    choice = models.CharField(max_length=8, choices=PrepaymentChoice.choices, blank=True)
    prepayment_charge = models.BigIntegerField(default=0)
    schedule = models.ForeignKey(Schedule, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                 help_text="The schedule version it made (a prepayment, a foreclosure).")
    entry = models.ForeignKey("ledger.JournalEntry", on_delete=models.PROTECT, related_name="+")
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", help_text="None: the auto-debit at end of day.")
    idempotency_key = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RepaymentQuerySet.as_manager()

    class Meta:
        ordering = ["-on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0, prepayment_charge__gte=0),
                                   name="loan_repayment_positive"),
            models.CheckConstraint(condition=Q(kind="prepayment") | Q(choice=""),
                                   name="loan_repayment_choice_only_for_prepayment"),
            models.CheckConstraint(condition=~Q(channel="cash") | Q(counts__isnull=False),
                                   name="loan_repayment_cash_counted"),
        ]

    def __str__(self):
        return f"Receipt {self.number}: {Money(self.amount)} for {self.loan.number}"


class AllocationPart(models.TextChoices):
    CHARGE = "charge", "Charges"
    INTEREST = "interest", "Interest"
    PRINCIPAL = "principal", "Principal"
    # Cash is taken in whole rupees: the paise over the dues go to the borrower's account.
    ACCOUNT = "account", "Paise over, to the borrower's account"


class RepaymentAllocation(models.Model):
    """What part of a repayment paid: a charge, or an instalment's interest or principal.
    Principal prepaid (a part-prepayment) names no instalment: it lowers the principal
    the new schedule version is drawn for. A foreclosure's last instalment, due the day
    it closes, is written by the foreclosure and paid by it."""

    repayment = models.ForeignKey(Repayment, on_delete=models.CASCADE, related_name="allocations")
    part = models.CharField(max_length=10, choices=AllocationPart.choices)
    instalment = models.ForeignKey(Instalment, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    charge = models.ForeignKey(LoanCharge, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    amount = models.BigIntegerField()

    class Meta:
        ordering = ["repayment", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="loan_allocation_positive"),
            models.CheckConstraint(condition=Q(part="charge", charge__isnull=False)
                                   | ~Q(part="charge") & Q(charge__isnull=True),
                                   name="loan_allocation_charge_names_its_charge"),
        ]

    def __str__(self):
        return f"{self.get_part_display()} {Money(self.amount)}"


# What end of day keeps about loans (each loan's book, the day's classification).
from .eod_models import LoanBook, LoanDayStatus  # noqa: E402, F401

# What servicing keeps beside the schedule (reset choices, security valuations).
from .servicing_models import RateResetChoice, SecurityValuation  # noqa: E402, F401
