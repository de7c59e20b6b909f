"""What end of day keeps about term deposits: accruals, instalments, settlements and tax.

Design overview
- `TermDepositState`: one row per fixed or recurring deposit that end of day has
  worked on. For a fixed deposit, the interest accrued so far, in hundredths of a
  paisa (DESIGN §5: accruals are kept to 1/100 paisa, half-up), through the close of
  `accrued_through`. The cumulative figure is kept rather than a row per day: a day's
  accrual is the difference between two days' cumulative figures, each rounded once
  from the exact quarterly-compounded value, so no rounding is lost however long the
  deposit runs, and a missed day is caught up by the next. For a recurring deposit,
  the day it went into default. For both, the last problem that stopped end of day
  from settling it (a closed linked account, a freeze), shown to the teller.
- `TermDepositSettlement`: how a deposit ended (paid out at maturity, renewed, closed
  early, paid after maturity at the counter), with the figures: principal, interest,
  TDS, what was released from interest payable, where the money went. One per
  deposit: a settled deposit is closed.
- `RecurringInstalment`: one row per instalment once it falls due; paid (with its
  penalty) or not yet. `missed` stays set once an instalment was not paid on its due
  day, so the teller sees the history even after a late payment.
- `RecurringDepositRule`: a recurring deposit product's penalty for a late
  instalment (per ₹100 of the instalment, for each started 30 days) and how many
  unpaid instalments put a deposit in default. A product without one takes the
  bank's defaults (₹1.50, six).
- `TermAccrualPosting`: the interest-payable GL entry end of day made for one day,
  product and branch (Dr interest on term deposits, Cr interest payable), so that
  the GL's interest payable for fixed deposits follows their accruals.
- `TaxDeclaration`: a Form 15G or 15H the customer gave for a financial year: no TDS
  is deducted on their deposit interest that year.
- `InterestCredit`: every credit of fixed or recurring deposit interest to a
  customer, with the TDS worked out for it (s.194A): the year's running totals come
  from these rows.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q, Sum
from django.utils import timezone

DEFAULT_PENALTY_PER_HUNDRED = Decimal("1.50")
DEFAULT_MISSED_TO_DEFAULT = 6


class TermDepositState(models.Model):
    account = models.OneToOneField("deposits.DepositAccount", on_delete=models.PROTECT, primary_key=True,
                                   related_name="term_state")
    accrued = models.BigIntegerField(default=0, help_text="Fixed deposit interest accrued, in 1/100 paisa.")
    accrued_through = models.DateField(null=True, blank=True)
    defaulted_on = models.DateField(null=True, blank=True)
    problem = models.CharField(max_length=300, blank=True)
    problem_on = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(accrued__gte=0), name="term_state_accrued_nonneg")]

    def __str__(self):
        return f"Term deposit state of {self.account_id}"

    @property
    def accrued_paise(self):
        """The accrual in whole paise, half-up (what interest payable holds for it)."""
        from .interest import to_paise

        return to_paise(Decimal(self.accrued) / 100)


class SettlementKind(models.TextChoices):
    PAID_OUT = "paid_out", "Paid out at maturity"
    RENEWED_PRINCIPAL = "renewed_principal", "Principal renewed, interest paid out"
    RENEWED_ALL = "renewed_all", "Principal and interest renewed"
    CLOSED_EARLY = "closed_early", "Closed before maturity"
    PAID_AFTER_MATURITY = "paid_after_maturity", "Paid at the branch after maturity"


class TermDepositSettlement(models.Model):
    account = models.OneToOneField("deposits.DepositAccount", on_delete=models.PROTECT, primary_key=True,
                                   related_name="settlement")
    kind = models.CharField(max_length=20, choices=SettlementKind.choices)
    settled_on = models.DateField()
    principal = models.BigIntegerField(help_text="In paise.")
    interest = models.BigIntegerField(help_text="In paise.")
    tds = models.BigIntegerField(default=0, help_text="In paise.")
    # What was taken out of interest payable for this deposit's accruals.
    accrual_released = models.BigIntegerField(default=0, help_text="In paise.")
    paid_out = models.BigIntegerField(default=0, help_text="In paise, to `paid_to`.")
    paid_to = models.ForeignKey("deposits.DepositAccount", on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+")
    renewed_into = models.OneToOneField("deposits.DepositAccount", on_delete=models.PROTECT, null=True, blank=True,
                                        related_name="renewed_from")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(principal__gte=0, interest__gte=0, tds__gte=0, paid_out__gte=0,
                                               accrual_released__gte=0), name="settlement_amounts_nonneg"),
            models.CheckConstraint(condition=Q(tds__lte=models.F("interest")), name="settlement_tds_within_interest"),
        ]

    def __str__(self):
        return f"{self.account_id}: {self.get_kind_display()} on {self.settled_on}"


class RecurringInstalmentQuerySet(models.QuerySet):
    def unpaid(self):
        return self.filter(paid_on__isnull=True)


class RecurringInstalment(models.Model):
    account = models.ForeignKey("deposits.DepositAccount", on_delete=models.PROTECT, related_name="instalments")
    number = models.PositiveSmallIntegerField()
    due_on = models.DateField()
    amount = models.BigIntegerField(help_text="In paise.")
    paid_on = models.DateField(null=True, blank=True)
    penalty = models.BigIntegerField(default=0, help_text="In paise, collected with a late instalment.")
    missed = models.BooleanField(default=False, help_text="Not paid on its due day.")
    entry = models.ForeignKey("ledger.JournalEntry", on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+")

    objects = RecurringInstalmentQuerySet.as_manager()

    class Meta:
        ordering = ["account", "number"]
        constraints = [
            models.UniqueConstraint(fields=["account", "number"], name="instalment_once_per_number"),
            models.CheckConstraint(condition=Q(amount__gt=0, penalty__gte=0), name="instalment_amounts"),
            models.CheckConstraint(condition=Q(paid_on__isnull=False) | Q(penalty=0, entry__isnull=True),
                                   name="instalment_unpaid_has_nothing_posted"),
        ]

    def __str__(self):
        return f"Instalment {self.number} of {self.account_id}, due {self.due_on}"


class RecurringDepositRule(models.Model):
    product = models.OneToOneField("deposits.Product", on_delete=models.CASCADE, primary_key=True,
                                   related_name="recurring_rule")
    penalty_per_hundred = models.DecimalField(
        "penalty per ₹100 of a late instalment, for each started 30 days", max_digits=5, decimal_places=2,
        default=DEFAULT_PENALTY_PER_HUNDRED)
    missed_to_default = models.PositiveSmallIntegerField(
        "unpaid instalments that put the deposit in default", default=DEFAULT_MISSED_TO_DEFAULT)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(penalty_per_hundred__gte=0), name="rd_rule_penalty_nonneg"),
            models.CheckConstraint(condition=Q(missed_to_default__gte=1), name="rd_rule_default_positive"),
        ]

    def __str__(self):
        return f"{self.product_id}: ₹{self.penalty_per_hundred} per ₹100 late, default after {self.missed_to_default}"


class TermAccrualPosting(models.Model):
    date = models.DateField()
    product = models.ForeignKey("deposits.Product", on_delete=models.PROTECT, related_name="+")
    branch = models.ForeignKey("users.Branch", on_delete=models.PROTECT, related_name="+")
    amount = models.BigIntegerField(help_text="Paise credited to interest payable (negative: debited).")
    entry = models.ForeignKey("ledger.JournalEntry", on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+")

    class Meta:
        ordering = ["date", "product", "branch"]
        constraints = [models.UniqueConstraint(fields=["date", "product", "branch"], name="accrual_posting_once")]

    def __str__(self):
        return f"{self.date} {self.product_id}/{self.branch_id}: {self.amount}"


class TaxForm(models.TextChoices):
    FORM_15G = "15G", "Form 15G"
    FORM_15H = "15H", "Form 15H (senior citizen)"


class TaxDeclaration(models.Model):
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="tax_declarations")
    financial_year = models.PositiveSmallIntegerField(help_text="The year it starts in: 2026 is FY 2026-27.")
    form = models.CharField(max_length=3, choices=TaxForm.choices)
    received_on = models.DateField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-financial_year"]
        constraints = [models.UniqueConstraint(fields=["customer", "financial_year"], name="one_declaration_a_year")]

    def __str__(self):
        return f"{self.get_form_display()} for FY {self.financial_year}-{(self.financial_year + 1) % 100:02d}"


class InterestCreditQuerySet(models.QuerySet):
    def for_year(self, customer, financial_year):
        return self.filter(customer=customer, financial_year=financial_year)

    def totals(self):
        """Interest, TDS owed and TDS deducted over these credits, in paise."""
        sums = self.aggregate(interest=Sum("interest"), tds_due=Sum("tds_due"), tds=Sum("tds"))
        return {key: value or 0 for key, value in sums.items()}


class InterestCredit(models.Model):
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="interest_credits")
    account = models.ForeignKey("deposits.DepositAccount", on_delete=models.PROTECT, related_name="interest_credits")
    financial_year = models.PositiveSmallIntegerField()
    credited_on = models.DateField()
    interest = models.BigIntegerField(help_text="In paise.")
    # What the rule asked for (DESIGN §5), and what could be taken from this credit's interest.
    tds_due = models.BigIntegerField(default=0, help_text="In paise.")
    tds = models.BigIntegerField(default=0, help_text="In paise.")
    tds_rate = models.DecimalField(max_digits=4, decimal_places=2, default=0)
    note = models.CharField(max_length=200, blank=True)

    objects = InterestCreditQuerySet.as_manager()

    class Meta:
        ordering = ["credited_on", "id"]
        indexes = [models.Index(fields=["customer", "financial_year"], name="interest_credit_customer_year")]
        constraints = [
            models.CheckConstraint(condition=Q(interest__gte=0, tds__gte=0, tds_due__gte=0),
                                   name="interest_credit_amounts_nonneg"),
            models.CheckConstraint(condition=Q(tds__lte=models.F("interest")), name="interest_credit_tds_within"),
            # A deposit's interest is credited once: at maturity, renewal or closure.
            models.UniqueConstraint(fields=["account"], name="interest_credit_once_per_deposit"),
        ]

    def __str__(self):
        return f"{self.account_id} {self.credited_on}: {self.interest} (TDS {self.tds})"
