"""The audit trail's background work (banking.core.jobs)."""

from banking.core import jobs

from .actions import seal_events


@jobs.periodic(cron="* * * * *", name="audit.seal")
def seal_audit_trail(*, timestamp):
    """Every minute: chain the newly committed events into the seal (`seal_audit`)."""
    return seal_events()
