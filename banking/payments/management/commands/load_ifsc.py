from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from banking.audit.context import audit_context
from banking.payments.directory import load_directory


class Command(BaseCommand):
    help = "Add or update IFSC directory entries from a CSV: ifsc,bank,branch,city[,neft,rtgs,imps]."

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, *args, file, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"There is no file {file}.")
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise CommandError(f"{file} is not a text file (CSV in UTF-8).") from None
        with audit_context(channel="batch", actor_username="load_ifsc"):
            added, updated, problems = load_directory(actor=None, text=text)
        self.stdout.write(f"IFSC directory: {added} added, {updated} updated, {len(problems)} lines skipped.")
        for number, problem in problems:
            self.stdout.write(f"  line {number}: {problem}")
