"""Operations' ATM screens: the fleet monitor and its alerts, a terminal's page, and the
simulator, whose messages go through the switch's real API."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from banking.cards.actions import hotlist
from banking.cards.models import (
    AlertKind,
    CardStatus,
    Cassette,
    MessageKind,
    SwitchMessage,
    Terminal,
    TerminalAlert,
)
from banking.cards.monitor import sweep_alerts
from banking.cards.tests.factories import PIN, CardBank
from banking.ledger.models import JournalEntry, LedgerAccount
from banking.testing import make_user
from banking.users.roles import Role

HTMX = {"HX-Request": "true"}
FLEET = "/ops/atm/"
SIMULATOR = "/ops/atm/simulator/"


@pytest.fixture
def bank(db):
    return CardBank(balance=50_000_00)


@pytest.fixture
def atm(bank):
    terminal = bank.terminal("ATMSIM01", n500=200, n200=200, n100=200)
    Terminal.objects.filter(pk=terminal.pk).update(last_heartbeat_at=timezone.now())
    terminal.refresh_from_db()
    return terminal


@pytest.fixture
def ops(client, bank):
    user = make_user(Role.OPERATIONS)
    client.force_login(user)
    return user


def withdraw(client, atm, bank, amount="2500", *, pin=PIN, outcome="dispensed", dispensed="", card=None):
    return client.post(SIMULATOR, {"terminal": atm.pk, "card": (card or bank.card).pk, "transaction": "01",
                                   "pin": pin, "amount": amount, "outcome": outcome, "dispensed": dispensed})


def balance(bank):
    return LedgerAccount.objects.get(pk=bank.account.ledger_account_id).balance


def count(atm, denomination):
    return Cassette.objects.get(terminal=atm, denomination=denomination).count


# -- the fleet monitor ---------------------------------------------------------------


def test_the_fleet_shows_every_terminal_its_status_cash_and_last_hour(client, ops, bank, atm):
    low = bank.terminal("ATMLOW01", n500=0, n200=6, n100=12)
    page = client.get(FLEET)
    assert page.status_code == 200
    text = page.content.decode()
    assert "ATMSIM01" in text and "ATMLOW01" in text
    assert "In service" in text and "Down" in text  # ATMLOW01 never sent a heartbeat
    assert 'data-testid="cash-500"' in text and 'value="200"' in text
    assert "no requests" in text
    assert "ATM fleet" in text  # the portal's navigation names it
    Terminal.objects.filter(pk=low.pk).update(last_heartbeat_at=timezone.now())
    assert "Cassette empty" in client.get(FLEET).content.decode()


def test_the_grid_and_the_alerts_are_htmx_fragments_that_poll(client, ops, atm):
    grid = client.get(FLEET, headers=HTMX)
    assert grid.status_code == 200 and grid.content.decode().lstrip().startswith('<section id="fleet-grid"')
    assert 'hx-trigger="every 3s"' in grid.content.decode()
    alerts = client.get(FLEET + "?part=alerts", headers=HTMX)
    assert alerts.content.decode().lstrip().startswith('<section id="alert-list"')
    assert "HX-Request" in grid["Vary"]


def test_a_withdrawal_in_the_simulator_shows_on_the_grid(client, ops, bank, atm):
    withdraw(client, atm, bank)
    grid = client.get(FLEET, headers=HTMX).content.decode()
    assert 'value="195"' in grid  # five ₹500 notes out of 200
    assert "100% of 1 approved" in grid


def test_alerts_are_listed_and_acknowledged_once(client, ops, bank, atm):
    silent = bank.terminal("ATMDOWN1")
    sweep_alerts()
    alert = TerminalAlert.objects.get(terminal=silent, kind=AlertKind.DOWN)
    assert "ATMDOWN1 is down" in client.get(FLEET).content.decode()
    url = reverse("ops:atm-alert-acknowledge", args=[alert.pk])
    answer = client.post(url, headers=HTMX)
    assert answer.status_code == 200 and "ATMDOWN1 is down" not in answer.content.decode()
    alert.refresh_from_db()
    assert alert.acknowledged_by == ops
    again = client.post(url, follow=True)
    assert "already acknowledged" in again.content.decode()


def test_readers_without_the_atm_permission_see_the_fleet_but_cannot_act(client, bank, atm):
    sweep_alerts(now=timezone.now() + datetime.timedelta(minutes=10))
    alert = TerminalAlert.objects.get(terminal=atm, kind=AlertKind.DOWN)
    client.force_login(make_user(Role.COMPLIANCE))
    page = client.get(FLEET)
    assert page.status_code == 200 and "Acknowledge" not in page.content.decode()
    assert client.post(reverse("ops:atm-alert-acknowledge", args=[alert.pk])).status_code == 403
    assert client.get(SIMULATOR).status_code == 403
    assert client.post(SIMULATOR, {}).status_code == 403
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


@pytest.mark.parametrize("role", [Role.TELLER, Role.SUPERVISOR, Role.CUSTOMER])
def test_branch_staff_and_customers_are_refused(client, atm, role):
    client.force_login(make_user(role))
    assert client.get(FLEET).status_code == 403
    assert client.get(f"/ops/atm/{atm.terminal_id}/").status_code == 403
    assert client.get(SIMULATOR).status_code == 403


def test_signed_out_people_are_sent_to_sign_in(client, atm):
    assert client.get(FLEET).status_code == 302
    assert client.get(SIMULATOR).status_code == 302


def test_an_unknown_alert_or_terminal_is_a_404_not_a_500(client, ops, atm):
    assert client.post(reverse("ops:atm-alert-acknowledge", args=[999999])).status_code == 404
    assert client.get("/ops/atm/NOSUCH01/").status_code == 404
    assert client.get("/ops/atm/lowercase/").status_code == 404


# -- a terminal's page ---------------------------------------------------------------


def test_the_terminal_page_shows_transactions_reversals_and_balances(client, ops, bank, atm):
    withdraw(client, atm, bank, "2500", outcome="dispense_failure", dispensed="1000")
    page = client.get(f"/ops/atm/{atm.terminal_id}/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "Transactions (1)" in text and "Withdrawal" in text
    assert "Reversals" in text and "₹1,500.00" in text
    gl = LedgerAccount.objects.get(pk=atm.ledger_account_id)
    assert gl.balance == 200 * (500 + 200 + 100) * 100 - 1_000_00
    assert 'data-testid="gl-balance">₹1,59,000.00' in text
    assert 'data-testid="expected-cash">₹1,59,000.00' in text
    assert "No replenishment yet." in text
    assert bank.number not in text


# -- the simulator -------------------------------------------------------------------


def test_the_simulator_page_looks_like_an_atm_and_never_shows_a_card_number(client, ops, bank, atm):
    page = client.get(SIMULATOR)
    text = page.content.decode()
    assert page.status_code == 200 and "Keypad" in text and bank.card.masked in text
    assert bank.number not in text


def test_a_withdrawal_goes_through_the_real_api_signed_and_posts_once(client, ops, bank, atm):
    before = balance(bank)
    answer = withdraw(client, atm, bank)
    assert answer.status_code == 302  # the receipt is shown after a redirect: a reload sends nothing
    receipt = client.get(SIMULATOR).content.decode()
    assert "Response 00: Approved" in receipt and "5 × ₹500" in receipt
    assert balance(bank) == before - 2_500_00
    message = SwitchMessage.objects.get(terminal=atm, kind=MessageKind.WITHDRAWAL)
    assert message.response_code == "00" and message.amount == 2_500_00
    assert JournalEntry.objects.get(pk=message.entry_id).narration == f"ATM WDL {atm.terminal_id} {message.stan}"
    assert "Response 00" not in client.get(SIMULATOR).content.decode()  # shown once
    assert bank.number not in receipt


def test_the_simulator_signs_with_the_terminals_key(client, ops, bank, atm, monkeypatch):
    """A key that is not the terminal's is refused by the API door: the simulator
    does not go round the signature check."""
    from portals.operations import atm_simulator

    monkeypatch.setattr(atm_simulator, "sign", lambda key, body: "0" * 64)
    withdraw(client, atm, bank)
    receipt = client.get(SIMULATOR).content.decode()
    assert "401" in receipt and "signature does not match" in receipt
    assert not SwitchMessage.objects.filter(terminal=atm).exists()


def test_three_wrong_pins_give_55_55_then_75(client, ops, bank, atm):
    codes = []
    for _ in range(3):
        withdraw(client, atm, bank, pin="1357")
        codes.append(SwitchMessage.objects.filter(terminal=atm).order_by("-id").first().response_code)
    assert codes == ["55", "55", "75"]
    assert "Response 75: PIN tries exceeded" in client.get(SIMULATOR).content.decode()


def test_a_hotlisted_card_gives_41(client, ops, bank, atm):
    hotlist(actor=bank.teller, card=bank.card, reason=CardStatus.LOST)
    withdraw(client, atm, bank)
    assert "Response 41: Lost card" in client.get(SIMULATOR).content.decode()


def test_a_dispense_failure_sends_a_0420_with_what_was_dispensed(client, ops, bank, atm):
    before = balance(bank)
    withdraw(client, atm, bank, "2500", outcome="dispense_failure", dispensed="1000")
    reversal = SwitchMessage.objects.get(terminal=atm, kind=MessageKind.REVERSAL)
    assert reversal.response_code == "00" and reversal.reversed_amount == 1_500_00
    assert reversal.response["mti"] == "0430"
    assert balance(bank) == before - 1_000_00
    assert TerminalAlert.objects.filter(terminal=atm, kind=AlertKind.DISPENSE_MISMATCH).count() == 1
    assert "Reversal (dispense failure): 0420 → 0430 00" in client.get(SIMULATOR).content.decode()


def test_a_timeout_sends_a_0420_for_the_whole_amount(client, ops, bank, atm):
    before, notes = balance(bank), count(atm, 500)
    withdraw(client, atm, bank, "2500", outcome="timeout")
    reversal = SwitchMessage.objects.get(terminal=atm, kind=MessageKind.REVERSAL)
    assert reversal.reversed_amount == 2_500_00 and reversal.original.response_code == "00"
    assert balance(bank) == before
    assert count(atm, 500) == notes  # the notes not dispensed are back in the switch's count
    assert "did not get this answer in time" in client.get(SIMULATOR).content.decode()


def test_a_balance_enquiry_and_a_mini_statement(client, ops, bank, atm):
    client.post(SIMULATOR, {"terminal": atm.pk, "card": bank.card.pk, "transaction": "31", "pin": PIN,
                            "outcome": "dispensed"})
    assert "Available balance ₹50,000.00" in client.get(SIMULATOR).content.decode()
    client.post(SIMULATOR, {"terminal": atm.pk, "card": bank.card.pk, "transaction": "38", "pin": PIN,
                            "outcome": "dispensed"})
    assert "Response 00" in client.get(SIMULATOR).content.decode()
    assert SwitchMessage.objects.filter(terminal=atm, kind=MessageKind.MINI_STATEMENT).count() == 1


def test_an_amount_that_is_not_a_multiple_of_100_is_declined_by_the_switch(client, ops, bank, atm):
    before = balance(bank)
    withdraw(client, atm, bank, "150")
    assert "Response 05: Do not honour" in client.get(SIMULATOR).content.decode()
    assert balance(bank) == before


@pytest.mark.parametrize(("data", "words"), [
    ({"pin": ""}, "Key in the card&#x27;s PIN"),
    ({"pin": "12a4"}, "Key in the card&#x27;s PIN"),
    ({"amount": ""}, "Key in the amount to withdraw"),
    ({"amount": "lots"}, "Enter the amount in rupees"),
    ({"amount": "-500"}, "Enter the amount in rupees"),
    ({"amount": "0"}, "Enter an amount above zero"),
    ({"terminal": "999999"}, "Choose one of the bank&#x27;s ATMs"),
    ({"terminal": "x"}, "Choose one of the bank&#x27;s ATMs"),
    ({"card": "999999"}, "Choose one of the cards listed"),
    ({"transaction": "99"}, "Select a valid choice"),
    ({"outcome": "dispense_failure", "dispensed": "2500"}, "less than the amount asked for"),
])
def test_bad_input_is_refused_in_words_and_sends_nothing(client, ops, bank, atm, data, words):
    form = {"terminal": atm.pk, "card": bank.card.pk, "transaction": "01", "pin": PIN, "amount": "2500",
            "outcome": "dispensed", "dispensed": "", **data}
    answer = client.post(SIMULATOR, form)
    assert answer.status_code == 200
    assert words in answer.content.decode()
    assert not SwitchMessage.objects.exists()


def test_going_silent_stops_heartbeats_and_the_terminal_turns_down_after_five_minutes(client, ops, bank, atm):
    other = bank.terminal("ATMSIM02")
    Terminal.objects.filter(pk__in=[atm.pk, other.pk]).update(last_heartbeat_at=None)
    client.post(reverse("ops:atm-simulator-power"), {"terminal": atm.pk, "power": "silent"})
    answer = client.post(reverse("ops:atm-simulator-heartbeats"), headers=HTMX)
    assert answer.status_code == 200 and "ATMSIM01</strong> silent" in answer.content.decode()
    atm.refresh_from_db()
    other.refresh_from_db()
    assert atm.last_heartbeat_at is None and other.last_heartbeat_at is not None
    later = other.last_heartbeat_at + datetime.timedelta(minutes=5)
    assert Terminal.objects.for_monitor().get(pk=other.pk).fleet_status(later) == "down"
    client.post(reverse("ops:atm-simulator-power"), {"terminal": atm.pk, "power": "resume"})
    atm.refresh_from_db()
    assert atm.last_heartbeat_at is not None


def test_a_bad_power_request_is_refused_in_words(client, ops, atm):
    answer = client.post(reverse("ops:atm-simulator-power"), {"terminal": "nope", "power": "explode"}, follow=True)
    text = answer.content.decode()
    assert answer.status_code == 200 and "Choose one of the bank&#x27;s ATMs" in text
    assert "Say whether the ATM goes silent or resumes" in text
