"""The switch, message by message: every response code, duplicates, reversals,
the notes chosen, and the money (the customer's account and the ATM's cash GL)."""

import datetime

import pytest
from django.db import connection

from banking.audit.models import AuditEvent
from banking.ledger.models import BusinessDate, JournalEntry, LedgerAccount, Posting

from ..actions import hotlist, set_controls
from ..models import Card, CardStatus, SwitchMessage, TerminalStatus
from ..numbers import luhn_check_digit
from ..switch import choose_notes, handle_message
from .factories import PIN, CardBank, counts, withdrawal


@pytest.fixture
def bank(db):
    return CardBank(balance=50_000_00)


@pytest.fixture
def atm(bank):
    return bank.terminal("ATM00001")


def send(atm, message):
    return handle_message(terminal=atm, message=message)


def balances(bank, atm):
    customer = LedgerAccount.objects.get(pk=bank.account.ledger_account_id)
    cash = LedgerAccount.objects.get(pk=atm.ledger_account_id)
    return customer.balance, cash.balance


def test_00_a_withdrawal_posts_dr_customer_cr_the_atm_with_the_fewest_notes(bank, atm):
    answer = send(atm, withdrawal(atm, bank.number, "2500.00"))
    assert answer["mti"] == "0210" and answer["response_code"] == "00"
    assert answer["notes"] == {"500": 5} and len(answer["auth_code"]) == 6
    assert answer["available_balance"] == "47500.00"
    assert balances(bank, atm) == (47_500_00, 80_000_00 - 2_500_00)
    entry = JournalEntry.objects.get(narration="ATM WDL ATM00001 000001")
    lines = {(p.account_id, p.side, p.amount) for p in Posting.objects.filter(entry=entry)}
    assert lines == {(bank.account.ledger_account_id, "D", 2_500_00), (atm.ledger_account_id, "C", 2_500_00)}
    assert counts(atm) == {500: 95, 200: 100, 100: 100}
    log = SwitchMessage.objects.get()
    assert log.entry_id == entry.pk and log.masked_card == bank.card.masked and log.amount == 2_500_00
    event = AuditEvent.objects.get(action="cards.atm_withdrawal")
    assert bank.number not in f"{event.summary} {event.after}" and event.after["entry"] == entry.pk


def test_the_card_number_is_in_no_answer_log_row_or_event(bank, atm):
    answers = [send(atm, withdrawal(atm, bank.number, "2500.00", stan=f"00000{i}")) for i in range(1, 4)]
    assert all(bank.number not in str(answer) for answer in answers)
    with connection.cursor() as cursor:
        cursor.execute("SELECT response::text, masked_card FROM cards_switchmessage")
        assert all(bank.number not in str(row) for row in cursor.fetchall())
        cursor.execute("SELECT summary, before::text, after::text FROM audit_auditevent")
        assert all(bank.number not in str(row) for row in cursor.fetchall())


def test_a_duplicate_gets_the_first_answer_and_posts_nothing(bank, atm):
    first = send(atm, withdrawal(atm, bank.number, "2500.00"))
    again = send(atm, withdrawal(atm, bank.number, "2500.00"))
    assert again["auth_code"] == first["auth_code"] and again["notes"] == first["notes"]
    assert again["response_code"] == "00" and again["available_balance"] == "47500.00"
    assert JournalEntry.objects.filter(narration__startswith="ATM WDL").count() == 1
    assert balances(bank, atm)[0] == 47_500_00 and counts(atm)[500] == 95


def test_a_stan_reused_with_another_amount_is_declined_and_posts_nothing(bank, atm):
    send(atm, withdrawal(atm, bank.number, "2500.00"))
    answer = send(atm, withdrawal(atm, bank.number, "3000.00"))
    assert answer["response_code"] == "05"
    assert balances(bank, atm)[0] == 47_500_00
    # The same STAN on another day is another message.
    later = send(atm, withdrawal(atm, bank.number, "3000.00", local_time="2026-12-08T09:00:00+05:30"))
    assert later["response_code"] == "00"


