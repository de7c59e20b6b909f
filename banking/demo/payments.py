"""The demo bank's payments: Priya's payees and UPI ID, a few weeks of payments on
every rail (one NEFT returned by the beneficiary bank), money received from other
banks, a merchant's collect request waiting for her, and a standing instruction.

Everything goes through the payment actions, with fixed idempotency keys and
references, so a second `seed_demo` finds it all in place and adds nothing.
"""

from django.utils import timezone

from banking.customers.models import Customer
from banking.deposits.models import DepositAccount
from banking.payments.actions import (
    add_payee,
    create_vpa,
    make_payment,
    receive_collect_request,
    receive_inbound_payment,
)
from banking.payments.batches import settle_neft_batch
from banking.payments.models import CollectRequest, NeftBatch, Payee, PayeeKind, Rail, VirtualAddress

PAYEES = [
    {"kind": PayeeKind.EXTERNAL, "name": "Ravi Kumar", "nickname": "Ravi (landlord)",
     "account_number": "50100012345678", "ifsc": "HDFC0001234"},
    {"kind": PayeeKind.EXTERNAL, "name": "Sunrise Housing Society", "account_number": "37810000123456",
     "ifsc": "SBIN0000300"},
    {"kind": PayeeKind.EXTERNAL, "name": "Old Employer Ltd", "nickname": "Closed account",
     "account_number": "91100000000", "ifsc": "UTIB0000001"},
    {"kind": PayeeKind.VPA, "name": "Meera Iyer", "vpa": "meera.iyer@okicici"},
]


def _payee(customer, spec):
    existing = Payee.objects.active().filter(customer=customer, kind=spec["kind"],
                                             account_number=spec.get("account_number", ""),
                                             vpa=spec.get("vpa", "")).first()
    if existing:
        return existing
    payee = add_payee(actor=customer.user, customer=customer, **spec)
    # Added weeks ago: past its first-day cooling limit.
    Payee.objects.filter(pk=payee.pk).update(created_at=timezone.now() - timezone.timedelta(days=30))
    return Payee.objects.get(pk=payee.pk)


def seed_payments():
    customer = Customer.objects.filter(user__username="customer").select_related("user").first()
    if customer is None:
        return
    savings = DepositAccount.objects.for_customer(customer).filter(product__kind="savings").order_by("pk").first()
    if savings is None:
        return
    payees = [_payee(customer, spec) for spec in PAYEES]
    vpa = VirtualAddress.objects.filter(customer=customer).first() or create_vpa(
        actor=customer.user, customer=customer, account=savings, name="priya.sharma")

    def pay(n, amount, rail, **destination):
        make_payment(actor=customer.user, customer=customer, debit_account=savings, amount=amount,
                     idempotency_key=f"demo-payment-{customer.cif}-{n}", rail=rail, **destination)

    pay(1, 18_000_00, Rail.NEFT, payee=payees[0], narration="Rent")
    pay(2, 3_250_00, Rail.IMPS, payee=payees[1], narration="Maintenance")
    pay(3, 450_00, Rail.UPI, payee=payees[3], narration="Dinner")
    pay(4, 1_200_00, Rail.UPI, vpa="bigbasket@okaxis", narration="Groceries")
    pay(5, 5_000_00, Rail.NEFT, payee=payees[2], narration="Refund of advance")  # comes back: AC01
    if not NeftBatch.objects.exists():
        settle_neft_batch()
    pay(6, 2_500_00, Rail.NEFT, payee=payees[0], narration="Electricity share")  # waits for the next batch
    receive_inbound_payment(rail=Rail.NEFT, amount=12_500_00, reference="HDFCN26331000123", remitter_name="Anil Mehta",
                            remitter_account="50100099887766", remitter_ifsc="HDFC0000001",
                            beneficiary_account=savings.number, narration="Share of trip")
    receive_inbound_payment(rail=Rail.UPI, amount=640_00, reference="633112345678", remitter_name="Sneha Rao",
                            remitter_vpa="sneha.rao@okhdfc", beneficiary_vpa=vpa.address, narration="Movie tickets")
    if not CollectRequest.objects.filter(reference="DEMO-COLLECT-1").exists():
        receive_collect_request(payer_vpa=vpa.address, merchant_vpa="tatapower@okicici",
                                merchant_name="Tata Power Mumbai", amount=1_845_00, is_merchant=True,
                                reference="DEMO-COLLECT-1", note="Electricity bill, November",
                                expires_at=timezone.now() + timezone.timedelta(days=7))
