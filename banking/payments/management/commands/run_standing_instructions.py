import datetime
from collections import Counter

from django.core.management.base import BaseCommand, CommandError

from banking.audit.context import audit_context
from banking.core.money import format_money
from banking.payments.models import RunOutcome
from banking.payments.standing import run_standing_instructions


class Command(BaseCommand):
    help = ("Pay the standing instructions due on or before a date (the business date by default). "
            "Running it twice for one date pays nothing twice.")

    def add_arguments(self, parser):
        parser.add_argument("--date", help="The run date, YYYY-MM-DD (default: the business date).")

    def handle(self, *args, date=None, **options):
        if date:
            try:
                date = datetime.date.fromisoformat(date)
            except ValueError:
                raise CommandError(f"{date} is not a date: give it as YYYY-MM-DD.") from None
        with audit_context(channel="batch", actor_username="run_standing_instructions"):
            runs = run_standing_instructions(date=date)
        counts = Counter(run.outcome for run in runs)
        paid = sum(run.instruction.amount for run in runs if run.outcome == RunOutcome.PAID)
        self.stdout.write(f"Standing instructions run: {len(runs)} due; " + ", ".join(
            f"{counts.get(outcome, 0)} {label.lower()}" for outcome, label in RunOutcome.choices)
            + f"; paid {format_money(paid)}.")
