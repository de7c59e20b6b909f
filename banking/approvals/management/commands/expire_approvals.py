from django.core.management.base import BaseCommand

from banking.approvals.actions import expire_requests
from banking.audit.context import audit_context


class Command(BaseCommand):
    help = "Mark approval requests that waited past their expiry as expired (run every few minutes)."

    def handle(self, *args, **options):
        with audit_context(channel="batch", actor_username="expire_approvals"):
            count = expire_requests()
        self.stdout.write(f"Expired {count} approval request(s).")
