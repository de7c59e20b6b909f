"""On a bank holiday the counters and cheque work are closed: the teller's actions
refuse in words. The holiday rule itself is the ledger's (banking/ledger/holidays.py)."""

import datetime
import re

import pytest

from banking.approvals.actions import approve_request
from banking.core.errors import ValidationFailed
from banking.ledger.models import BusinessDate, Holiday
from banking.testing import make_user
from banking.users.roles import Role

from ..actions import (
    cancel_cheque,
    issue_cheque_book,
    open_till,
    request_cash_from_vault,
    stop_cheques,
    take_cash_deposit,
    transfer_at_counter,
)
from .factories import OPENING, key, open_account, teller_with_open_till

HOLIDAY_WORDS = re.escape("is a bank holiday (Republic Day): the counters and cheque work are closed")


@pytest.fixture
def holiday(branch):
    """The business date becomes a holiday operations entered."""
    date = BusinessDate.objects.current()
    ops, ops2 = make_user(Role.OPERATIONS, mfa=False), make_user(Role.OPERATIONS, mfa=False)
    return Holiday.objects.create(date=date, name="Republic Day", added_by=ops, approved_by=ops2)


def test_no_till_opens_and_no_cash_leaves_the_vault_on_a_holiday(branch, supervisor, holiday):
    teller = make_user(Role.TELLER, branch=branch, mfa=False)
    with pytest.raises(ValidationFailed, match=HOLIDAY_WORDS):
        request_cash_from_vault(actor=teller, counts=OPENING)
    with pytest.raises(ValidationFailed, match=HOLIDAY_WORDS):
        open_till(actor=teller, counted=OPENING)


def test_cash_at_the_counter_is_refused_with_the_holiday_in_words(branch, supervisor):
    teller = make_user(Role.TELLER, branch=branch, mfa=False)
    account = open_account(branch, teller, supervisor)
    # The till holds the vault's cash from before; it cannot open on the holiday.
    approve_request(actor=supervisor, request_id=request_cash_from_vault(actor=teller, counts=OPENING).pk)
    date = BusinessDate.objects.current()
    Holiday.objects.create(date=date, name="Republic Day", added_by=make_user(Role.OPERATIONS, mfa=False),
                           approved_by=make_user(Role.OPERATIONS, mfa=False))
    with pytest.raises(ValidationFailed, match=HOLIDAY_WORDS):
        take_cash_deposit(actor=teller, account=account, amount=OPENING.value, counts=OPENING,
                          idempotency_key=key())


def test_cheque_work_and_transfers_at_the_counter_are_refused(branch, supervisor, teller):
    account = open_account(branch, teller, supervisor, balance=1000_00)
    other = open_account(branch, teller, supervisor)
    book = issue_cheque_book(actor=teller, account=account, leaves=10)
    Holiday.objects.create(date=BusinessDate.objects.current(), name="Republic Day",
                           added_by=make_user(Role.OPERATIONS, mfa=False),
                           approved_by=make_user(Role.OPERATIONS, mfa=False))
    for refused in (
        lambda: issue_cheque_book(actor=teller, account=account, leaves=10),
        lambda: stop_cheques(actor=teller, account=account, first=book.first_number, reason="Lost"),
        lambda: cancel_cheque(actor=teller, account=account, number=book.first_number, reason="Spoilt"),
        lambda: transfer_at_counter(actor=teller, account=account, to_account=other, amount=100_00,
                                    idempotency_key=key()),
    ):
        with pytest.raises(ValidationFailed, match=HOLIDAY_WORDS):
            refused()


def test_the_next_working_day_the_counter_opens_again(branch, supervisor):
    date = BusinessDate.objects.current()
    Holiday.objects.create(date=date + datetime.timedelta(days=1), name="Tomorrow's holiday",
                           added_by=make_user(Role.OPERATIONS, mfa=False),
                           approved_by=make_user(Role.OPERATIONS, mfa=False))
    assert teller_with_open_till(branch, supervisor) is not None
