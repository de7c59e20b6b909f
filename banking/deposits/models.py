"""Deposit products and customers' deposit accounts.

Design overview
- A `Product` is what the bank sells (savings, zero-balance savings, current, fixed
  and recurring deposits) with its parameters: the savings interest rate, the
  average minimum balance and its charge, whether an overdraft may be sanctioned,
  term limits, and the control GL its accounts sit under. A fixed deposit's rate
  comes from its `RateSlab`s by term.
- A `DepositAccount` is one customer's account: a number with a Verhoeff check
  digit, its product, primary customer and joint holders (`AccountHolder`), mode
  of operation, nominee, and — once a checker approves the opening — its ledger
  sub-ledger (`ledger_account`) under the product's control GL. The money lives in
  the ledger only: balance, holds and available balance are read from there.
- Status and the ledger: the account's status is the bank's word; the ledger
  account's status is what the posting path enforces.
      pending       no ledger account yet (waiting for the checker)
      active        ledger active
      inoperative   ledger debit_frozen: credits (interest, inward payments) land,
                    debits are refused until the account is reactivated at the
                    branch. RBI's rules forbid charging inoperative accounts, so
                    the bank's own debits (charges) are refused as well.
      debit_frozen  ledger debit_frozen
      frozen        ledger frozen (no debits, no credits)
      closed        ledger closed (zero balance, no holds)
- Rules that need no other table are constraints: a fixed deposit carries its
  principal, rate, term and maturity; a recurring deposit its instalment and months;
  a joint account names its mode of operation.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from banking.core.money import Money


class ProductKind(models.TextChoices):
    SAVINGS = "savings", "Savings"
    ZERO_BALANCE = "zero_balance", "Zero-balance savings"
    CURRENT = "current", "Current"
    FIXED = "fixed", "Fixed deposit"
    RECURRING = "recurring", "Recurring deposit"


# Two digits of the account number that tell the kind of account at a glance.
KIND_DIGITS = {
    ProductKind.SAVINGS: "10",
    ProductKind.ZERO_BALANCE: "11",
    ProductKind.CURRENT: "20",
    ProductKind.FIXED: "30",
    ProductKind.RECURRING: "40",
}
# Accounts that money can be paid from by the customer (FDs are funded from these).
OPERATIVE_KINDS = (ProductKind.SAVINGS, ProductKind.ZERO_BALANCE, ProductKind.CURRENT)
TERM_KINDS = (ProductKind.FIXED, ProductKind.RECURRING)


class ProductQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)

    def operative(self):
        return self.filter(kind__in=OPERATIVE_KINDS)

    def of_kind(self, *kinds):
        return self.filter(kind__in=kinds)


class Product(models.Model):
    code = models.CharField(max_length=12, unique=True)
    name = models.CharField(max_length=80)
    kind = models.CharField(max_length=12, choices=ProductKind.choices)
    description = models.CharField(max_length=200, blank=True)
    control_gl_code = models.CharField("control GL", max_length=32,
                                       help_text="The header account its customers' sub-ledgers sit under.")
    # Savings: interest on the daily closing balance, credited quarterly, actual/365.
    interest_rate = models.DecimalField("interest rate (% p.a.)", max_digits=5, decimal_places=2, default=0)
    # Average monthly balance the customer keeps, and the charge when it is not kept
    # (levied by end of day; a hard floor would bounce the customer's payments): a
    # share of the shortfall, as RBI asks (charges in proportion to the shortfall),
    # up to a cap, plus GST. A cap of zero charges nothing.
    minimum_balance = models.BigIntegerField(default=0, help_text="In paise.")
    minimum_balance_charge = models.BigIntegerField(
        default=0, help_text="The most charged in a month for a shortfall, before GST, in paise.")
    minimum_balance_charge_rate = models.DecimalField(
        "minimum balance charge (% of the shortfall)", max_digits=5, decimal_places=2, default=0)
    overdraft_allowed = models.BooleanField(default=False)
    # Term deposits. FD: days from 7 to 10 years (120 months); RD: 6 to 120 months.
    min_term_days = models.PositiveIntegerField(default=0)
    min_term_months = models.PositiveIntegerField(default=0)
    max_term_months = models.PositiveIntegerField(default=0)
    premature_penalty = models.DecimalField("premature closure penalty (% p.a.)", max_digits=4, decimal_places=2,
                                            default=0)
    min_amount = models.BigIntegerField(default=0, help_text="Smallest principal or instalment, in paise.")
    is_active = models.BooleanField(default=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "code"]
        constraints = [
            models.CheckConstraint(condition=Q(interest_rate__gte=0), name="product_rate_nonneg"),
            models.CheckConstraint(condition=Q(minimum_balance__gte=0, minimum_balance_charge__gte=0,
                                               min_amount__gte=0), name="product_amounts_nonneg"),
            models.CheckConstraint(condition=Q(minimum_balance_charge_rate__gte=0), name="product_charge_rate_nonneg"),
        ]

    def __str__(self):
        return self.name

    @property
    def is_fixed(self):
        return self.kind == ProductKind.FIXED

    @property
    def is_recurring(self):
        return self.kind == ProductKind.RECURRING

    @property
    def is_operative(self):
        return self.kind in OPERATIVE_KINDS

    def rate_for(self, days):
        """The slab rate for a term of `days`, or None when no slab covers it."""
        slab = self.slabs.filter(min_days__lte=days, max_days__gte=days).order_by("min_days").first()
        return slab.rate if slab else None


class RateSlab(models.Model):
    """A term deposit's rate for terms from `min_days` to `max_days`, both included."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="slabs")
    min_days = models.PositiveIntegerField()
    max_days = models.PositiveIntegerField()
    rate = models.DecimalField("rate (% p.a.)", max_digits=5, decimal_places=2)

    class Meta:
        ordering = ["product", "min_days"]
        constraints = [
            models.CheckConstraint(condition=Q(max_days__gte=models.F("min_days")), name="slab_days_ordered"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="slab_rate_positive"),
            models.UniqueConstraint(fields=["product", "min_days"], name="slab_unique_start"),
        ]

    def __str__(self):
        return f"{self.product.code} {self.min_days}–{self.max_days} days: {self.rate}%"


