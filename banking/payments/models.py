"""Payments: payees, payment orders on the five rails, the NEFT batches, UPI
addresses and collect requests, standing instructions, settlement files and
reconciliation.

Design overview
- A `Payment` is one order to move money, outward (to a payee or VPA elsewhere),
  inward (credited to one of our customers by the network) or internal (between two
  accounts of this bank). Its status only moves forward along
  initiated → awaiting approval → debited → sent → settled | returned | failed → reversed,
  each step stamped on the row and in `PaymentEvent`, and audited. `Payment.pipeline`
  is the table of allowed moves; `move_to` refuses any other (ValidationFailed), and
  a set-based change of many payments takes its from-statuses from the same table
  (`Payment.sources_of`).
- Money moves only through the ledger's posting action (see actions.py); the
  payment keeps the entries it caused (`debit_entry`, `settle_entry`,
  `return_entry`), so a return can be matched to the debit it undoes, exactly once.
- `reference` is the network's reference: a 16-character NEFT UTR, a 22-character
  RTGS UTR, or a 12-digit IMPS/UPI RRN (see references.py). It is unique.
- Amounts are integers in paise.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from banking.core.crypto import EncryptedTextField
from banking.core.errors import ValidationFailed
from banking.core.money import format_money


class Rail(models.TextChoices):
    INTERNAL = "INTERNAL", "Within the bank"
    NEFT = "NEFT", "NEFT"
    RTGS = "RTGS", "RTGS"
    IMPS = "IMPS", "IMPS"
    UPI = "UPI", "UPI"


class Direction(models.TextChoices):
    OUTWARD = "outward", "Outward"
    INWARD = "inward", "Inward"
    INTERNAL = "internal", "Internal"


class PaymentStatus(models.TextChoices):
    INITIATED = "initiated", "Initiated"
    AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
    DEBITED = "debited", "Debited"
    SENT = "sent", "Sent"
    SETTLED = "settled", "Settled"
    RETURNED = "returned", "Returned"
    FAILED = "failed", "Failed"
    REVERSED = "reversed", "Reversed"
    REJECTED = "rejected", "Rejected"


# Statuses in which the money is on its way or delivered: they count toward limits.
LIVE_STATUSES = (PaymentStatus.INITIATED, PaymentStatus.AWAITING_APPROVAL, PaymentStatus.DEBITED,
                 PaymentStatus.SENT, PaymentStatus.SETTLED)
FINAL_STATUSES = (PaymentStatus.SETTLED, PaymentStatus.REVERSED, PaymentStatus.REJECTED, PaymentStatus.FAILED,
                  PaymentStatus.RETURNED)


class Origin(models.TextChoices):
    INTERNET = "internet", "Internet banking"
    BRANCH = "branch", "Branch"
    STANDING_INSTRUCTION = "standing_instruction", "Standing instruction"
    UPI_COLLECT = "upi_collect", "UPI collect request"
    NETWORK = "network", "Clearing network"


class BankBranch(models.Model):
    """One row of the IFSC directory: a branch of this bank or of another."""

    ifsc = models.CharField("IFSC", max_length=11, unique=True)
    bank_name = models.CharField(max_length=100)
    branch_name = models.CharField(max_length=100)
    city = models.CharField(max_length=60, blank=True)
    rtgs_enabled = models.BooleanField("RTGS", default=True)
    neft_enabled = models.BooleanField("NEFT", default=True)
    imps_enabled = models.BooleanField("IMPS", default=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["ifsc"]
        verbose_name = "IFSC directory entry"
        verbose_name_plural = "IFSC directory"

    def __str__(self):
        return f"{self.ifsc} {self.bank_name}, {self.branch_name}"

    @property
    def is_own_bank(self):
        return self.ifsc[:4] == settings.CBS_IFSC_PREFIX

    def accepts(self, rail):
        return {"NEFT": self.neft_enabled, "RTGS": self.rtgs_enabled, "IMPS": self.imps_enabled}.get(rail, True)


class PayeeKind(models.TextChoices):
    INTERNAL = "internal", "Account in this bank"
    EXTERNAL = "external", "Account at another bank"
    VPA = "vpa", "UPI ID"


class PayeeQuerySet(models.QuerySet):
    def active(self):
        return self.filter(deleted_at__isnull=True)

    def for_customer(self, customer):
        return self.filter(customer=customer)


class Payee(models.Model):
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="payees")
    kind = models.CharField(max_length=10, choices=PayeeKind.choices)
    nickname = models.CharField(max_length=40, blank=True)
    name = models.CharField("beneficiary name", max_length=140)
    account_number = models.CharField(max_length=20, blank=True)
    ifsc = models.CharField("IFSC", max_length=11, blank=True)
    vpa = models.CharField("UPI ID", max_length=80, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = PayeeQuerySet.as_manager()

    class Meta:
        ordering = ["nickname", "name"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "account_number", "ifsc"], name="payee_unique_account",
                                    condition=Q(deleted_at__isnull=True) & ~Q(kind="vpa")),
            models.UniqueConstraint(fields=["customer", "vpa"], name="payee_unique_vpa",
                                    condition=Q(deleted_at__isnull=True, kind="vpa")),
            models.CheckConstraint(name="payee_has_destination", condition=(
                Q(kind="vpa", vpa__gt="") | Q(kind="internal", account_number__gt="")
                | Q(kind="external", account_number__gt="", ifsc__gt=""))),
        ]

    def __str__(self):
        return self.label

    @property
    def label(self):
        return self.nickname or self.name

    @property
    def destination(self):
        if self.kind == PayeeKind.VPA:
            return self.vpa
        if self.kind == PayeeKind.INTERNAL:
            return f"A/c {self.account_number}"
        return f"A/c {self.account_number}, {self.ifsc}"

    def cooling_ends_at(self):
        return self.created_at + settings.CBS_PAYEE_COOLING_PERIOD

    def is_cooling(self, now=None):
        return (now or timezone.now()) < self.cooling_ends_at()


class VirtualAddress(models.Model):
    """A customer's UPI ID on the bank's handle (name@cbsb), linked to one account."""

    address = models.CharField("UPI ID", max_length=80, unique=True)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="upi_ids")
    account = models.ForeignKey("deposits.DepositAccount", on_delete=models.PROTECT, related_name="upi_ids")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["address"]
        verbose_name = "UPI ID"

    def __str__(self):
        return self.address


class ChannelLimit(models.Model):
    """A per-customer daily limit on one rail for holders of a product (a product
    parameter): the total a customer may send on `rail` in one business day from
    accounts of `product`."""

    product = models.ForeignKey("deposits.Product", on_delete=models.CASCADE, related_name="payment_limits")
    rail = models.CharField(max_length=8, choices=Rail.choices)
    daily_limit = models.BigIntegerField(help_text="In paise.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["product", "rail"], name="channel_limit_unique"),
                       models.CheckConstraint(condition=Q(daily_limit__gt=0), name="channel_limit_positive")]

    def __str__(self):
        return f"{self.product.code} {self.rail}: {format_money(self.daily_limit)} a day"


class NeftBatchStatus(models.TextChoices):
    SETTLED = "settled", "Settled"


class NeftBatch(models.Model):
    """One of the 48 half-hourly NEFT settlement cycles of a day."""

    business_date = models.DateField()
    cycle = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=10, choices=NeftBatchStatus.choices, default=NeftBatchStatus.SETTLED)
    settled_at = models.DateTimeField(default=timezone.now)
    settled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    payments_count = models.PositiveIntegerField(default=0)
    settled_count = models.PositiveIntegerField(default=0)
    returned_count = models.PositiveIntegerField(default=0)
    settled_amount = models.BigIntegerField(default=0)
    returned_amount = models.BigIntegerField(default=0)
    settle_entry = models.ForeignKey("ledger.JournalEntry", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")

    class Meta:
        ordering = ["-business_date", "-cycle"]
        constraints = [
            models.UniqueConstraint(fields=["business_date", "cycle"], name="neft_batch_unique_cycle"),
            models.CheckConstraint(condition=Q(cycle__gte=1, cycle__lte=48), name="neft_batch_cycle_range"),
        ]

    def __str__(self):
        return self.name

    @property
    def name(self):
        return f"NEFT {self.business_date:%d-%m-%Y} cycle {self.cycle}"


class PaymentQuerySet(models.QuerySet):
    def for_customer(self, customer):
        return self.filter(customer=customer)

    def awaiting_neft_batch(self):
        return self.filter(rail=Rail.NEFT, direction=Direction.OUTWARD, status=PaymentStatus.SENT,
                           batch__isnull=True)


class Payment(models.Model):
    number = models.CharField(max_length=20, unique=True)
    direction = models.CharField(max_length=10, choices=Direction.choices)
    rail = models.CharField(max_length=8, choices=Rail.choices)
    origin = models.CharField(max_length=24, choices=Origin.choices)
    status = models.CharField(max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.INITIATED)
    amount = models.BigIntegerField(help_text="In paise.")
    currency = models.CharField(max_length=3, default="INR")
    reference = models.CharField("UTR / RRN", max_length=22, unique=True, null=True, blank=True)
    idempotency_key = models.CharField(max_length=120, unique=True)
    content_hash = models.CharField(max_length=32, blank=True, help_text="What the idempotency key was used for.")
    business_date = models.DateField()
    narration = models.CharField("remarks", max_length=140, blank=True)

    # The customer whose money this is (the remitter outward, the beneficiary inward).
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="payments")
    debit_account = models.ForeignKey("deposits.DepositAccount", on_delete=models.PROTECT, null=True, blank=True,
                                      related_name="payments_out")
    credit_account = models.ForeignKey("deposits.DepositAccount", on_delete=models.PROTECT, null=True, blank=True,
                                       related_name="payments_in")
    payee = models.ForeignKey(Payee, on_delete=models.PROTECT, null=True, blank=True, related_name="payments")

    # The other side, as the network sees it.
    beneficiary_name = models.CharField(max_length=140, blank=True)
    beneficiary_account = models.CharField(max_length=20, blank=True)
    beneficiary_ifsc = models.CharField(max_length=11, blank=True)
    beneficiary_vpa = models.CharField(max_length=80, blank=True)
    remitter_name = models.CharField(max_length=140, blank=True)
    remitter_account = models.CharField(max_length=20, blank=True)
    remitter_ifsc = models.CharField(max_length=11, blank=True)
    remitter_vpa = models.CharField(max_length=80, blank=True)
    remitter_mobile = models.CharField(max_length=15, blank=True)
    remitter_address = models.CharField(max_length=200, blank=True)
    # Income-tax rule 114B: a walk-in remitter paying ₹50,000 or more in cash gives a PAN.
    remitter_pan = EncryptedTextField(blank=True)
    paid_in_cash = models.BooleanField(default=False)

    batch = models.ForeignKey(NeftBatch, on_delete=models.PROTECT, null=True, blank=True, related_name="payments")
    return_code = models.CharField(max_length=8, blank=True)
    return_reason = models.CharField(max_length=200, blank=True)

    debit_entry = models.ForeignKey("ledger.JournalEntry", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    settle_entry = models.ForeignKey("ledger.JournalEntry", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")
    return_entry = models.ForeignKey("ledger.JournalEntry", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")
    approval = models.ForeignKey("approvals.ApprovalRequest", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+")

    initiated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")
    initiated_at = models.DateTimeField(default=timezone.now)
    debited_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    returned_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    reversed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = PaymentQuerySet.as_manager()

    # Which status may follow which (django-oscar's Order.pipeline).
    pipeline = {
        # Within the bank, and an inbound payment credited, settle at once; an
        # inbound payment that cannot be credited goes straight back to the sender.
        PaymentStatus.INITIATED: (PaymentStatus.AWAITING_APPROVAL, PaymentStatus.DEBITED, PaymentStatus.SETTLED,
                                  PaymentStatus.RETURNED),
        PaymentStatus.AWAITING_APPROVAL: (PaymentStatus.DEBITED, PaymentStatus.REJECTED),
        PaymentStatus.DEBITED: (PaymentStatus.SENT,),
        PaymentStatus.SENT: (PaymentStatus.SETTLED, PaymentStatus.RETURNED, PaymentStatus.FAILED),
        # The beneficiary bank may still return a payment after settlement.
        PaymentStatus.SETTLED: (PaymentStatus.RETURNED,),
        PaymentStatus.RETURNED: (PaymentStatus.REVERSED,),
        PaymentStatus.FAILED: (PaymentStatus.REVERSED,),
        PaymentStatus.REVERSED: (),
        PaymentStatus.REJECTED: (),
    }
    # The field that keeps the moment a payment reached each status.
    stamps = {PaymentStatus.DEBITED: "debited_at", PaymentStatus.SENT: "sent_at",
              PaymentStatus.SETTLED: "settled_at", PaymentStatus.RETURNED: "returned_at",
              PaymentStatus.FAILED: "failed_at", PaymentStatus.REVERSED: "reversed_at"}

    class Meta:
        ordering = ["-initiated_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "-initiated_at"], name="payment_customer_recent"),
            models.Index(fields=["status", "rail"], name="payment_status_rail"),
            models.Index(fields=["payee", "initiated_at"], name="payment_payee_recent"),
            models.Index(fields=["debit_account", "business_date", "rail"], name="payment_daily_use"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(condition=~Q(rail="RTGS") | Q(amount__gte=2_00_000_00) | ~Q(direction="outward"),
                                   name="payment_rtgs_minimum"),
            models.CheckConstraint(condition=~Q(rail="IMPS") | Q(amount__lte=5_00_000_00), name="payment_imps_maximum"),
            models.CheckConstraint(condition=~Q(rail="UPI") | Q(amount__lte=1_00_000_00), name="payment_upi_maximum"),
        ]

    def __str__(self):
        return f"{self.number} {self.rail} {format_money(self.amount)}"

    @property
    def is_final(self):
        return self.status in FINAL_STATUSES

    @classmethod
    def sources_of(cls, status):
        """The statuses from which a payment may move to `status`."""
        return tuple(source for source, targets in cls.pipeline.items() if status in targets)

    def move_to(self, status, *, note="", at=None, fields=()):
        """Move this payment (locked by the caller) to `status`: stamp the moment on
        the row, save it with `fields`, and add the step to its timeline. Returns the
        status it left; refuses a move the pipeline does not allow. The caller
        writes the audit event."""
        before, event = self.advance(status, note=note, at=at)
        stamp = self.stamps.get(status)
        self.save(update_fields=["status", "updated_at", *([stamp] if stamp else []), *fields])
        event.save(force_insert=True)
        return before

    move_to.alters_data = True

    def advance(self, status, *, note="", at=None):
        """`move_to` in memory only: the payment moved to `status` and stamped, and its
        timeline step unsaved, for a caller that writes both itself (a payment not yet
        written, which is written with its posting). Returns the status it left and the
        step; refuses a move the pipeline does not allow."""
        if status not in self.pipeline[self.status]:
            raise ValidationFailed(f"Payment {self.number} is {self.get_status_display().lower()}; it cannot become "
                                   f"{PaymentStatus(status).label.lower()}.")
        at = at or timezone.now()
        before, self.status, self.updated_at = self.status, status, at
        stamp = self.stamps.get(status)
        if stamp:
            setattr(self, stamp, at)
        return before, PaymentEvent(payment=self, status=status, at=at, note=note[:200])

    advance.alters_data = True

    @property
    def counterparty(self):
        if self.direction == Direction.INWARD:
            return self.remitter_name or self.remitter_vpa
        return self.beneficiary_name or self.beneficiary_vpa

    @property
    def counterparty_detail(self):
        if self.direction == Direction.INWARD:
            return self.remitter_vpa or " ".join(filter(None, [self.remitter_account, self.remitter_ifsc]))
        return self.beneficiary_vpa or " ".join(filter(None, [self.beneficiary_account, self.beneficiary_ifsc]))

    @property
    def status_phrase(self):
        """The status in the customer's words."""
        if self.status == PaymentStatus.REVERSED and self.return_reason:
            return f"Returned: {self.return_reason}. The money is back in your account."
        return {
            PaymentStatus.INITIATED: "Being processed",
            PaymentStatus.AWAITING_APPROVAL: "Waiting for the branch to approve",
            PaymentStatus.DEBITED: "Debited, being sent",
            PaymentStatus.SENT: "Sent, waiting for the network to settle",
            PaymentStatus.SETTLED: "Settled: the beneficiary has the money",
            PaymentStatus.RETURNED: f"Returned: {self.return_reason}",
            PaymentStatus.FAILED: f"Failed: {self.return_reason}",
            PaymentStatus.REVERSED: "Reversed: the money is back in your account",
            PaymentStatus.REJECTED: f"Not approved: {self.return_reason}",
        }[self.status]


