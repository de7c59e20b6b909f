"""Finding a customer's account at the counter, and whether it can take cash.

`look_up(number)` is what the teller's screens call as the account number is typed:
it checks the number's check digit before touching the database, then reads the
deposit account with its holders, its ledger balance and the holders' photographs
and specimen signatures, in a fixed number of queries.

`refusal(account, debit=...)` says, in the teller's words, why money cannot go
into (credit) or out of (debit) the account, or None. The posting action enforces
the same rules on the ledger account under its lock; this is the early word at the
counter, before the amount is typed:
    pending        refused both ways (the opening is not approved yet)
    active         both ways
    inoperative    credits only: withdrawals need the account reactivated first
    debit frozen   credits only
    frozen         refused both ways
    closed         refused both ways
Only savings and current accounts take cash over the counter; term deposits are
funded and paid out through the customer's savings or current account.
"""

import re
from dataclasses import dataclass, field

from django.apps import apps

from banking.core.errors import ValidationFailed
from banking.core.identifiers import normalise, verhoeff_valid
from banking.deposits.models import DepositAccount, DepositStatus

NUMBER_LENGTH = 15  # branch code (6), kind (2), serial (6), check digit (1)


@dataclass
class Holder:
    customer: object
    photo_id: int | None = None
    signature_id: int | None = None

    @property
    def name(self):
        return self.customer.display_name


@dataclass
class CounterAccount:
    account: DepositAccount
    holders: list = field(default_factory=list)

    @property
    def number(self):
        return self.account.number

    @property
    def primary(self):
        return self.holders[0]

    @property
    def names(self):
        return ", ".join(holder.name for holder in self.holders)

    @property
    def available(self):
        return self.account.available

    def refusal(self, *, debit):
        return refusal(self.account, debit=debit)


def check_number(text):
    """The account number as digits, or a refusal saying what is wrong with it."""
    number = normalise(text)
    if not number:
        raise ValidationFailed("Enter the account number.")
    if not number.isdigit():
        raise ValidationFailed("An account number has digits only.")
    if len(number) != NUMBER_LENGTH:
        raise ValidationFailed(f"An account number has {NUMBER_LENGTH} digits; this one has {len(number)}.")
    if not verhoeff_valid(number):
        raise ValidationFailed("This account number's check digit does not match: a digit is mistyped or two are "
                               "swapped. Check the number with the customer.")
    return number


def look_up(text, *, for_update=False):
    """The account behind the number typed, with its holders; refuses an unknown
    number or a wrong check digit. Three queries, whatever the account's history."""
    number = check_number(text)
    accounts = DepositAccount.objects.select_related("customer", "ledger_account", "product", "branch")
    if for_update:
        accounts = accounts.select_for_update(of=("self",))
    account = accounts.filter(number=number).first()
    if account is None:
        raise ValidationFailed(f"There is no account {number} at the bank.")
    customers = [account.customer] + [
        holder.customer for holder in account.holders.select_related("customer").order_by("position")
    ]
    holders = [Holder(customer) for customer in customers]
    _attach_specimens(holders)
    return CounterAccount(account=account, holders=holders)


def _attach_specimens(holders):
    """Each holder's photograph and specimen signature, when the KYC module keeps them."""
    try:
        document_model = apps.get_model("customers", "KycDocument")
    except LookupError:
        return
    by_customer = {holder.customer.pk: holder for holder in holders}
    for customer_id, kind, pk in document_model.objects.filter(
        customer_id__in=list(by_customer), kind__in=["photo", "signature"]
    ).values_list("customer_id", "kind", "pk"):
        setattr(by_customer[customer_id], "photo_id" if kind == "photo" else "signature_id", pk)


def refusal(account, *, debit):
    """Why money cannot go into (debit=False) or out of (debit=True) `account`, or None."""
    status = account.status
    number = account.number
    if status == DepositStatus.PENDING:
        return f"Account {number} is waiting for its opening to be approved; it cannot take money yet."
    if status == DepositStatus.CLOSED:
        return f"Account {number} is closed."
    if status == DepositStatus.FROZEN:
        return f"Account {number} is frozen: no money can go in or out."
    if not account.is_operative:
        return (f"Account {number} is a {account.product.name.lower()}: cash goes through the customer's savings "
                "or current account.")
    if debit and status == DepositStatus.DEBIT_FROZEN:
        return f"Account {number} has a debit freeze: money can be paid in, not taken out."
    if debit and status == DepositStatus.INOPERATIVE:
        return (f"Account {number} is inoperative: the branch must reactivate it (with fresh KYC where due) before "
                "money can be taken out.")
    return None


def credit_note(account):
    """What the teller should know about an account that takes a deposit."""
    if account.status == DepositStatus.DEBIT_FROZEN:
        return "Debit freeze: deposits are accepted, withdrawals are not."
    if account.status == DepositStatus.INOPERATIVE:
        return "Inoperative: a deposit is accepted; withdrawals need reactivation."
    return ""


MOBILE_RE = re.compile(r"^[6-9][0-9]{9}$")


def check_mobile(text):
    digits = re.sub(r"\D", "", str(text or ""))
    if len(digits) == 12 and digits.startswith("91"):
        digits = digits[2:]
    elif len(digits) == 11 and digits.startswith("0"):
        digits = digits[1:]
    if digits and not MOBILE_RE.match(digits):
        raise ValidationFailed("Enter the depositor's 10-digit mobile number, starting with 6, 7, 8 or 9.")
    return digits
