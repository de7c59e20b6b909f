"""Tellers at different counters withdrawing from one account at the same moment,
on PostgreSQL with real threads: the account is never overdrawn, each till pays
out only what was posted, and the books match the notes."""


import pytest

from banking.core.errors import InsufficientFunds
from banking.testing import make_user, run_together
from banking.users.roles import Role

from ..actions import ensure_till, find_till, issue_cheque_book, pay_cash_withdrawal, take_cash_deposit
from ..denominations import Denominations
from ..models import Cheque
from .factories import (
    OPENING,
    fresh,
    funded_branch,
    key,
    open_account,
    supervisor_for,
    teller_with_open_till,
)
from .test_cash import assert_counts_match_books

TELLERS = 4
ROUNDS = 5


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_tellers_withdrawing_from_one_account_at_once_never_overdraw_it():
    branch = funded_branch()
    supervisor = supervisor_for(branch)
    tellers = [teller_with_open_till(branch, supervisor) for _ in range(TELLERS)]
    # Each round: ₹10,000 in the account and every teller tries to pay ₹6,000 of it.
    account = open_account(branch, tellers[0], supervisor)
    paid, refused, unexpected = [], [], []
    for _ in range(ROUNDS):
        from banking.ledger.tests.helpers import fund

        fund(account.ledger_account, 10_000_00 - fresh(account).balance)
        account = fresh(account)

        def withdraw(teller, account=account):
            pay_cash_withdrawal(actor=teller, account=account, amount=6_000_00, counts=Denominations(n500=12),
                                idempotency_key=key())
            return teller.pk

        results, errors = run_together(*(lambda teller=teller: withdraw(teller) for teller in tellers))
        paid += results
        refused += [error for error in errors if isinstance(error, InsufficientFunds)]
        # Deadlocks, serialization failures: none expected.
        unexpected += [repr(error) for error in errors if not isinstance(error, InsufficientFunds)]
        assert fresh(account).balance == 4_000_00
        assert fresh(account).available >= 0

    assert unexpected == []
    assert len(paid) == ROUNDS and len(refused) == ROUNDS * (TELLERS - 1)
    for teller in tellers:
        times = paid.count(teller.pk)
        assert find_till(teller).counts == OPENING - Denominations(n500=12 * times)
    assert_counts_match_books()


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_two_tellers_issuing_cheque_books_at_once_get_different_leaves():
    branch = funded_branch()
    supervisor = supervisor_for(branch)
    tellers = [teller_with_open_till(branch, supervisor) for _ in range(2)]
    accounts = [open_account(branch, tellers[0], supervisor, product=product) for product in ("SB", "CA")]
    for _ in range(3):
        books, errors = run_together(*(lambda t=t, a=a: issue_cheque_book(actor=t, account=a, leaves=25)
                                       for t, a in zip(tellers, accounts, strict=True)))
        assert errors == []
        firsts = sorted(book.first_number for book in books)
        assert firsts[1] == firsts[0] + 25
    assert Cheque.objects.filter(branch=branch).count() == 150
    assert Cheque.objects.filter(branch=branch).values("number").distinct().count() == 150


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_a_tellers_first_two_requests_at_once_make_one_till():
    branch = funded_branch()
    for _ in range(3):
        teller = make_user(Role.TELLER, branch=branch, mfa=False)
        tills, errors = run_together(lambda: ensure_till(teller=teller), lambda: ensure_till(teller=teller))
        assert errors == []
        assert tills[0].pk == tills[1].pk == find_till(teller).pk


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_enter_pressed_twice_at_once_posts_once():
    """Four presses of one deposit form arriving together: the first takes the
    till's lock and posts; the others wait on it, then find its transaction."""
    branch = funded_branch()
    supervisor = supervisor_for(branch)
    teller = teller_with_open_till(branch, supervisor)
    account = open_account(branch, teller, supervisor, balance=50_000_00)
    token = key()

    def press():
        return take_cash_deposit(actor=teller, account=fresh(account), amount=1_000_00,
                                 counts=Denominations(n500=2), idempotency_key=token).pk

    results, errors = run_together(*(press for _ in range(4)))
    assert errors == []
    assert len(results) == 4 and len(set(results)) == 1
    assert fresh(account).balance == 51_000_00
    assert find_till(teller).counts == OPENING + Denominations(n500=2)
    assert_counts_match_books()
