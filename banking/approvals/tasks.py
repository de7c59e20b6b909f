"""The maker-checker queue's background work (banking.core.jobs)."""

from banking.audit.context import audit_context
from banking.core import jobs

from .actions import expire_requests


@jobs.periodic(cron="*/5 * * * *", name="approvals.expire")
def expire_approvals(*, timestamp):
    """Expire the approval requests that waited past their expiry (as `expire_approvals`)."""
    with audit_context(channel="batch", actor_username="expire_approvals"):
        return expire_requests()
