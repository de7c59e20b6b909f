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
from django.db import connection

from banking.core.db import execute_prepared
from banking.core.errors import AccountClosed, AccountFrozen, ValidationFailed
from banking.core.identifiers import normalise, verhoeff_valid
from banking.deposits.models import DepositAccount, DepositStatus, ModeOfOperation

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


def _document_model():
    try:
        return apps.get_model("customers", "KycDocument")
    except LookupError:  # the KYC module keeps no photographs or signatures
        return None


# The look-up runs as every account number is typed at every counter, so its one
# query is written out once (from the models' own fields) instead of being compiled
# by the ORM on each call; it reads what select_related would. A submitted deposit
# reads less (find_account): the account and its product.
_JOINED = (("customer", "c", "a.customer_id", "JOIN"), ("ledger_account", "l", "a.ledger_account_id", "LEFT JOIN"),
           ("product", "p", "a.product_id", "JOIN"), ("branch", "b", "a.branch_id", "JOIN"))
_PRODUCT = (("product", "p", "a.product_id", "JOIN"),)
_SQL = {}


def _models(joined):
    related = [(name, DepositAccount._meta.get_field(name).related_model, alias, on, join)
               for name, alias, on, join in joined]
    return [(None, DepositAccount, "a", None, None), *related]


def _look_up_sql(joined, documents):
    key = (joined, documents is not None)
    if key not in _SQL:
        columns = [f"{alias}.{field.column}" for _, model, alias, _, _ in _models(joined)
                   for field in model._meta.concrete_fields]
        joins = [f"{join} {model._meta.db_table} {alias} ON {alias}.id = {on}"
                 for _, model, alias, on, join in _models(joined)[1:]]
        if documents is not None:
            table = documents._meta.db_table
            for kind in ("photo", "signature"):
                columns.append(f"(SELECT d.id FROM {table} d WHERE d.customer_id = a.customer_id"  # noqa: S608
                               f" AND d.kind = '{kind}' ORDER BY d.id DESC LIMIT 1)")
        _SQL[key] = (f"SELECT {', '.join(columns)} FROM {DepositAccount._meta.db_table} a "  # noqa: S608 from models
                     f"{' '.join(joins)} WHERE a.number = %s")
    return _SQL[key]


def _read(number, joined, documents=None):
    """The deposit account numbered `number` with the `joined` rows set on it, and
    the row's remaining columns (the specimens' ids, when `documents` is given)."""
    rows = execute_prepared(_look_up_sql(joined, documents), [number])
    if not rows:
        raise ValidationFailed(f"There is no account {number} at the bank.")
    row, objects, start = rows[0], {}, 0
    for name, model, _, _, _ in _models(joined):
        width = len(model._meta.concrete_fields)
        values = row[start:start + width]
        start += width
        objects[name] = None if values[0] is None else _instance(model, values)
    account = objects.pop(None)
    for name, instance in objects.items():
        setattr(account, name, instance)
    return account, row[start:]


_CONVERTERS = {}


def _converters(model):
    """The model's field names, and the position, column and database converters of
    each field that has any (on PostgreSQL a deposit account has none), worked out
    once per model."""
    if model not in _CONVERTERS:
        converting = []
        for position, model_field in enumerate(model._meta.concrete_fields):
            column = model_field.get_col(model._meta.db_table)
            converters = [*connection.ops.get_db_converters(column), *model_field.get_db_converters(connection)]
            if converters:
                converting.append((position, column, converters))
        _CONVERTERS[model] = ([model_field.attname for model_field in model._meta.concrete_fields], converting)
    return _CONVERTERS[model]


def _instance(model, values):
    """A model instance from raw column values, through each field's database converters."""
    attnames, converting = _converters(model)
    if converting:
        values = list(values)
        for position, column, converters in converting:
            for converter in converters:
                values[position] = converter(values[position], column, connection)
    return model.from_db(connection.alias, attnames, values)


def look_up(text, *, specimens=True):
    """The account behind the number typed, with its holders; refuses an unknown
    number or a wrong check digit. One query for an account with one holder (its
    photograph and signature come in the same query), three for a joint account,
    whatever the account's history. `specimens=False` skips the images."""
    number = check_number(text)
    documents = _document_model() if specimens else None
    account, rest = _read(number, _JOINED, documents)
    photo_id, signature_id = rest if documents is not None else (None, None)
    primary = Holder(account.customer, photo_id, signature_id)
    holders = [primary]
    # A joint account is never operated 'self' (the deposits module's rule), so a
    # 'self' account has no other holders to read.
    if account.mode_of_operation != ModeOfOperation.SELF:
        holders += [Holder(holder.customer)
                    for holder in account.holders.select_related("customer").order_by("position")]
        if documents is not None:
            _attach_specimens(documents, holders[1:])
    return CounterAccount(account=account, holders=holders)


def find_account(text):
    """The DepositAccount behind the number on a submitted form, its product read
    with it, or a refusal (a wrong check digit, an unknown number).

    A cash deposit posts from the account's status, product and ledger account; the
    holders' names, photographs and balance were on the teller's screen already. Its
    customer, branch and ledger account load on first use, as any foreign key does."""
    return _read(check_number(text), _PRODUCT)[0]


def _attach_specimens(document_model, holders):
    """Each holder's photograph and specimen signature."""
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


def refuse(account, *, debit):
    """Raise `refusal`'s reason as the matching error: AccountClosed, AccountFrozen
    (a total or a debit freeze) or ValidationFailed."""
    problem = refusal(account, debit=debit)
    if problem is None:
        return
    if account.status == DepositStatus.CLOSED:
        raise AccountClosed(problem)
    if account.status in (DepositStatus.FROZEN, DepositStatus.DEBIT_FROZEN):
        raise AccountFrozen(problem)
    raise ValidationFailed(problem)


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
