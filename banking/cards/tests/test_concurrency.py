"""Two ATMs withdrawing from one account at the same moment, on PostgreSQL with
real threads: the account is never overdrawn, and each ATM's cash GL and cassettes
lose exactly what was approved there."""

import pytest
from django.db import connection

from banking.testing import run_together

from ..actions import issue_card
from ..models import SwitchMessage
from ..switch import handle_message
from .factories import PIN, CardBank, counts, withdrawal

ROUNDS = 4


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_two_terminals_withdrawing_from_one_account_at_once_never_overdraw_it():
    bank = CardBank(balance=0)
    # A joint holder's second card on the same account: two cards, two ATMs, one balance.
    from banking.deposits.models import AccountHolder
    from banking.deposits.tests.factories import make_customer

    second = make_customer(branch=bank.branch, created_by=bank.teller)
    AccountHolder.objects.create(account=bank.account, customer=second)
    other_card = issue_card(actor=bank.teller, account=bank.account, customer=second)
    other_card.set_pin(PIN)
    other_card.save()
    atms = [bank.terminal("ATM0000A"), bank.terminal("ATM0000B")]
    approved = 0
    for round_ in range(1, ROUNDS + 1):
        bank.fund(bank.account, 10_000_00 - bank.account.ledger_account.balance)
        stan = f"{round_:06d}"
        results, errors = run_together(
            lambda: handle_message(terminal=atms[0], message=withdrawal(atms[0], bank.number, "6000.00", stan=stan)),
            lambda: handle_message(terminal=atms[1], message=withdrawal(atms[1], other_card.number, "6000.00",
                                                                      stan=stan)),
        )
        assert errors == []
        assert sorted(answer["response_code"] for answer in results) == ["00", "51"]
        approved += 1
        bank.account.ledger_account.refresh_from_db()
        assert bank.account.ledger_account.balance == 4_000_00
        assert bank.account.ledger_account.available >= 0
    # Each ATM gave out what its approvals say, in its GL and its cassettes.
    for atm in atms:
        atm.ledger_account.refresh_from_db()
        paid = sum(m.amount for m in SwitchMessage.objects.filter(terminal=atm, response_code="00"))
        assert atm.ledger_account.balance == 80_000_00 - paid
        assert sum(d * n for d, n in counts(atm).items()) * 100 == 80_000_00 - paid
    assert approved == ROUNDS


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_91_when_the_account_stays_locked_past_the_lock_timeout():
    """Another transaction holds the customer's ledger account: the switch gives up
    after the lock timeout and answers 91, having kept and posted nothing."""
    import threading

    from django.db import connections, transaction

    from banking.ledger.models import LedgerAccount

    bank = CardBank(balance=10_000_00)
    atm = bank.terminal("ATM0000C")
    locked, release = threading.Event(), threading.Event()

    def hold_the_account():
        try:
            with transaction.atomic():
                LedgerAccount.objects.select_for_update().get(pk=bank.account.ledger_account_id)
                locked.set()
                release.wait(10)
        finally:
            connections["default"].close()

    holder = threading.Thread(target=hold_the_account)
    holder.start()
    locked.wait(10)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '300ms'")
        answer = handle_message(terminal=atm, message=withdrawal(atm, bank.number, "500.00"))
    finally:
        release.set()
        holder.join()
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    assert answer["response_code"] == "91"
    assert not SwitchMessage.objects.exists()
    assert LedgerAccount.objects.get(pk=bank.account.ledger_account_id).balance == 10_000_00
    assert handle_message(terminal=atm, message=withdrawal(atm, bank.number, "500.00"))["response_code"] == "00"
