"""ATM charges past the month's free transactions, and failed-dispense complaints with
their compensation (the rules are in charges.py and complaints.py).

- An AtmCharge is one counted ATM transaction past the free ones of its account's
  month, charged at end of day: one per switch message (a rerun finds it), with the
  entry that took ₹23 + GST.
- A DispenseComplaint is a customer's "debited but no cash" for one approved
  withdrawal (one complaint per withdrawal), raised on the site or at a branch. T is
  the withdrawal's date; the reversal is due by T+5. Investigation records what the
  terminal dispensed; the rest is given back by the switch's reversal (`reversal`).
- A DispenseCompensation is ₹100 for one day of delay past T+5 (one per complaint
  and day), credited at end of day without the customer asking.
"""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

# RBI's harmonised turnaround time for a failed ATM dispense: reversal by T+5 days,
# then ₹100 a day of delay to the customer.
REVERSAL_DUE_DAYS = 5
COMPENSATION_PER_DAY = 100_00


class AtmCharge(models.Model):
    message = models.OneToOneField("cards.SwitchMessage", on_delete=models.PROTECT, related_name="charge")
    account = models.ForeignKey("deposits.DepositAccount", on_delete=models.PROTECT, related_name="atm_charges")
    month = models.DateField()  # the first day of the month the transaction counted in
    place = models.PositiveSmallIntegerField()  # its place in the month: 6th, 7th ...
    date = models.DateField()  # the business date whose end of day charged it
    charge = models.BigIntegerField()
    gst = models.BigIntegerField()
    entry = models.OneToOneField("ledger.JournalEntry", on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-date", "-id"]
        constraints = [models.CheckConstraint(condition=Q(charge__gt=0) & Q(gst__gte=0), name="atm_charge_positive")]

    def __str__(self):
        return f"ATM charge {self.account_id} {self.month:%b %Y} #{self.place}"


class ComplaintStatus(models.TextChoices):
    OPEN = "open", "Open: being investigated"
    REVERSED = "reversed", "Resolved: money credited back"
    REJECTED = "rejected", "Closed: the ATM dispensed the cash"


class ComplaintQuerySet(models.QuerySet):
    def for_customer(self, customer):
        return self.filter(customer=customer)

    def open(self):
        return self.filter(status=ComplaintStatus.OPEN)


class DispenseComplaint(models.Model):
    withdrawal = models.OneToOneField("cards.SwitchMessage", on_delete=models.PROTECT, related_name="complaint")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="atm_complaints")
    account = models.ForeignKey("deposits.DepositAccount", on_delete=models.PROTECT, related_name="atm_complaints")
    amount = models.BigIntegerField()  # what the withdrawal debited
    transaction_date = models.DateField()  # T
    raised_on = models.DateField()  # the business date
    raised_at = models.DateTimeField(default=timezone.now)
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=10)  # internet or branch (ledger Channel values)
    details = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=ComplaintStatus.choices, default=ComplaintStatus.OPEN)
    dispensed_amount = models.BigIntegerField(null=True, blank=True)  # found by investigation
    finding = models.TextField(blank=True)
    resolved_on = models.DateField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    reversal = models.OneToOneField("cards.SwitchMessage", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")

    objects = ComplaintQuerySet.as_manager()

    class Meta:
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ComplaintStatus.values), name="complaint_status_valid"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="complaint_amount_positive"),
            models.CheckConstraint(condition=Q(status="open") | Q(resolved_on__isnull=False),
                                   name="complaint_closed_has_date"),
        ]

    def __str__(self):
        return self.reference

    @property
    def reference(self):
        return f"ATMC{self.pk:06d}"

    @property
    def reversal_due_on(self):
        return self.transaction_date + datetime.timedelta(days=REVERSAL_DUE_DAYS)


class DispenseCompensation(models.Model):
    complaint = models.ForeignKey(DispenseComplaint, on_delete=models.PROTECT, related_name="compensations")
    day = models.DateField()  # a day of delay past T+5
    amount = models.BigIntegerField(default=COMPENSATION_PER_DAY)
    paid_on = models.DateField()  # the business date whose end of day credited it
    entry = models.ForeignKey("ledger.JournalEntry", on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["complaint", "day"]
        constraints = [models.UniqueConstraint(fields=["complaint", "day"], name="compensation_once_a_day"),
                       models.CheckConstraint(condition=Q(amount__gt=0), name="compensation_positive")]

    def __str__(self):
        return f"{self.complaint_id} {self.day}"
