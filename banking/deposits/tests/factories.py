"""Customers, products and accounts for the deposit tests.

Customers are written straight to the database (not through the KYC wizard's
actions) so that these tests depend only on the customer record itself."""

import datetime
import itertools
import uuid

from django.utils import timezone

from banking.approvals.actions import approve_request
from banking.core.identifiers import with_check_digit
from banking.ledger.actions import Line, post_entry
from banking.ledger.chart import SHARE_CAPITAL, ensure_standard_chart
from banking.ledger.models import EntryKind, LedgerAccount
from banking.testing import make_branch, make_user

_serial = itertools.count(1)


def key():
    return uuid.uuid4().hex


def make_customer(*, branch, created_by, verified=True, **fields):
    from banking.customers.models import Customer

    n = next(_serial)
    now = timezone.now()
    defaults = {
        "cif": with_check_digit(f"{800_000_000 + n * 7 + int(uuid.uuid4().int % 7):09d}"),
        "first_name": "Priya", "last_name": f"Sharma{n}", "date_of_birth": datetime.date(1990, 4, 12),
        "mobile": "9876543210", "email": f"customer{n}-{uuid.uuid4().hex[:6]}@example.in",
        "home_branch": branch, "created_by": created_by,
    }
    if verified:
        defaults.update(kyc_status="verified", kyc_verified_at=now, rekyc_due_on=now.date().replace(year=now.year + 10))
    defaults.update(fields)
    return Customer.objects.create(**defaults)


def ensure_products():
    """The standard products (restored after every migrate and flush; see DepositsConfig)."""
    from django.apps import apps

    from banking.deposits.apps import restore_standard_products

    restore_standard_products(apps.get_app_config("deposits"))


class Bank:
    """A branch with its chart and products, a teller, a supervisor and a verified customer."""

    def __init__(self):
        ensure_products()
        self.branch = make_branch()
        ensure_standard_chart([(self.branch.code, self.branch.name)])
        self.teller = make_user("teller", branch=self.branch)
        self.supervisor = make_user("supervisor", branch=self.branch, approval_limit=10_00_000_00)
        self.customer = make_customer(branch=self.branch, created_by=self.teller)

    def open_account(self, product="SB", customer=None, deposit=0, **options):
        """A savings (or other) account, opened and approved, with `deposit` paise paid
        in by transfer (cash at opening goes through a teller's till: teller tests)."""
        from banking.deposits.actions import request_account_opening

        account = request_account_opening(actor=self.teller, customer=customer or self.customer, product=product,
                                          **options)
        approve_request(actor=self.supervisor, request_id=account.opening_request_id)
        account.refresh_from_db()
        if deposit:
            self.fund(account, deposit)
        return account

    def fund(self, account, amount):
        capital = LedgerAccount.objects.get(code=SHARE_CAPITAL)
        post_entry(actor=None, lines=[Line.debit(capital, amount), Line.credit(account.ledger_account, amount)],
                   kind=EntryKind.TRANSFER, narration="Transfer in", idempotency_key=key())
        account.ledger_account.refresh_from_db()

    def withdraw(self, account, amount):
        capital = LedgerAccount.objects.get(code=SHARE_CAPITAL)
        entry = post_entry(actor=None, lines=[Line.debit(account.ledger_account, amount), Line.credit(capital, amount)],
                           kind=EntryKind.TRANSFER, narration="Transfer out", idempotency_key=key())
        account.ledger_account.refresh_from_db()
        return entry
