from django.core.management.base import BaseCommand, CommandError

from banking.audit.context import audit_context
from banking.core.errors import BankingError
from banking.core.money import format_money
from banking.payments.reconciliation import run_neft_cycle


class Command(BaseCommand):
    help = "Settle the next NEFT cycle and reconcile its settlement file (run every half hour)."

    def handle(self, *args, **options):
        try:
            with audit_context(channel="batch", actor_username="run_neft_batch"):
                batch, reconciliation = run_neft_cycle(actor=None)
        except BankingError as error:
            raise CommandError(str(error)) from None
        if batch is None:
            self.stdout.write("No NEFT payment is waiting for a cycle.")
            return
        self.stdout.write(
            f"{batch.name}: {batch.settled_count} settled ({format_money(batch.settled_amount)}), "
            f"{batch.returned_count} returned ({format_money(batch.returned_amount)}). "
            f"Reconciliation: {reconciliation.matched} matched, {reconciliation.exceptions} exceptions, "
            f"{len(reconciliation.malformed)} malformed lines.")
