from django.core.management.base import BaseCommand

from banking.audit.context import audit_context
from banking.payments.actions import expire_collect_requests


class Command(BaseCommand):
    help = "Mark UPI collect requests that waited past their expiry as expired (run every few minutes)."

    def handle(self, *args, **options):
        with audit_context(channel="batch", actor_username="expire_collect_requests"):
            count = expire_collect_requests()
        self.stdout.write(f"Expired {count} collect request(s).")
