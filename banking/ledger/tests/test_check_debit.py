"""check_debit asks the ledger's own rules, before anything posts, whether a debit
would be refused, and answers in the posting's words."""

import datetime

import pytest
from django.utils import timezone

from banking.core.errors import AccountFrozen, InsufficientFunds
from banking.ledger.actions import Line, check_debit, place_hold, post_entry, set_account_status
from banking.ledger.models import AccountStatus, EntryKind, Hold, LedgerAccount
from banking.testing import make_user

from .helpers import customer_account, key, snapshot

pytestmark = pytest.mark.django_db


def _refusal_of_posting(account, amount):
    """What post_entry itself says when it posts the same debit (None: it posted)."""
    target = customer_account()
    try:
        post_entry(actor=None, lines=[Line.debit(account, amount), Line.credit(target, amount)],
                   kind=EntryKind.TRANSFER, narration="Transfer", idempotency_key=key())
    except Exception as error:  # noqa: BLE001 the refusal is what is compared
        return type(error), str(error)
    return None


def _refusal_of_check(account, amount):
    try:
        check_debit(account.pk, amount)
    except Exception as error:  # noqa: BLE001
        return type(error), str(error)
    return None


@pytest.mark.parametrize(("opening", "overdraft", "minimum", "amount"), [
    (100_00, 0, 0, 100_00),      # exactly what is there
    (100_00, 0, 0, 100_01),      # a paisa more
    (100_00, 50_00, 0, 150_00),  # into the overdraft, to its limit
    (100_00, 50_00, 0, 150_01),
    (100_00, 0, 20_00, 80_00),   # down to the minimum balance
    (100_00, 0, 20_00, 80_01),
])
def test_the_check_says_what_posting_says(opening, overdraft, minimum, amount):
    account = customer_account(opening, overdraft=overdraft, min_balance=minimum, name="Asha Rao")
    before = snapshot()
    checked = _refusal_of_check(account, amount)
    assert snapshot() == before  # the check writes nothing
    assert checked == _refusal_of_posting(account, amount)


def test_words_name_the_account_as_its_holder_knows_it():
    account = customer_account(100_00, min_balance=20_00)
    with pytest.raises(InsufficientFunds) as refused:
        check_debit(account.pk, 90_00, names={account.pk: "Account 900714100000016"})
    assert str(refused.value) == ("Account 900714100000016 has ₹100.00 available; ₹90.00 would take it below its "
                                  "minimum balance of ₹20.00.")
    with pytest.raises(InsufficientFunds, match=r"^Account 9007 has ₹100.00 available, less than ₹150.00\.$"):
        LedgerAccount.objects.filter(pk=account.pk).update(min_balance=0)
        check_debit(account.pk, 150_00, names={account.pk: "Account 9007"})


def test_an_expired_hold_does_not_refuse_but_a_live_one_does():
    officer = make_user()
    account = customer_account(100_00)
    place_hold(actor=officer, account=account, amount=60_00, reason="Court order",
               expires_at=timezone.now() + datetime.timedelta(days=1))
    with pytest.raises(InsufficientFunds, match="has ₹40.00 available, less than ₹50.00"):
        check_debit(account.pk, 50_00)
    expired = customer_account(100_00)
    hold = place_hold(actor=officer, account=expired, amount=60_00, reason="Cheque return",
                      expires_at=timezone.now() + datetime.timedelta(minutes=1))
    Hold.objects.filter(pk=hold.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    check_debit(expired.pk, 100_00)  # posting releases the expired hold, so it is not refused
    assert _refusal_of_posting(expired, 100_00) is None


def test_a_debit_freeze_refuses_in_words():
    account = customer_account(100_00, name="Asha Rao")
    set_account_status(actor=make_user(), account=account, status=AccountStatus.DEBIT_FROZEN, reason="KYC lapsed")
    with pytest.raises(AccountFrozen, match="has a debit freeze"):
        check_debit(account.pk, 1)