class PaymentEvent(models.Model):
    """One timestamped step in a payment's life, as the customer's timeline shows it."""

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(max_length=20, choices=PaymentStatus.choices)
    at = models.DateTimeField(default=timezone.now)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.payment_id} {self.status} {self.at:%Y-%m-%d %H:%M:%S}"


class CollectStatus(models.TextChoices):
    PENDING = "pending", "Waiting for you"
    APPROVED = "approved", "Paid"
    DECLINED = "declined", "Declined"
    EXPIRED = "expired", "Expired"


class CollectRequestQuerySet(models.QuerySet):
    def pending(self, now=None):
        return self.filter(status=CollectStatus.PENDING, expires_at__gt=now or timezone.now())

    def for_customer(self, customer):
        return self.filter(payer__customer=customer)


class CollectRequest(models.Model):
    """A merchant's request that one of our customers pay it through UPI."""

    payer = models.ForeignKey(VirtualAddress, on_delete=models.PROTECT, related_name="collect_requests")
    merchant_vpa = models.CharField(max_length=80)
    merchant_name = models.CharField(max_length=140)
    amount = models.BigIntegerField(help_text="In paise.")
    note = models.CharField(max_length=140, blank=True)
    reference = models.CharField(max_length=35, unique=True)
    status = models.CharField(max_length=10, choices=CollectStatus.choices, default=CollectStatus.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="collect")

    objects = CollectRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0) & Q(amount__lte=1_00_000_00),
                                              name="collect_amount_range")]

    def __str__(self):
        return f"{self.merchant_name} asks {format_money(self.amount)} of {self.payer}"

    def is_expired(self, now=None):
        return self.status == CollectStatus.EXPIRED or (
            self.status == CollectStatus.PENDING and self.expires_at <= (now or timezone.now()))


