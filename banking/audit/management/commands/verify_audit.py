import sys

from django.core.management.base import BaseCommand

from banking.audit.actions import seal_events, verify_trail
from banking.audit.models import AuditEvent, AuditSeal


class Command(BaseCommand):
    help = "Verify the audit trail; report the first altered, removed or reordered event and exit non-zero."

    def add_arguments(self, parser):
        parser.add_argument("--no-seal", action="store_true", help="Verify without sealing new events first.")

    def handle(self, *args, **options):
        if not options["no_seal"]:
            seal_events()
        finding = verify_trail()
        if finding:
            self.stderr.write(f"Audit trail FAILED verification: {finding}")
            sys.exit(1)
        head = AuditSeal.objects.order_by("-event_id").first()
        self.stdout.write(
            f"Audit trail verified: {AuditEvent.objects.count()} event(s), "
            f"{AuditSeal.objects.count()} sealed, head {head.chain_hash if head else '-'}"
        )
