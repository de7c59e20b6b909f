"""The audit trail's background work (banking.core.jobs)."""

from banking.core import jobs

from .actions import seal_events


@jobs.periodic(cron="* * * * *", name="audit.seal")
def seal_audit_trail(*, timestamp):
    """Seal the newly committed audit events into the hash chain (as `seal_audit`)."""
    return seal_events()
