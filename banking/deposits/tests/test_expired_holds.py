"""A hold past its expiry no longer keeps money from being spent, so it no longer
stands in the way of closing the account either, even before end of day releases it."""

import datetime

import pytest
from django.utils import timezone

from banking.approvals.actions import approve_request
from banking.core.errors import ValidationFailed
from banking.deposits import actions
from banking.deposits.tests.factories import Bank
from banking.ledger.models import Hold

pytestmark = pytest.mark.django_db


def test_an_account_whose_only_hold_expired_closes_and_the_hold_is_released():
    bank = Bank()
    account = bank.open_account()
    hold = actions.place_account_hold(actor=bank.teller, account=account, amount=100_00, reason="Cheque return",
                                      expires_at=timezone.now() + datetime.timedelta(days=1))
    Hold.objects.filter(pk=hold.pk).update(expires_at=timezone.now() - datetime.timedelta(days=1))
    request = actions.request_closure(actor=bank.teller, account=account, reason="Closing")
    approve_request(actor=bank.supervisor, request_id=request.pk)
    account.refresh_from_db()
    hold.refresh_from_db()
    assert account.is_closed and account.ledger_account.held == 0
    assert hold.released_at is not None and hold.release_reason == "Expired"


def test_a_standing_hold_still_stops_the_closing():
    bank = Bank()
    account = bank.open_account()
    actions.place_account_hold(actor=bank.teller, account=account, amount=100_00, reason="Court order")
    with pytest.raises(ValidationFailed, match="₹100.00 on hold"):
        actions.request_closure(actor=bank.teller, account=account, reason="Closing")