@pytest.mark.parametrize(("amount", "why"), [
    ("150.00", "multiples of ₹100"), ("0.00", "above zero"), ("-500.00", "above zero"), ("1e3", "above zero"),
    (2500, "above zero"), ("2500.005", "above zero"),
])
def test_05_bad_amounts_are_declined_and_post_nothing(bank, atm, amount, why):
    answer = send(atm, withdrawal(atm, bank.number, amount))
    assert answer["response_code"] == "05" and why in answer["message"]
    assert balances(bank, atm) == (50_000_00, 80_000_00) and not JournalEntry.objects.filter(
        narration__startswith="ATM WDL").exists()


@pytest.mark.parametrize("message", [
    None, [], {}, {"mti": "0200"}, {"mti": "0200", "processing_code": "01"},
    {"mti": "0200", "processing_code": "01", "stan": "12", "local_time": "2026-12-07T10:00:00+05:30"},
    {"mti": "0200", "processing_code": "01", "stan": "000001", "local_time": "yesterday"},
    {"mti": "0200", "processing_code": "01", "stan": "000001", "local_time": "0001-01-01T00:00:00+14:00"},
    {"mti": "0200", "processing_code": "01", "stan": "000001", "local_time": ["2026-12-07"]},
    {"mti": "0200", "processing_code": "99", "stan": "000001", "local_time": "2026-12-07T10:00:00+05:30"},
    {"mti": "0300", "stan": "000001"}, {"mti": 200},
])
def test_05_malformed_and_unknown_messages_are_declined(bank, atm, message):
    answer = send(atm, message)
    assert answer["response_code"] == "05"
    assert balances(bank, atm) == (50_000_00, 80_000_00)


def test_05_an_amount_the_cassettes_cannot_make(bank):
    atm = bank.terminal("ATM00002", n500=10, n200=0, n100=0)
    answer = send(atm, withdrawal(atm, bank.number, "1200.00"))
    assert answer["response_code"] == "05" and "cannot make" in answer["message"]
    assert counts(atm)[500] == 10 and balances(bank, atm)[0] == 50_000_00


def test_fewest_notes_is_not_greedy():
    assert choose_notes(600, {500: 5, 200: 5, 100: 0}) == {200: 3}
    assert choose_notes(2500, {500: 10, 200: 10, 100: 10}) == {500: 5}
    assert choose_notes(800, {500: 1, 200: 10, 100: 10}) == {500: 1, 200: 1, 100: 1}
    assert choose_notes(2500, {500: 2, 200: 5, 100: 5}) == {500: 2, 200: 5, 100: 5}
    assert choose_notes(300, {500: 9, 200: 9, 100: 0}) is None


def test_05_a_terminal_out_of_service(bank, atm):
    atm.status = TerminalStatus.OUT_OF_SERVICE
    atm.save()
    assert send(atm, withdrawal(atm, bank.number, "500.00"))["response_code"] == "05"
    assert balances(bank, atm)[0] == 50_000_00


def test_05_atm_use_turned_off(bank, atm):
    set_controls(actor=bank.user, card=bank.card, atm_enabled=False, pos_enabled=True, ecommerce_enabled=False,
                 atm_daily_limit=25_000_00)
    assert send(atm, withdrawal(atm, bank.number, "500.00"))["response_code"] == "05"


def test_14_a_number_that_fails_luhn_or_is_unknown(bank, atm):
    wrong_digit = bank.number[:-1] + str((int(bank.number[-1]) + 1) % 10)
    assert send(atm, withdrawal(atm, wrong_digit, "500.00"))["response_code"] == "14"
    unknown = "652150999999999"
    unknown += luhn_check_digit(unknown)
    assert send(atm, withdrawal(atm, unknown, "500.00", stan="000002"))["response_code"] == "14"
    assert balances(bank, atm)[0] == 50_000_00


