"""Holds (liens): an amount that stays in the account but cannot be spent, until it
is released or its expiry passes. The available balance the bank shows is what the
posting engine lets a debit take."""

import datetime

import pytest
from django.utils import timezone

from banking.audit.models import AuditEvent
from banking.core.errors import InsufficientFunds
from banking.ledger.actions import place_hold
from banking.ledger.models import Hold, LedgerAccount
from banking.testing import make_user

from .helpers import customer_account, fund, snapshot, transfer

pytestmark = pytest.mark.django_db

YESTERDAY = datetime.timedelta(days=-1)


def expired_yesterday(hold):
    """A hold whose expiry passed a day ago and that nothing has released yet."""
    Hold.objects.filter(pk=hold.pk).update(expires_at=timezone.now() + YESTERDAY)


def held_for(account, amount, *, expires_in=datetime.timedelta(days=7), reason="Cheque in clearing"):
    return place_hold(actor=make_user(), account=account, amount=amount, reason=reason,
                      expires_at=timezone.now() + expires_in if expires_in else None)


def test_a_hold_that_expired_yesterday_no_longer_reduces_the_available_balance():
    account = customer_account(10_000)
    expired_yesterday(held_for(account, 8_000))
    account = LedgerAccount.objects.get(pk=account.pk)
    assert account.available == 10_000 and account.on_hold == 0
    # Reading changes nothing: the hold is released by a debit that needs it, or at end of day.
    assert account.held == 8_000 and Hold.objects.get(account=account).released_at is None


def test_expired_and_standing_holds_together():
    account = customer_account(10_000)
    expired_yesterday(held_for(account, 3_000))
    held_for(account, 2_000, expires_in=None, reason="Court order")
    account = LedgerAccount.objects.get(pk=account.pk)
    assert (account.on_hold, account.available) == (2_000, 8_000)


def test_a_refreshed_account_reads_its_holds_again():
    account = customer_account(10_000)
    hold = held_for(account, 4_000)
    account.refresh_from_db()
    assert account.available == 6_000
    expired_yesterday(hold)
    account.refresh_from_db()
    assert account.available == 10_000


@pytest.mark.parametrize("more", [0, 1])
def test_the_available_balance_shown_is_what_a_debit_may_take(more):
    """The engine counts an expired hold until a debit needs the money, then
    releases it (audited) and posts: so the figure shown is exactly what it lets go."""
    account, other = customer_account(10_000, overdraft=1_000), customer_account(0)
    expired_yesterday(held_for(account, 3_000))
    held_for(account, 2_500)
    shown = LedgerAccount.objects.get(pk=account.pk).available
    assert shown == 10_000 - 2_500 + 1_000
    if more:
        before = snapshot()
        with pytest.raises(InsufficientFunds):
            transfer(account, other, shown + more)
        assert snapshot() == before
    else:
        transfer(account, other, shown)
        account = LedgerAccount.objects.get(pk=account.pk)
        assert (account.balance, account.held, account.available) == (10_000 - shown, 2_500, 0)
        assert AuditEvent.objects.filter(action="ledger.hold_released", object_id=str(
            Hold.objects.get(account=account, release_reason="Expired").pk)).exists()


def test_a_lien_is_an_amount_it_does_not_block_every_debit():
    """A lien larger than the balance (a court order's) takes the available balance
    below zero, so debits wait; credits still arrive, and once they cover the lien
    the account may be debited down to it, never into it."""
    account, other = customer_account(10_000), customer_account(0)
    held_for(account, 15_000, expires_in=None, reason="Attachment order")
    account.refresh_from_db()
    assert account.available == -5_000
    with pytest.raises(InsufficientFunds):
        transfer(account, other, 1)
    fund(account, 20_000)
    account.refresh_from_db()
    assert account.available == 15_000
    transfer(account, other, 15_000)
    with pytest.raises(InsufficientFunds):
        transfer(account, other, 1)
    account.refresh_from_db()
    assert (account.balance, account.held, account.available) == (15_000, 15_000, 0)
