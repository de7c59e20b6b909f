"""Test helpers for the counter: a funded vault, tellers with open tills."""

import datetime
import uuid

from banking.approvals.actions import approve_request
from banking.ledger.actions import advance_business_date
from banking.ledger.chart import ensure_standard_chart
from banking.testing import make_branch, make_user
from banking.users.roles import Role

from ..actions import (
    ensure_vault,
    fund_vault,
    open_till,
    pay_cash_withdrawal,
    request_cash_from_vault,
    take_cash_deposit,
    today,
)
from ..denominations import Denominations

VAULT_CASH = Denominations(n500=2000, n200=1000, n100=2000, n50=1000, n20=1000, n10=1000, coins=5000)
OPENING = Denominations(n500=100, n200=50, n100=100, n50=40, n20=50, n10=50, coins=500)


def key():
    return uuid.uuid4().hex


def funded_branch(counts=VAULT_CASH, **extra):
    branch = make_branch(**extra)
    ensure_standard_chart([(branch.code, branch.name)])
    fund_vault(actor=None, branch=branch, counts=counts, idempotency_key=key())
    return branch


def supervisor_for(branch, limit=1_00_00_000_00, *, mfa=False, **extra):
    return make_user(Role.SUPERVISOR, branch=branch, approval_limit=limit, mfa=mfa, **extra)


def teller_with_open_till(branch, supervisor, counts=OPENING, *, cash_limit=None, mfa=False, **extra):
    teller = make_user(Role.TELLER, branch=branch, mfa=mfa, **extra)
    if cash_limit is not None:
        teller.staff_profile.cash_limit = cash_limit
        teller.staff_profile.save()
    if counts.value:
        request = request_cash_from_vault(actor=teller, counts=counts)
        approve_request(actor=supervisor, request_id=request.pk)
    open_till(actor=teller, counted=counts)
    return teller


def vault_of(branch):
    return ensure_vault(branch)


def open_account(branch, maker, checker, *, product="SB", balance=0, **customer_fields):
    """An active deposit account at `branch`, opened through maker-checker and funded
    with `balance` paise by transfer (not through any till)."""
    from banking.deposits.actions import request_account_opening
    from banking.deposits.tests.factories import make_customer
    from banking.ledger.actions import Line, post_entry
    from banking.ledger.chart import SHARE_CAPITAL
    from banking.ledger.models import EntryKind, LedgerAccount

    customer = make_customer(branch=branch, created_by=maker, **customer_fields)
    account = request_account_opening(actor=maker, customer=customer, product=product)
    approve_request(actor=checker, request_id=account.opening_request_id)
    account.refresh_from_db()
    if balance:
        capital = LedgerAccount.objects.get(code=SHARE_CAPITAL)
        post_entry(actor=None, lines=[Line.debit(capital, balance), Line.credit(account.ledger_account, balance)],
                   kind=EntryKind.TRANSFER, narration="Transfer in", idempotency_key=key())
    return fresh(account)


def fresh(account):
    from banking.deposits.models import DepositAccount

    return DepositAccount.objects.select_related("ledger_account", "customer", "product", "branch").get(pk=account.pk)


def give_pan(customer, pan="ABCDE1234F"):
    from banking.customers.models import IdentityDocument

    document = IdentityDocument(customer=customer, doc_type="pan")
    document.set_number(pan)
    document.save()
    return document


def set_status(account, status, actor):
    """Put an account into `status` the way the deposits module does (ledger too)."""
    from banking.deposits.actions import LEDGER_STATUS
    from banking.ledger.actions import set_account_status

    set_account_status(actor=actor, account=account.ledger_account, status=LEDGER_STATUS[status], reason="test")
    account.status = status
    if status == "closed":
        account.closed_on = account.opened_on
    account.save(update_fields=["status", "closed_on"])
    return fresh(account)


def give_specimens(customer, uploaded_by):
    """A photograph and a specimen signature on file, as the KYC wizard leaves them."""
    from django.core.files.base import ContentFile

    from banking.customers.models import KycDocument
    from banking.customers.samples import sample_png

    documents = []
    for kind, image in [("photo", sample_png(90, 110, (160, 110, 70))), ("signature", sample_png(160, 50))]:
        document = KycDocument(customer=customer, kind=kind, content_type="image/png", size=len(image),
                               sha256=KycDocument.digest([image]), original_name=f"{kind}.png",
                               uploaded_by=uploaded_by)
        document.file.save(f"{kind}.png", ContentFile(image), save=False)
        document.save()
        documents.append(document)
    return documents


def a_day_of_cash_then_the_next(teller, account):
    """On the business date: ₹1,500 deposited (3 × ₹500) and ₹1,000 paid out
    (2 × ₹500) at `teller`'s till; then the date moves on a day. Returns the first date."""
    first = today()
    take_cash_deposit(actor=teller, account=account, amount=1_500_00, counts=Denominations(n500=3),
                      idempotency_key=key())
    pay_cash_withdrawal(actor=teller, account=fresh(account), amount=1_000_00, counts=Denominations(n500=2),
                        idempotency_key=key())
    advance_business_date(actor=None, to=first + datetime.timedelta(days=1))
    return first