@pytest.mark.parametrize(("reason", "code"), [(CardStatus.LOST, "41"), (CardStatus.STOLEN, "43")])
def test_41_43_a_hotlisted_card(bank, atm, reason, code):
    hotlist(actor=bank.teller, card=bank.card, reason=reason)
    assert send(atm, withdrawal(atm, bank.number, "500.00"))["response_code"] == code
    assert balances(bank, atm)[0] == 50_000_00


def test_51_insufficient_funds_is_the_ledgers_refusal(bank, atm):
    set_controls(actor=bank.user, card=bank.card, atm_enabled=True, pos_enabled=True, ecommerce_enabled=False,
                 atm_daily_limit=50_000_00)
    answer = send(atm, withdrawal(atm, bank.number, "20000.00"))
    assert answer["response_code"] == "00"
    answer = send(atm, withdrawal(atm, bank.number, "20000.00", stan="000002"))
    assert answer["response_code"] == "00"
    answer = send(atm, withdrawal(atm, bank.number, "10100.00", stan="000003", local_time="2026-12-08T09:00:00+05:30"))
    assert answer["response_code"] == "51"
    assert balances(bank, atm)[0] == 10_000_00
    assert SwitchMessage.objects.get(stan="000003").entry_id is None


def test_54_an_expired_card(bank, atm):
    Card.objects.filter(pk=bank.card.pk).update(expires_on=datetime.date(2026, 11, 30))
    assert send(atm, withdrawal(atm, bank.number, "500.00"))["response_code"] == "54"


def test_55_then_75_three_wrong_pins_block_until_the_next_business_date(bank, atm):
    codes = [send(atm, withdrawal(atm, bank.number, "500.00", stan=f"00000{i}", pin="1111"))["response_code"]
             for i in range(1, 4)]
    assert codes == ["55", "55", "75"]
    assert AuditEvent.objects.filter(action="cards.pin_blocked").count() == 1
    assert send(atm, withdrawal(atm, bank.number, "500.00", stan="000004", pin=PIN))["response_code"] == "75"
    assert balances(bank, atm)[0] == 50_000_00
    today = BusinessDate.objects.current()
    BusinessDate.objects.update_or_create(pk=1, defaults={"date": today + datetime.timedelta(days=1)})
    assert send(atm, withdrawal(atm, bank.number, "500.00", stan="000005", pin=PIN))["response_code"] == "00"


def test_a_right_pin_clears_the_wrong_tries(bank, atm):
    send(atm, withdrawal(atm, bank.number, "500.00", stan="000001", pin="1111"))
    send(atm, withdrawal(atm, bank.number, "500.00", stan="000002", pin="1111"))
    assert send(atm, withdrawal(atm, bank.number, "500.00", stan="000003"))["response_code"] == "00"
    assert send(atm, withdrawal(atm, bank.number, "500.00", stan="000004", pin="1111"))["response_code"] == "55"


def test_61_over_the_daily_atm_limit(bank, atm):
    set_controls(actor=bank.user, card=bank.card, atm_enabled=True, pos_enabled=True, ecommerce_enabled=False,
                 atm_daily_limit=5_000_00)
    assert send(atm, withdrawal(atm, bank.number, "3000.00"))["response_code"] == "00"
    assert send(atm, withdrawal(atm, bank.number, "2500.00", stan="000002"))["response_code"] == "61"
    assert send(atm, withdrawal(atm, bank.number, "2000.00", stan="000003"))["response_code"] == "00"
    assert balances(bank, atm)[0] == 45_000_00


# 91 (the bank too busy to answer in time) is in test_concurrency.py: it needs a second connection.


