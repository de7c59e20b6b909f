"""Account opening with cash: the initial deposit is counted on the opening form
into the teller's own till, like any cash deposit, and the branch's cash closes."""

import pytest

from banking.approvals.actions import approve_request, reject_request
from banking.core.errors import ValidationFailed
from banking.deposits.models import DepositStatus
from banking.deposits.tests.factories import make_customer
from banking.ledger.models import LedgerAccount

from ..actions import (
    close_branch,
    close_till,
    ensure_vault,
    find_till,
    request_opening_with_cash,
)
from ..denominations import Denominations
from ..models import CashBox, CounterTransaction, TransactionStatus
from .factories import OPENING, fresh, give_pan, key
from .test_cash import assert_counts_match_books

pytestmark = pytest.mark.django_db

NOTES = Denominations(n500=40, n100=30, coins=50)  # ₹23,050


def open_with_cash(teller, customer, counts=NOTES, token=None, product="SB"):
    return request_opening_with_cash(actor=teller, customer=customer, product=product, counts=counts,
                                     idempotency_key=token or key())


def test_opening_with_cash_moves_the_tellers_till_and_the_branch_closes_balanced(branch, teller, supervisor):
    customer = make_customer(branch=branch, created_by=teller)
    vault_before = ensure_vault(branch).cash_value
    account = open_with_cash(teller, customer)
    assert account.status == DepositStatus.PENDING
    assert find_till(teller).counts == OPENING  # nothing moves before the checker approves
    txn = CounterTransaction.objects.get(account=account)
    assert (txn.status, txn.approval_id, txn.counts) == (TransactionStatus.PENDING, account.opening_request_id, NOTES)

    approve_request(actor=supervisor, request_id=account.opening_request_id)
    account = fresh(account)
    assert account.status == DepositStatus.ACTIVE and account.ledger_account.balance == NOTES.value
    assert find_till(teller).counts == OPENING + NOTES
    txn.refresh_from_db()
    assert txn.status == TransactionStatus.POSTED and txn.entry.reference == txn.number
    assert account.last_customer_activity_on == txn.business_date
    # No cash GL exists that no till or vault counts (the supervisor's page shows those).
    cash_gls = set(LedgerAccount.objects.filter(parent__code__in=["1101", "1110"]).values_list("pk", flat=True))
    assert cash_gls == set(CashBox.objects.values_list("ledger_account_id", flat=True))
    assert_counts_match_books()

    day = close_till(actor=teller, counted=find_till(teller).counts, idempotency_key=key())
    assert day.difference == 0
    approve_request(actor=supervisor, request_id=day.close_request_id)
    close_branch(actor=supervisor, branch=branch)
    assert ensure_vault(branch).cash_value == vault_before + OPENING.value + NOTES.value
    assert CashBox.objects.tills().get(teller=teller).cash_value == 0
    assert_counts_match_books()


def test_the_till_does_not_close_while_an_opening_with_cash_waits_and_a_rejection_moves_nothing(
        branch, teller, supervisor):
    customer = make_customer(branch=branch, created_by=teller)
    account = open_with_cash(teller, customer)
    with pytest.raises(ValidationFailed, match="1 of your requests is still waiting"):
        close_till(actor=teller, counted=find_till(teller).counts, idempotency_key=key())
    reject_request(actor=supervisor, request_id=account.opening_request_id, reason="Signature differs")
    assert find_till(teller).counts == OPENING and fresh(account).status == DepositStatus.PENDING
    assert CounterTransaction.objects.get(account=account).shown_status == "Rejected"
    close_till(actor=teller, counted=OPENING, idempotency_key=key())


def test_the_same_form_twice_opens_one_account(branch, teller):
    customer = make_customer(branch=branch, created_by=teller)
    token = key()
    first = open_with_cash(teller, customer, token=token)
    again = open_with_cash(teller, customer, token=token)
    assert first.pk == again.pk and CounterTransaction.objects.count() == 1


def test_cash_at_opening_is_counted_and_needs_a_pan_from_fifty_thousand(branch, teller, supervisor):
    customer = make_customer(branch=branch, created_by=teller)
    with pytest.raises(ValidationFailed, match="Count the notes and coins"):
        open_with_cash(teller, customer, counts=Denominations())
    big = Denominations(n500=100)  # ₹50,000
    customer.identity_documents.filter(doc_type="pan").delete()
    with pytest.raises(ValidationFailed, match="needs the customer's PAN on file"):
        open_with_cash(teller, customer, counts=big)
    assert not CounterTransaction.objects.exists() and not customer.deposit_accounts.exists()
    give_pan(customer)
    account = open_with_cash(teller, customer, counts=big)
    approve_request(actor=supervisor, request_id=account.opening_request_id)
    assert fresh(account).ledger_account.balance == 50_000_00


def test_cash_at_opening_needs_an_open_till(branch, supervisor):
    from banking.testing import make_user
    from banking.users.roles import Role

    newcomer = make_user(Role.TELLER, branch=branch, mfa=False)
    customer = make_customer(branch=branch, created_by=newcomer)
    with pytest.raises(ValidationFailed, match="open your till first"):
        open_with_cash(newcomer, customer)
    assert not customer.deposit_accounts.exists()


def test_the_pools_cash_is_counted_into_the_vault_and_the_pool_closed(branch, teller):
    """Teller migration 0007, on a bank whose openings posted to the pool GL before
    the till took them (as the demo left it): ₹23,050.75 there."""
    import importlib

    from django.apps import apps

    from banking.ledger.actions import Line, post_entry
    from banking.ledger.chart import SHARE_CAPITAL, TELLER_SUSPENSE
    from banking.ledger.models import EntryKind

    # The pool GL the chart used to make for every branch.
    pool = LedgerAccount.objects.create(
        code=f"1110-{branch.code}-POOL", name="Till cash in transit", type="asset",
        parent=LedgerAccount.objects.get(code="1110"), branch_code=branch.code, enforce_balance=True)
    post_entry(actor=None, lines=[Line.debit(pool, 23_050_75),
                                  Line.credit(LedgerAccount.objects.get(code=SHARE_CAPITAL), 23_050_75)],
               kind=EntryKind.CASH_DEPOSIT, narration="Initial cash deposit", idempotency_key=key())
    vault_before = ensure_vault(branch).counts
    suspense_before = LedgerAccount.objects.get(code=TELLER_SUSPENSE).balance
    migration = importlib.import_module("banking.teller.migrations.0007_pool_cash_to_the_vault")
    migration.forward(apps, None)
    migration.forward(apps, None)  # a second run finds nothing to do
    pool.refresh_from_db()
    assert (pool.balance, pool.status) == (0, "closed")
    assert ensure_vault(branch).counts == vault_before + Denominations.largest_first(23_050_00)
    assert LedgerAccount.objects.get(code=TELLER_SUSPENSE).balance == suspense_before + 75
    assert_counts_match_books()
