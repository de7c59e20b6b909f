"""What servicing keeps beside the schedule: the borrower's choice at a floating-rate
reset, and the valuations of a secured loan's security.

Design overview
- `RateResetChoice`: before a floating-rate loan's `next_reset_on` the borrower
  chooses what the new rate does (RBI's circular of 18 Aug 2023 on resetting floating
  interest rates on EMI-based personal loans): a higher EMI, a longer tenure (the
  default, within the product's maximum tenure), or a prepayment that keeps both. One
  choice per loan and reset date; the borrower (online, with their code) or a teller
  (on the borrower's instruction) may change it until the reset applies it, and
  `applied_on` then records that it was used. No row: the default, tenure.
- `SecurityValuation`: what a secured loan's security is worth on a date. Gold: the
  grams pledged × carat ÷ 24 × the day's gold rate (eligibility.gold_value), written
  for every open gold loan when operations enter the day's rate; a vehicle or a home:
  a valuation entered by staff from the valuer's report. End of day's provisioning
  takes the latest valuation on or before the day as the secured portion's ceiling
  (classification.secured_portion); with none, the gold pledged at sanction (gold
  loans) or the whole outstanding (the bank's charge on the asset financed).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from banking.core.money import Money


class ResetChoice(models.TextChoices):
    TENURE = "tenure", "Keep the EMI, lengthen the tenure"
    EMI = "emi", "Keep the tenure, raise the EMI"
    PREPAYMENT = "prepayment", "Prepay enough to keep both"


class RateResetChoice(models.Model):
    loan = models.ForeignKey("loans.Loan", on_delete=models.PROTECT, related_name="reset_choices")
    reset_on = models.DateField()
    choice = models.CharField(max_length=10, choices=ResetChoice.choices)
    channel = models.CharField(max_length=10, choices=[("internet", "Internet banking"), ("branch", "At the branch")])
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now=True)
    applied_on = models.DateField(null=True, blank=True)
    # What the reset did when applied: the choice it applied (a prepayment the account
    # could not pay falls back to the tenure) and the words for the borrower.
    outcome = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["loan", "-reset_on"]
        constraints = [models.UniqueConstraint(fields=["loan", "reset_on"], name="loan_reset_choice_once")]

    def __str__(self):
        return f"{self.loan_id} reset of {self.reset_on:%d %b %Y}: {self.get_choice_display()}"


class ValuationMethod(models.TextChoices):
    GOLD_RATE = "gold_rate", "Gold pledged at the day's gold rate"
    VALUER = "valuer", "Valuer's report"


class SecurityValuation(models.Model):
    loan = models.ForeignKey("loans.Loan", on_delete=models.PROTECT, related_name="valuations")
    on = models.DateField()
    method = models.CharField(max_length=10, choices=ValuationMethod.choices)
    value = models.BigIntegerField()
    gold_rate_per_gram = models.BigIntegerField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["loan", "-on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(value__gte=0), name="loan_security_value_nonnegative"),
            models.CheckConstraint(condition=~Q(method="gold_rate") | Q(gold_rate_per_gram__gt=0),
                                   name="loan_security_gold_has_rate"),
        ]
        indexes = [models.Index(fields=["loan", "-on", "-id"], name="loan_security_latest")]

    def __str__(self):
        return f"{Money(self.value)} on {self.on:%d %b %Y} ({self.get_method_display()})"
