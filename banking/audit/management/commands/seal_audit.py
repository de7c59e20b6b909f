from django.core.management.base import BaseCommand

from banking.audit.actions import seal_events


class Command(BaseCommand):
    help = "Chain every committed audit event into the tamper-evident seal (run every minute)."

    def handle(self, *args, **options):
        count = seal_events()
        self.stdout.write(f"Sealed {count} audit event(s).")
