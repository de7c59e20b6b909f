"""POST /api/v1/atm/messages/: the terminal's signature, and the switch's answer over HTTP."""

import json

import pytest

from banking.cards.models import SwitchMessage
from banking.cards.tests.factories import CardBank, body_of, sign, withdrawal
from banking.ledger.models import JournalEntry, LedgerAccount

URL = "/api/v1/atm/messages/"


@pytest.fixture
def bank(db):
    return CardBank(balance=50_000_00)


@pytest.fixture
def atm(bank):
    return bank.terminal("ATM00001")


@pytest.fixture
def other_atm(bank):
    return bank.terminal("ATM00002")


def post(client, body, terminal_id=None, signature=None):
    headers = {}
    if terminal_id is not None:
        headers["X-Terminal-Id"] = terminal_id
    if signature is not None:
        headers["X-Signature"] = signature
    return client.post(URL, data=body, content_type="application/json", headers=headers)


def customer_balance(bank):
    return LedgerAccount.objects.get(pk=bank.account.ledger_account_id).balance


def test_a_signed_withdrawal_is_approved(client, bank, atm):
    body = body_of(withdrawal(atm, bank.number, "2500.00"))
    response = post(client, body, atm.terminal_id, sign(atm, body))
    assert response.status_code == 200
    answer = response.json()
    assert answer["response_code"] == "00" and answer["notes"] == {"500": 5}
    assert answer["available_balance"] == "47500.00"
    assert bank.number not in response.content.decode()
    assert customer_balance(bank) == 47_500_00
    assert response["Cache-Control"].startswith("max-age=0") or "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("case", ["missing", "no signature", "wrong", "unknown terminal", "body changed"])
def test_a_wrong_or_missing_signature_is_refused_and_posts_nothing(client, bank, atm, case):
    body = body_of(withdrawal(atm, bank.number, "2500.00"))
    args = {"missing": (None, None), "no signature": (atm.terminal_id, None),
            "wrong": (atm.terminal_id, "0" * 64), "unknown terminal": ("ATM99999", sign(atm, body)),
            "body changed": (atm.terminal_id, sign(atm, body.replace(b"2500.00", b"250.00")))}[case]
    response = post(client, body, *args)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert customer_balance(bank) == 50_000_00 and not SwitchMessage.objects.exists()


def test_a_signature_replayed_for_another_terminal_is_refused(client, bank, atm, other_atm):
    body = body_of(withdrawal(atm, bank.number, "2500.00"))
    response = post(client, body, other_atm.terminal_id, sign(atm, body))
    assert response.status_code == 401 and response.json()["code"] == "signature_invalid"
    # Signed by the other terminal with its own key, but naming the first: refused too.
    response = post(client, body, other_atm.terminal_id, sign(other_atm, body))
    assert response.status_code == 401 and response.json()["code"] == "terminal_mismatch"
    assert customer_balance(bank) == 50_000_00 and not JournalEntry.objects.filter(
        narration__startswith="ATM WDL").exists()


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe", b"[" * 50_000, b"null", b"[]", b'"0200"'])
def test_a_body_that_is_not_a_message_is_declined(client, bank, atm, body):
    response = post(client, body, atm.terminal_id, sign(atm, body))
    assert response.status_code == 200 and response.json()["response_code"] == "05"
    assert not SwitchMessage.objects.exists()


def test_the_card_number_is_in_no_log(client, bank, atm, caplog):
    caplog.set_level("DEBUG")
    for stan, pin in (("000001", "4826"), ("000002", "1111")):
        body = body_of(withdrawal(atm, bank.number, "2500.00", stan=stan, pin=pin))
        assert post(client, body, atm.terminal_id, sign(atm, body)).status_code == 200
    body = body_of(withdrawal(atm, bank.number, "2500.00", stan="000003"))
    post(client, body, atm.terminal_id, "f" * 64)
    assert caplog.records and bank.number not in caplog.text


def test_a_duplicate_over_http_posts_once(client, bank, atm):
    body = body_of(withdrawal(atm, bank.number, "2500.00"))
    first = post(client, body, atm.terminal_id, sign(atm, body)).json()
    again = post(client, body, atm.terminal_id, sign(atm, body)).json()
    assert first == again
    assert customer_balance(bank) == 47_500_00


def test_a_browser_session_cannot_send_messages(client, bank, atm):
    client.force_login(bank.user)
    response = client.post(URL, data=json.dumps({"mti": "0800"}), content_type="application/json")
    assert response.status_code == 401
