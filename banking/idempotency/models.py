"""The answers kept for API requests that carried an `Idempotency-Key`.

Design overview
- One row per (owner, key): `owner` names who sent the request ("user:<id>" for a
  customer's token, "partner:<id>" for an API key), so two clients' keys never meet.
- The row is written in the same transaction as the work the request did (the payment),
  with the answer that was sent: a request that dies before its commit leaves nothing,
  and one that dies after it left both the payment and its answer, which a retry replays.
- While a request runs, a transaction-scoped advisory lock on (owner, key) is held;
  a second request with the same key that finds it taken answers 409 at once.
- Keys live `CBS_IDEMPOTENCY_TTL` (24 hours); an older row is deleted when its key comes
  back, and the hourly job `idempotency.purge_expired` (tasks.py) removes the rest.
- A request claims its key in one statement, the database function
  `cbs_claim_idempotency_key` (sql/claim.sql): the lock, the expired answer deleted,
  the kept answer read after the lock.
"""

from django.db import models


def expires_before(now=None):
    """Answers written before this moment are past CBS_IDEMPOTENCY_TTL: their keys may
    be used again (the purge job's queryset and the claim's function both ask here)."""
    from django.conf import settings
    from django.utils import timezone

    return (now or timezone.now()) - settings.CBS_IDEMPOTENCY_TTL


class IdempotentRequestQuerySet(models.QuerySet):
    def expired(self, now=None):
        """Answers older than CBS_IDEMPOTENCY_TTL: their keys may be used again."""
        return self.filter(created_at__lt=expires_before(now))


class IdempotentRequest(models.Model):
    owner = models.CharField(max_length=40)
    key = models.CharField(max_length=64)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    body = models.JSONField()
    created_at = models.DateTimeField(db_default=models.functions.Now())

    objects = IdempotentRequestQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "key"], name="idempotency_owner_key_unique")]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created_idx")]

    def __str__(self):
        return f"{self.owner} {self.key} → {self.status_code}"