def test_balance_enquiry_and_mini_statement(bank, atm):
    for i in range(1, 12):
        send(atm, withdrawal(atm, bank.number, "100.00", stan=f"{i:06d}"))
    answer = send(atm, {**withdrawal(atm, bank.number, "0.00", stan="000100"), "processing_code": "31"})
    assert answer["response_code"] == "00" and answer["available_balance"] == "48900.00"
    answer = send(atm, {**withdrawal(atm, bank.number, "0.00", stan="000101"), "processing_code": "38"})
    assert answer["response_code"] == "00" and len(answer["transactions"]) == 10
    assert answer["transactions"][0] == {"date": BusinessDate.objects.current().isoformat(),
                                         "narration": "ATM WDL ATM00001 000011", "amount": "100.00",
                                         "side": "debit"}
    wrong = send(atm, {**withdrawal(atm, bank.number, "0.00", stan="000102", pin="1111"), "processing_code": "31"})
    assert wrong["response_code"] == "55" and "available_balance" not in wrong


def reversal(atm, number, amount, dispensed, stan="000001"):
    return {**withdrawal(atm, number, amount, stan=stan), "mti": "0420", "dispensed_amount": dispensed}


def test_a_whole_reversal_gives_everything_back(bank, atm):
    send(atm, withdrawal(atm, bank.number, "2500.00"))
    answer = send(atm, reversal(atm, bank.number, "2500.00", "0.00"))
    assert answer["mti"] == "0430" and answer["response_code"] == "00" and answer["reversed_amount"] == "2500.00"
    assert balances(bank, atm) == (50_000_00, 80_000_00)
    assert counts(atm) == {500: 100, 200: 100, 100: 100}
    original = SwitchMessage.objects.get(kind="withdrawal")
    assert JournalEntry.objects.get(reversal_of=original.entry).narration == "ATM WDL REV ATM00001 000001"
    # The reversal repeated reverses nothing more.
    assert send(atm, reversal(atm, bank.number, "2500.00", "0.00")) == answer
    assert balances(bank, atm) == (50_000_00, 80_000_00)


def test_a_partial_reversal_gives_back_what_was_not_dispensed(bank, atm):
    send(atm, withdrawal(atm, bank.number, "2800.00"))  # 5 × ₹500, 1 × ₹200, 1 × ₹100
    answer = send(atm, reversal(atm, bank.number, "2800.00", "2500.00"))
    assert answer["response_code"] == "00" and answer["reversed_amount"] == "300.00"
    assert balances(bank, atm) == (47_500_00, 80_000_00 - 2_500_00)
    assert counts(atm) == {500: 95, 200: 100, 100: 100}
    # The daily limit counts what was kept, not what was asked.
    assert SwitchMessage.objects.get(kind="reversal").reversed_amount == 300_00


def test_a_reversal_without_its_original_is_recorded_for_reconciliation(bank, atm):
    answer = send(atm, reversal(atm, bank.number, "2500.00", "0.00", stan="000777"))
    assert answer["response_code"] == "00" and "reconciled" in answer["message"]
    log = SwitchMessage.objects.get(kind="reversal")
    assert log.original is None and log.entry is None
    assert balances(bank, atm) == (50_000_00, 80_000_00)


def test_a_reversal_that_does_not_match_its_original_is_declined(bank, atm):
    send(atm, withdrawal(atm, bank.number, "2500.00"))
    assert send(atm, reversal(atm, bank.number, "3000.00", "0.00"))["response_code"] == "05"
    assert send(atm, reversal(atm, bank.number, "2500.00", "2600.00", stan="000002"))["response_code"] == "05"
    assert balances(bank, atm)[0] == 47_500_00


def test_heartbeat(bank, atm):
    answer = send(atm, {"mti": "0800", "terminal_id": atm.terminal_id, "stan": "000009"})
    assert answer == {"mti": "0810", "stan": "000009", "terminal_id": "ATM00001", "response_code": "00"}
    atm.refresh_from_db()
    assert atm.last_heartbeat_at is not None
