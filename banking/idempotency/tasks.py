"""Background work of the idempotency table (banking.core.jobs): every hour, the
answers older than CBS_IDEMPOTENCY_TTL (24 hours) are deleted."""

from banking.core import jobs

from .models import IdempotentRequest


@jobs.periodic(cron="17 * * * *", name="idempotency.purge_expired")
def purge_expired(*, timestamp):
    """Delete the kept answers whose keys have expired; returns how many."""
    return IdempotentRequest.objects.expired().delete()[0]
