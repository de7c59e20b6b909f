from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from banking.audit.context import audit_context
from banking.core.errors import BankingError
from banking.payments.reconciliation import reconcile_file, upload_settlement_file


class Command(BaseCommand):
    help = "Receive a settlement file (CSV) from the network and reconcile it against our payments."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the settlement file, CSV with the network's header row")

    def handle(self, *args, file, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"There is no file {file}.")
        try:
            with audit_context(channel="batch", actor_username="reconcile_settlement"):
                received = upload_settlement_file(actor=None, name=path.name, text=path.read_bytes())
                reconciliation = reconcile_file(actor=None, settlement_file=received)
        except BankingError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"{received.name}: {reconciliation.lines} lines, {reconciliation.matched} matched, "
                          f"{reconciliation.exceptions} exceptions.")
        for number, problem in reconciliation.malformed:
            self.stdout.write(f"  line {number}: {problem}")
