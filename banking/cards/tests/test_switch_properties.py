"""Whatever a terminal sends, the switch answers with a response code and never
errors; money moves only on an approved withdrawal or reversal, and the customer's
account and the ATM's cash GL always change by the same amount."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from banking.ledger.models import LedgerAccount

from ..numbers import pin_block
from ..switch import handle_message
from .factories import PIN, CardBank

CODES = {"00", "05", "14", "41", "43", "51", "54", "55", "61", "75", "91"}


@pytest.fixture
def bank(db):
    return CardBank(balance=5_000_00)


@pytest.fixture
def atm(bank):
    return bank.terminal("ATMPROP1", n500=4, n200=3, n100=2)


junk = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(allow_nan=True),
                 st.text(max_size=30), st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5),
                                                                                           st.integers(), max_size=2))


def messages(number):
    good = {
        "mti": st.sampled_from(["0200", "0420", "0800", "0210", "0300", "200"]),
        "processing_code": st.sampled_from(["01", "31", "38", "00", "1"]),
        "stan": st.one_of(st.integers(0, 999_999).map(lambda n: f"{n:06d}"), st.sampled_from(["000001", "12"])),
        "card_number": st.sampled_from([number, number[:-1] + "0", "4111111111111111", "12"]),
        "pin_block": st.sampled_from([pin_block(PIN, number), pin_block("1111", number), "ZZ"]),
        "amount": st.one_of(st.integers(-5, 80).map(lambda n: f"{n * 100}.00"), st.sampled_from(["150.00", "1e3"])),
        "dispensed_amount": st.integers(0, 40).map(lambda n: f"{n * 100}.00"),
        "local_time": st.sampled_from(["2026-12-07T10:15:00+05:30", "2026-12-08T10:15:00+05:30", "later"]),
    }
    fields = st.fixed_dictionaries({}, optional={name: st.one_of(values, junk) for name, values in good.items()})
    return st.lists(fields, min_size=1, max_size=8)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_message_gets_a_response_code_and_money_only_moves_between_the_two(bank, atm, data):
    customer = LedgerAccount.objects.get(pk=bank.account.ledger_account_id)
    cash = LedgerAccount.objects.get(pk=atm.ledger_account_id)
    for message in data.draw(messages(bank.number)):
        message["terminal_id"] = atm.terminal_id
        answer = handle_message(terminal=atm, message=message)
        assert answer["response_code"] in CODES
        assert bank.number not in str(answer)
        customer.refresh_from_db()
        cash.refresh_from_db()
        assert customer.balance >= 0 and cash.balance >= 0
        assert customer.balance + cash.balance == 5_000_00 + 2_800_00
