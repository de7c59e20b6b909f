from django.core.management.base import BaseCommand, CommandError

from banking.audit.context import audit_context
from banking.core.errors import BankingError, InvalidAmount
from banking.core.money import Money, format_money
from banking.payments.clearing import simulate_inbound_payment
from banking.payments.models import Rail


def paise(text):
    """Rupees as typed on the command line, read by the bank's one rule (Money.parse)."""
    try:
        amount = Money.parse(text).minor
    except InvalidAmount as error:
        raise CommandError(str(error)) from None
    if amount <= 0:
        raise CommandError("Enter an amount above zero.")
    return amount


class Command(BaseCommand):
    help = "The clearing network credits one of our customers (an inbound NEFT, RTGS, IMPS or UPI payment)."

    def add_arguments(self, parser):
        parser.add_argument("--rail", choices=["NEFT", "RTGS", "IMPS", "UPI"], default="NEFT")
        parser.add_argument("--amount", required=True, help="in rupees, as 1500.50")
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--account", help="the beneficiary's account number")
        target.add_argument("--vpa", help="the beneficiary's UPI ID at this bank")
        parser.add_argument("--remitter", default="Anil Mehta", help="the sender's name")

    def handle(self, *args, rail, amount, account, vpa, remitter, **options):
        if vpa and rail != Rail.UPI:
            raise CommandError("A payment to a UPI ID arrives by UPI: use --rail UPI.")
        try:
            with audit_context(channel="batch", actor_username="simulate_inbound"):
                payment = simulate_inbound_payment(actor=None, rail=rail, amount=paise(amount), remitter_name=remitter,
                                                   beneficiary_account=account or "", beneficiary_vpa=vpa or "")
        except BankingError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"{payment.rail} {payment.reference}: {format_money(payment.amount)} from {remitter}, "
                          f"{payment.status_phrase.lower()}.")
