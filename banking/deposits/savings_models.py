"""What end of day keeps about savings and current accounts: balance slabs, daily
accruals, quarterly credits, minimum-balance charges and dormancy notices.

Design overview
- `BalanceSlab`: a savings or current product's interest by balance (DESIGN §5: the
  slab rate applies to the whole balance). A day's closing balance up to `up_to`
  paise, and above the product's next lower slab, earns `rate` on all of it; a
  balance above every slab earns the product's `interest_rate`, which is also the
  rate of a product without slabs.
- `SavingsAccrual`: one row per open savings or current account per day, written by
  the accrual step in one statement per partition: the day's closing balance, the
  rate, the day's interest in hundredths of a paisa (balance × rate ÷ 365, actual/365
  also in leap years, rounded half-up once, to 1/100 paisa), and running figures
  carried from the day before, so that no later step re-reads a quarter or a month of
  rows: `accrued` (the interest not yet credited, this day's included) and
  `month_total`/`month_days` (the month's closing balances so far, for the monthly
  average balance). Its key is (date, account): a step reads one day's rows for a
  range of accounts, and a rerun of a day inserts nothing twice.
- `SavingsInterestPayable`: per product and branch, the accruals not yet credited, in
  hundredths of a paisa. The GL's interest payable for savings (chart 2202) holds
  exactly these, each rounded half-up to the paisa: a day's GL entry is the change of
  the rounded figure, and a quarter's credits take out what they credited, the
  difference between the paise credited to customers and the paise released from
  the GL going to the rounding GL (chart 5103). `accrued_through` and
  `credited_through` make each step's GL entry once per date.
- `SavingsCredit`: the quarter's credit to one account, or the credit when it closed
  (dated its last accrual): the accruals it credited (in hundredths) and the paise,
  rounded half-up once. The next day's accrual starts again from what was not
  credited.
- `MinimumBalanceCharge`: a month's charge for a monthly average balance below the
  product's minimum, with its GST, written with its entry, so a rerun charges no one
  twice.
- `DormancyNotice`: the email that warned a customer, three months before, that an
  account would become inoperative; one per spell of inactivity (`active_since`).

The accrual and credit rows carry no foreign-key constraint to the accounts and
entries they name: end of day writes a million of each, each constraint check would be
a lookup per row, and only end of day writes them, from the accounts themselves.
"""

from django.db import models
from django.db.models import Q


class BalanceSlab(models.Model):
    product = models.ForeignKey("deposits.Product", on_delete=models.CASCADE, related_name="balance_slabs")
    up_to = models.BigIntegerField(help_text="The highest closing balance of the slab, in paise.")
    rate = models.DecimalField("rate (% p.a.)", max_digits=5, decimal_places=2)

    class Meta:
        ordering = ["product", "up_to"]
        constraints = [
            models.UniqueConstraint(fields=["product", "up_to"], name="balance_slab_once"),
            models.CheckConstraint(condition=Q(rate__gte=0), name="balance_slab_rate_nonneg"),
        ]

    def __str__(self):
        return f"{self.product_id}: up to {self.up_to} paise at {self.rate}%"


class SavingsAccrual(models.Model):
    pk = models.CompositePrimaryKey("date", "account")
    date = models.DateField()
    account = models.ForeignKey("deposits.DepositAccount", on_delete=models.DO_NOTHING, db_constraint=False,
                                db_index=False, related_name="+")
    balance = models.BigIntegerField(help_text="The day's closing balance, in paise.")
    rate = models.DecimalField(max_digits=5, decimal_places=2)
    interest = models.BigIntegerField(help_text="The day's interest, in 1/100 paisa.")
    accrued = models.BigIntegerField(help_text="Interest not yet credited, this day's included, in 1/100 paisa.")
    month_total = models.BigIntegerField(help_text="The month's closing balances so far, in paise.")
    month_days = models.PositiveSmallIntegerField(help_text="The days of the month `month_total` counts.")

    class Meta:
        ordering = ["date", "account"]

    def __str__(self):
        return f"{self.date} {self.account_id}: {self.interest}/100 paise"


class SavingsInterestPayable(models.Model):
    product = models.ForeignKey("deposits.Product", on_delete=models.PROTECT, related_name="+")
    branch = models.ForeignKey("users.Branch", on_delete=models.PROTECT, related_name="+")
    accrued = models.BigIntegerField(default=0, help_text="Accrued, not yet credited, in 1/100 paisa.")
    accrued_through = models.DateField(null=True, blank=True)
    credited_through = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["product", "branch"], name="savings_payable_once"),
            models.CheckConstraint(condition=Q(accrued__gte=0), name="savings_payable_nonneg"),
        ]

    def __str__(self):
        return f"{self.product_id}/{self.branch_id}: {self.accrued}/100 paise"


class SavingsCredit(models.Model):
    pk = models.CompositePrimaryKey("date", "account")
    date = models.DateField()
    account = models.ForeignKey("deposits.DepositAccount", on_delete=models.DO_NOTHING, db_constraint=False,
                                db_index=False, related_name="+")
    accrued = models.BigIntegerField(help_text="The accruals credited, in 1/100 paisa.")
    amount = models.BigIntegerField(help_text="Credited, in paise.")
    entry = models.ForeignKey("ledger.JournalEntry", on_delete=models.DO_NOTHING, db_constraint=False,
                              db_index=False, related_name="+")

    class Meta:
        ordering = ["date", "account"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="savings_credit_positive")]

    def __str__(self):
        return f"{self.date} {self.account_id}: {self.amount}"


class MinimumBalanceCharge(models.Model):
    pk = models.CompositePrimaryKey("date", "account")
    date = models.DateField(help_text="The month's last day.")
    account = models.ForeignKey("deposits.DepositAccount", on_delete=models.PROTECT, related_name="+")
    average = models.BigIntegerField(help_text="The month's average balance, in paise (rounded half-up).")
    minimum = models.BigIntegerField(help_text="The product's minimum average balance then, in paise.")
    charge = models.BigIntegerField(help_text="In paise, before GST.")
    gst = models.BigIntegerField(help_text="In paise.")
    capped_by_balance = models.BooleanField(default=False, help_text="Less than the rule asked: all there was.")
    entry = models.ForeignKey("ledger.JournalEntry", on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["date", "account"]
        constraints = [models.CheckConstraint(condition=Q(charge__gt=0, gst__gte=0), name="min_balance_charge_amounts")]

    def __str__(self):
        return f"{self.date} {self.account_id}: {self.charge} + GST {self.gst}"


class DormancyNotice(models.Model):
    account = models.OneToOneField("deposits.DepositAccount", on_delete=models.PROTECT, primary_key=True,
                                   related_name="dormancy_notice")
    active_since = models.DateField(help_text="The last customer-induced transaction the notice counted from.")
    inoperative_on = models.DateField()
    warned_on = models.DateField()
    email = models.CharField(max_length=254, blank=True, help_text="Where it went; blank: the customer has none.")

    def __str__(self):
        return f"{self.account_id}: inoperative on {self.inoperative_on} unless used"
