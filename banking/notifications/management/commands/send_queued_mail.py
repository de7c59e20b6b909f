from django.core.management.base import BaseCommand

from banking.notifications.actions import send_queued_mail


class Command(BaseCommand):
    help = "Send the queued emails whose next attempt is due (run every minute)."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=500, help="At most this many messages per run.")

    def handle(self, *args, limit, **options):
        sent, queued = send_queued_mail(limit=limit)
        self.stdout.write(f"Sent {sent} email(s); {queued} still queued.")
