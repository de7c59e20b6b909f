from decimal import Decimal, InvalidOperation

from django.core.management.base import BaseCommand, CommandError

from banking.audit.context import audit_context
from banking.core.errors import BankingError
from banking.core.money import format_money
from banking.payments.clearing import simulate_inbound_payment
from banking.payments.models import Rail


def paise(text):
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise CommandError(f"{text!r} is not an amount in rupees, as 1500.50.") from None
    if amount != amount.quantize(Decimal("0.01")) or amount <= 0:
        raise CommandError("The amount is rupees above zero with at most two decimals.")
    return int(amount * 100)


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