class Frequency(models.TextChoices):
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"


class InstructionStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    ENDED = "ended", "Ended"
    CANCELLED = "cancelled", "Cancelled"


class StandingInstructionQuerySet(models.QuerySet):
    def due(self, date):
        return self.filter(status=InstructionStatus.ACTIVE, next_run_on__lte=date)

    def for_customer(self, customer):
        return self.filter(customer=customer)


class StandingInstruction(models.Model):
    """A fixed amount paid from an account on a schedule, to a payee or to another
    of the customer's own accounts."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="standing_instructions")
    debit_account = models.ForeignKey("deposits.DepositAccount", on_delete=models.PROTECT, related_name="+")
    payee = models.ForeignKey(Payee, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    credit_account = models.ForeignKey("deposits.DepositAccount", on_delete=models.PROTECT, null=True, blank=True,
                                       related_name="+")
    rail = models.CharField(max_length=8, choices=Rail.choices, default=Rail.INTERNAL)
    amount = models.BigIntegerField(help_text="In paise.")
    frequency = models.CharField(max_length=10, choices=Frequency.choices)
    start_on = models.DateField()
    end_on = models.DateField(null=True, blank=True)
    next_run_on = models.DateField()
    failures = models.PositiveSmallIntegerField(default=0, help_text="Failed attempts at the current due date.")
    status = models.CharField(max_length=10, choices=InstructionStatus.choices, default=InstructionStatus.ACTIVE)
    narration = models.CharField(max_length=140, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    # The form's token: a double-pressed "Set up" makes one instruction, not two.
    idempotency_key = models.CharField(max_length=120, unique=True, null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")
    cancel_reason = models.CharField(max_length=200, blank=True)

    objects = StandingInstructionQuerySet.as_manager()

    class Meta:
        ordering = ["next_run_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="si_amount_positive"),
            models.CheckConstraint(condition=Q(payee__isnull=False) | Q(credit_account__isnull=False),
                                   name="si_has_destination"),
            models.CheckConstraint(condition=Q(end_on__isnull=True) | Q(end_on__gte=models.F("start_on")),
                                   name="si_ends_after_start"),
        ]

    def __str__(self):
        return f"SI {self.pk}: {format_money(self.amount)} {self.get_frequency_display().lower()}"

    @property
    def destination_label(self):
        if self.payee_id:
            return f"{self.payee.label} ({self.payee.destination})"
        return f"Own account {self.credit_account.number}"


class RunOutcome(models.TextChoices):
    PAID = "paid", "Paid"
    RETRY = "retry", "Insufficient funds, will retry"
    GAVE_UP = "gave_up", "Insufficient funds, skipped; customer notified"
    REFUSED = "refused", "Refused"


class StandingInstructionRun(models.Model):
    instruction = models.ForeignKey(StandingInstruction, on_delete=models.CASCADE, related_name="runs")
    run_on = models.DateField()
    due_on = models.DateField()
    outcome = models.CharField(max_length=10, choices=RunOutcome.choices)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    message = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-run_on", "-id"]
        constraints = [models.UniqueConstraint(fields=["instruction", "run_on"], name="si_run_once_a_day")]

    def __str__(self):
        return f"{self.instruction_id} {self.run_on} {self.outcome}"


class SettlementFile(models.Model):
    """A settlement file as the network sent it (CSV), one per cycle."""

    rail = models.CharField(max_length=8, choices=Rail.choices)
    name = models.CharField(max_length=80, unique=True)
    business_date = models.DateField()
    batch = models.OneToOneField(NeftBatch, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="settlement_file")
    content = models.TextField()
    received_at = models.DateTimeField(default=timezone.now)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self):
        return self.name


class Reconciliation(models.Model):
    file = models.ForeignKey(SettlementFile, on_delete=models.PROTECT, related_name="reconciliations")
    run_at = models.DateTimeField(default=timezone.now)
    run_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                               related_name="+")
    lines = models.PositiveIntegerField(default=0)
    matched = models.PositiveIntegerField(default=0)
    exceptions = models.PositiveIntegerField(default=0)
    malformed = models.JSONField(default=list, blank=True, help_text="[line number, what is wrong] per bad line.")

    class Meta:
        ordering = ["-run_at", "-id"]

    def __str__(self):
        return f"Reconciliation of {self.file.name}"


class ExceptionKind(models.TextChoices):
    MISSING_OURS = "missing_ours", "Missing on our side"
    MISSING_THEIRS = "missing_theirs", "Missing on theirs"
    AMOUNT_MISMATCH = "amount_mismatch", "Amount mismatch"
    STATUS_MISMATCH = "status_mismatch", "Status mismatch"


class ExceptionStatus(models.TextChoices):
    OPEN = "open", "Open"
    PENDING = "pending", "Resolution awaiting approval"
    RESOLVED = "resolved", "Resolved"


class Resolution(models.TextChoices):
    FORCE_SETTLE = "force_settle", "Force-settle"
    RETURN = "return", "Return to the customer"
    SUSPENSE = "suspense", "Write to suspense"


class ReconciliationException(models.Model):
    reconciliation = models.ForeignKey(Reconciliation, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=16, choices=ExceptionKind.choices)
    reference = models.CharField(max_length=22)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    line_number = models.PositiveIntegerField(null=True, blank=True)
    our_amount = models.BigIntegerField(null=True, blank=True)
    their_amount = models.BigIntegerField(null=True, blank=True)
    our_status = models.CharField(max_length=20, blank=True)
    their_status = models.CharField(max_length=20, blank=True)
    status = models.CharField(max_length=10, choices=ExceptionStatus.choices, default=ExceptionStatus.OPEN)
    resolution = models.CharField(max_length=16, choices=Resolution.choices, blank=True)
    approval = models.ForeignKey("approvals.ApprovalRequest", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+")
    entry = models.ForeignKey("ledger.JournalEntry", on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["status", "id"]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.reference}"


class ReferenceCounter(models.Model):
    """The last sequence number used for a rail's references on a day."""

    rail = models.CharField(max_length=8, choices=Rail.choices)
    date = models.DateField()
    last = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rail", "date"], name="reference_counter_unique")]

    def __str__(self):
        return f"{self.rail} {self.date} {self.last}"