class DepositStatus(models.TextChoices):
    PENDING = "pending", "Pending approval"
    ACTIVE = "active", "Active"
    INOPERATIVE = "inoperative", "Inoperative"
    DEBIT_FROZEN = "debit_frozen", "Debit frozen"
    FROZEN = "frozen", "Frozen"
    CLOSED = "closed", "Closed"


class ModeOfOperation(models.TextChoices):
    SELF = "self", "Self"
    EITHER_OR_SURVIVOR = "either_or_survivor", "Either or survivor"
    JOINTLY = "jointly", "Jointly"


class MaturityInstruction(models.TextChoices):
    RENEW_PRINCIPAL = "renew_principal", "Renew the principal, pay out the interest"
    RENEW_ALL = "renew_all", "Renew principal and interest"
    PAY_OUT = "pay_out", "Pay out to the linked account"


class HolderRole(models.TextChoices):
    JOINT = "joint", "Joint holder"
    MANDATE = "mandate", "Mandate holder"


class DepositAccountQuerySet(models.QuerySet):
    def for_customer(self, customer):
        """Accounts `customer` holds, alone or jointly."""
        return self.filter(Q(customer=customer) | Q(holders__customer=customer)).distinct()

    def opened(self):
        """Past the checker: everything but pending openings."""
        return self.exclude(status=DepositStatus.PENDING)

    def open(self):
        return self.exclude(status__in=[DepositStatus.PENDING, DepositStatus.CLOSED])

    def operative(self):
        return self.filter(product__kind__in=OPERATIVE_KINDS)

    def with_ledger(self):
        return self.select_related("product", "ledger_account", "branch", "customer")


