"""Partners of the bank's API: a corporate customer's ERP, or a fintech acting for a
corporate customer with its mandate.

Design overview
- A Partner is bound to one corporate customer, and pays out from one of that
  customer's accounts. Everything a partner owns (keys, webhook endpoints, events,
  payout batches) hangs from it, so the partner API's queries start from the partner
  and another partner's id is simply not found.
- An ApiKey is `<prefix>.<secret>`. Only the SHA-256 of the secret is stored: the
  secret is 256 random bits, so a fast hash is as strong as a slow one and keeps the
  check cheap on every request. The secret is shown once, to the member of operations
  who asked for the key; the key works only after another member approves it
  (maker-checker), so the maker alone cannot use it.
- Rotation issues a successor; once approved, the old key keeps working until its
  grace period ends (`expires_at`), so a partner can switch without an outage.
- Webhook endpoints keep their signing secret encrypted (it must be read back to sign).
  An event has one id for life; each endpoint gets one delivery per event, tried with
  exponential waits for 24 hours, every attempt recorded.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from banking.core.crypto import EncryptedTextField

SCOPES = (
    ("accounts:read", "Read the customer's accounts and transactions"),
    ("payouts:write", "Send payouts"),
    ("webhooks:manage", "Manage webhook endpoints"),
)
SCOPE_NAMES = tuple(name for name, _label in SCOPES)
EVENT_TYPES = ("payment.settled", "payment.returned", "payout.item_failed")


class Partner(models.Model):
    name = models.CharField(max_length=100)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="partners")
    payout_account = models.ForeignKey("deposits.DepositAccount", on_delete=models.PROTECT, null=True, blank=True,
                                       related_name="+")
    # A payout batch above this total waits for the customer's authoriser in internet banking.
    authorisation_threshold = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        permissions = [("manage_partners", "Can issue, rotate and revoke partner API keys and replay webhooks")]
        constraints = [models.CheckConstraint(condition=Q(authorisation_threshold__gte=0),
                                              name="partner_threshold_not_negative")]

    def __str__(self):
        return self.name


class KeyStatus(models.TextChoices):
    PENDING = "pending", "Waiting for approval"
    ACTIVE = "active", "Active"
    REVOKED = "revoked", "Revoked"
    REJECTED = "rejected", "Rejected"


class ApiKeyQuerySet(models.QuerySet):
    def usable(self, now=None):
        now = now or timezone.now()
        return self.filter(status=KeyStatus.ACTIVE).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))


class ApiKey(models.Model):
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="keys")
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    allowed_networks = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=KeyStatus.choices, default=KeyStatus.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    activated_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    replaces = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="successors")
    approval = models.ForeignKey("approvals.ApprovalRequest", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+")
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(status__in=KeyStatus.values), name="api_key_status_valid")]

    def __str__(self):
        return f"{self.prefix} ({self.partner})"

    def is_usable(self, now=None):
        now = now or timezone.now()
        return self.status == KeyStatus.ACTIVE and (self.expires_at is None or self.expires_at > now)


class WebhookEndpoint(models.Model):
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="webhooks")
    url = models.URLField(max_length=500)
    events = models.JSONField(default=list)
    secret = EncryptedTextField()
    created_at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return self.url


class WebhookEvent(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="events")
    type = models.CharField(max_length=40)
    created_at = models.DateTimeField(default=timezone.now)
    data = models.JSONField(default=dict)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.type} {self.id}"

    @property
    def public_id(self):
        return f"evt_{self.id.hex}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Waiting"
    DELIVERED = "delivered", "Delivered"
    GAVE_UP = "gave_up", "Given up after 24 hours"


class WebhookDelivery(models.Model):
    event = models.ForeignKey(WebhookEvent, on_delete=models.PROTECT, related_name="deliveries")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.PROTECT, related_name="deliveries")
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["event", "endpoint"], name="one_delivery_per_endpoint")]

    def __str__(self):
        return f"delivery {self.pk} of {self.event_id}"


class DeliveryAttempt(models.Model):
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.PROTECT, related_name="attempt_log")
    number = models.PositiveIntegerField()
    at = models.DateTimeField(default=timezone.now)
    signed_at = models.BigIntegerField()
    response_status = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    succeeded = models.BooleanField(default=False)
    replay_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+")

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"attempt {self.number} of delivery {self.delivery_id}"


class BatchStatus(models.TextChoices):
    AWAITING_AUTHORISATION = "awaiting_authorisation", "Waiting for the customer's authoriser"
    PROCESSING = "processing", "Processing"
    COMPLETED = "completed", "Completed"
    DECLINED = "declined", "Declined by the customer"


class PayoutBatch(models.Model):
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="batches")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    idempotency_key = models.CharField(max_length=64)
    request_hash = models.CharField(max_length=64)
    status = models.CharField(max_length=24, choices=BatchStatus.choices)
    total = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    response = models.JSONField(default=dict)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "idempotency_key"], name="one_batch_per_partner_key"),
            models.CheckConstraint(condition=Q(status__in=BatchStatus.values), name="payout_batch_status_valid"),
        ]

    def __str__(self):
        return str(self.public_id)


class ItemStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    SETTLED = "settled", "Settled"
    RETURNED = "returned", "Returned"
    FAILED = "failed", "Failed"
    DECLINED = "declined", "Declined"


class PayoutItem(models.Model):
    batch = models.ForeignKey(PayoutBatch, on_delete=models.PROTECT, related_name="items")
    reference = models.CharField(max_length=40)
    to_account = models.CharField(max_length=34)
    ifsc = models.CharField(max_length=11)
    name = models.CharField(max_length=100)
    amount = models.BigIntegerField()
    rail = models.CharField(max_length=8)
    status = models.CharField(max_length=10, choices=ItemStatus.choices, default=ItemStatus.QUEUED)
    payment = models.OneToOneField("payments.Payment", on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="payout_item")
    code = models.CharField(max_length=40, blank=True)
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "reference"], name="payout_reference_once_per_batch"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payout_item_amount_positive"),
        ]

    def __str__(self):
        return self.reference
