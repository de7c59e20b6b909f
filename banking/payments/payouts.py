"""Payouts: a corporate customer pays a beneficiary named in a partner's payout
batch (banking/partners) — an account number, an IFSC and a name, with no payee set
up first. Each is an ordinary payment: the same rail rules, daily limits, freezes and
balance checks as `make_payment`, the same money flow, the same events.

A payout has no new-payee cooling period: the batch it belongs to was sent with the
customer's API key, bound by operations to that customer, and a batch above the
customer's threshold is authorised by the customer in internet banking first.

Locks: the Customer row, then (through post_entry) the ledger accounts.
Errors: ValidationFailed (code invalid_ifsc for an IFSC the directory does not
know), InvalidAmount, LimitExceeded, InsufficientFunds, AccountFrozen, AccountClosed,
IdempotencyConflict, NotPermitted.
"""

from django.db import transaction

from banking.core.errors import NotPermitted, ValidationFailed
from banking.core.identifiers import is_valid_ifsc, normalise
from banking.customers.models import Customer
from banking.deposits.models import DepositAccount
from banking.teller.lookup import refuse

from .actions import (
    EXTERNAL_RAILS,
    Destination,
    _content,
    _create,
    _debit,
    _existing_payment,
    _internal_destination,
    _send,
    business_date,
    check_amount,
    check_limits,
    check_rail,
)
from .directory import find_branch
from .models import Origin, PaymentStatus, Rail

OWN_IFSC_PREFIX = "CBSB"


def payout_destination(*, rail, account_number, ifsc, name):
    """The checked destination of one payout: an account of this bank (paid within
    the bank whatever rail was asked) or an account at another bank on NEFT, RTGS or
    IMPS."""
    ifsc = normalise(ifsc)
    account_number = str(account_number or "").strip()
    if not is_valid_ifsc(ifsc):
        raise ValidationFailed(f"{ifsc or 'The IFSC'} is not a valid IFSC: 4 letters, a zero, then 6 letters or "
                               "digits.", code="invalid_ifsc")
    if not account_number.isdigit() or not 6 <= len(account_number) <= 18:
        raise ValidationFailed("An account number is 6 to 18 digits.", code="invalid_account")
    if ifsc.startswith(OWN_IFSC_PREFIX):
        account = DepositAccount.objects.select_related("customer", "product", "branch").filter(
            number=account_number).first()
        if account is None:
            raise ValidationFailed(f"Account {account_number} does not exist at this bank.", code="invalid_account")
        return _internal_destination(account, Rail.INTERNAL, name)
    if rail not in EXTERNAL_RAILS:
        raise ValidationFailed("Choose NEFT, RTGS or IMPS for an account at another bank.", code="invalid_rail")
    try:
        branch = find_branch(ifsc)
    except ValidationFailed as error:
        raise ValidationFailed(str(error), code="invalid_ifsc") from None
    if not branch.accepts(rail):
        raise ValidationFailed(f"{branch.bank_name}, {branch.branch_name} does not take {rail} payments.",
                               code="invalid_rail")
    return Destination(rail=rail, name=name, account=account_number, ifsc=ifsc)


@transaction.atomic
def make_payout_payment(*, actor, customer, debit_account, amount, idempotency_key, rail, account_number, ifsc,
                        name, narration=""):
    """Pay `amount` paise from `debit_account` of `customer` to `account_number` at
    `ifsc` in `name`. Returns the payment (settled, sent, or reversed when the network
    refused it at once); refuses as `make_payment` does."""
    if not idempotency_key:
        raise ValidationFailed("A payout needs its own idempotency key.")
    amount = check_amount(amount)
    name = " ".join(str(name or "").split())[:100]
    if not name:
        raise ValidationFailed("Give the beneficiary's name.")
    narration = " ".join(str(narration or "").split())[:140]
    Customer.objects.select_for_update().filter(pk=customer.pk).first()
    if not DepositAccount.objects.for_customer(customer).filter(pk=debit_account.pk).exists():
        raise NotPermitted("A payout is paid only from the customer's own account.")
    content = _content(account=debit_account.pk, amount=amount, rail=rail, to=account_number, ifsc=normalise(ifsc),
                       name=name)
    existing = _existing_payment(idempotency_key, content)
    if existing is not None:
        return existing
    destination = payout_destination(rail=rail, account_number=account_number, ifsc=ifsc, name=name)
    if destination.credit_account is not None and destination.credit_account.pk == debit_account.pk:
        raise ValidationFailed("A payout cannot go to the account it is paid from.", code="invalid_account")
    refuse(debit_account, debit=True)
    check_rail(destination.rail, amount)
    date = business_date()
    check_limits(customer, debit_account, destination, amount, date)
    payment = _create(actor=actor, customer=customer, debit_account=debit_account, destination=destination,
                      amount=amount, key=idempotency_key, content=content, origin=Origin.INTERNET,
                      narration=narration, date=date)
    _debit(payment, actor=actor)
    if payment.status == PaymentStatus.DEBITED:
        _send(payment, actor=actor)
    return payment