class DepositAccount(models.Model):
    number = models.CharField(max_length=20, unique=True)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="accounts")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="deposit_accounts",
                                 verbose_name="primary holder")
    joint_holders = models.ManyToManyField("customers.Customer", through="AccountHolder", related_name="+")
    mode_of_operation = models.CharField(max_length=20, choices=ModeOfOperation.choices, default=ModeOfOperation.SELF)
    branch = models.ForeignKey("users.Branch", on_delete=models.PROTECT, related_name="deposit_accounts")
    status = models.CharField(max_length=12, choices=DepositStatus.choices, default=DepositStatus.PENDING)
    # What a freeze interrupted, so that unfreezing puts an inoperative account back as it was.
    status_before_freeze = models.CharField(max_length=12, choices=DepositStatus.choices, blank=True)
    ledger_account = models.OneToOneField("ledger.LedgerAccount", on_delete=models.PROTECT, null=True, blank=True,
                                          related_name="deposit_account")
    opening_request = models.ForeignKey("approvals.ApprovalRequest", on_delete=models.PROTECT, null=True,
                                        blank=True, related_name="+")
    opened_on = models.DateField(null=True, blank=True)
    closed_on = models.DateField(null=True, blank=True)
    # Dormancy: two years without a debit or credit the customer caused (interest and
    # charges do not count) makes the account inoperative (end of day).
    last_customer_activity_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    # The form's one-time token: a double-clicked "Open" makes one account.
    opening_key = models.CharField(max_length=80, unique=True, null=True, blank=True)

    # Nominee (one per account; the DICGC and RBI nomination form DA1).
    nominee_name = models.CharField(max_length=160, blank=True)
    nominee_relationship = models.CharField(max_length=40, blank=True)
    nominee_date_of_birth = models.DateField(null=True, blank=True)
    nominee_guardian_name = models.CharField("guardian of a minor nominee", max_length=160, blank=True)

    # Fixed and recurring deposits.
    source_account = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                       related_name="funded_deposits",
                                       help_text="The account it was funded from, and pays out to.")
    principal = models.BigIntegerField(null=True, blank=True, help_text="In paise.")
    rate = models.DecimalField("rate (% p.a.)", max_digits=5, decimal_places=2, null=True, blank=True)
    term_days = models.PositiveIntegerField(null=True, blank=True)
    maturity_date = models.DateField(null=True, blank=True)
    maturity_amount = models.BigIntegerField(null=True, blank=True, help_text="In paise.")
    maturity_instruction = models.CharField(max_length=16, choices=MaturityInstruction.choices, blank=True)
    instalment = models.BigIntegerField(null=True, blank=True, help_text="In paise.")
    months = models.PositiveIntegerField(null=True, blank=True)

    objects = DepositAccountQuerySet.as_manager()

    class Meta:
        ordering = ["number"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="pending") | Q(ledger_account__isnull=False, opened_on__isnull=False),
                name="deposit_opened_has_ledger",
            ),
            models.CheckConstraint(condition=~Q(status="closed") | Q(closed_on__isnull=False),
                                   name="deposit_closed_has_date"),
            models.CheckConstraint(condition=Q(principal__isnull=True) | Q(principal__gt=0),
                                   name="deposit_principal_positive"),
            models.CheckConstraint(condition=Q(instalment__isnull=True) | Q(instalment__gt=0),
                                   name="deposit_instalment_positive"),
            models.CheckConstraint(
                condition=Q(principal__isnull=True)
                | Q(rate__isnull=False, term_days__isnull=False, maturity_date__isnull=False,
                    maturity_amount__isnull=False),
                name="deposit_fd_terms_complete",
            ),
            models.CheckConstraint(
                condition=Q(instalment__isnull=True) | Q(months__gte=1, maturity_amount__isnull=False),
                name="deposit_rd_terms_complete",
            ),
        ]

    def __str__(self):
        return f"{self.number} {self.product.name}"

    # -- reading --------------------------------------------------------------
    @property
    def is_pending(self):
        return self.status == DepositStatus.PENDING

    @property
    def is_closed(self):
        return self.status == DepositStatus.CLOSED

    @property
    def is_fixed(self):
        return self.product.kind == ProductKind.FIXED

    @property
    def is_recurring(self):
        return self.product.kind == ProductKind.RECURRING

    @property
    def is_operative(self):
        return self.product.kind in OPERATIVE_KINDS

    @property
    def is_minor_nominee(self):
        return bool(self.nominee_date_of_birth) and _age(self.nominee_date_of_birth, timezone.localdate()) < 18

    @property
    def balance(self):
        return self.ledger_account.balance if self.ledger_account_id else 0

    @property
    def held(self):
        """What holds keep from being spent now (a hold past its expiry no longer counts)."""
        return self.ledger_account.on_hold if self.ledger_account_id else 0

    @property
    def available(self):
        return self.ledger_account.available if self.ledger_account_id else 0

    @property
    def ledger_names(self):
        """How the customer and staff know this account's ledger account, for a
        ledger refusal's words (post_entry's and check_debit's `names`)."""
        return {self.ledger_account_id: f"Account {self.number}"}

    @property
    def currency(self):
        return self.ledger_account.currency if self.ledger_account_id else "INR"

    @property
    def balance_money(self):
        return Money(self.balance, self.currency)

    @property
    def masked_number(self):
        """What a phone screen or an email shows: the last four digits."""
        return "XX" + self.number[-4:]

    def holder_names(self):
        names = [self.customer.display_name]
        # .all(), so that a list of accounts can prefetch the holders with their customers.
        names += [h.customer.display_name for h in self.holders.all()]
        return names


class AccountHolder(models.Model):
    """A holder other than the primary one."""

    account = models.ForeignKey(DepositAccount, on_delete=models.CASCADE, related_name="holders")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="joint_accounts")
    role = models.CharField(max_length=10, choices=HolderRole.choices, default=HolderRole.JOINT)
    position = models.PositiveSmallIntegerField(default=2)

    class Meta:
        ordering = ["account", "position"]
        constraints = [models.UniqueConstraint(fields=["account", "customer"], name="holder_once_per_account")]

    def __str__(self):
        return f"{self.customer} on {self.account.number} ({self.get_role_display()})"


class AccountNumberSeries(models.Model):
    """The last serial handed out for one prefix (branch code + kind digits)."""

    prefix = models.CharField(max_length=8, primary_key=True)
    last = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name_plural = "account number series"

    def __str__(self):
        return f"{self.prefix}: {self.last}"


def _age(born, on):
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


# End of day's records live in their own modules, imported here so that Django finds
# them with the app's models: savings and current accounts' (slabs, accruals,
# credits, charges, dormancy notices) and term deposits' (accruals, instalments,
# settlements, TDS).
from .savings_models import (  # noqa: E402, F401
    BalanceSlab,
    DormancyNotice,
    MinimumBalanceCharge,
    SavingsAccrual,
    SavingsCredit,
    SavingsInterestPayable,
)
from .term_models import (  # noqa: E402, F401
    InterestCredit,
    RecurringDepositRule,
    RecurringInstalment,
    TaxDeclaration,
    TaxForm,
    TermAccrualPosting,
    TermDepositSettlement,
    TermDepositState,
)
