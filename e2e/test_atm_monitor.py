"""Journey: operations drives the ATM simulator with the fleet monitor open in a
second tab. A ₹2,500 withdrawal is approved and the monitor's ₹500 cash bar drops
without a reload; three wrong PINs give 75; the card, hotlisted, gives 41."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from banking.cards.actions import hotlist
from banking.cards.models import CardStatus, Terminal
from banking.cards.tests.factories import PIN, CardBank
from banking.testing import make_user
from banking.users.roles import Role

from .helpers import VIEWPORTS, named, screenshot, sign_in

pytestmark = pytest.mark.e2e

LIVE = 15_000  # ms: the grid polls every 3 s


@pytest.fixture
def scene(transactional_db):
    bank = CardBank(balance=50_000_00)
    atm = bank.terminal("CBSA0001", n500=200, n200=200, n100=200)
    Terminal.objects.filter(pk=atm.pk).update(last_heartbeat_at=timezone.now())
    ops = named(make_user(Role.OPERATIONS), "Farhan", "Qureshi")
    return {"bank": bank, "atm": atm, "ops": ops}


def open_menu_if_folded(page):
    menu = page.get_by_role("button", name="Menu")
    if menu.is_visible():
        menu.click()


def key_in(page, digits):
    keypad = page.get_by_role("group", name="Keypad")
    for digit in digits:
        keypad.get_by_role("button", name=digit, exact=True).click()


def choose(page, bank, transaction):
    page.get_by_label(re.compile(r"^\s*ATM\*?\s*$")).select_option(label="CBSA0001 · MG Road")
    page.get_by_label(re.compile(r"^\s*Card\*?\s*$")).select_option(value=str(bank.card.pk))
    page.get_by_label(transaction).check()


@pytest.mark.parametrize("width", [1280, 390])
def test_a_withdrawal_in_the_simulator_drops_the_monitors_cash_bar(browser, scene, live_server, width):
    context = browser.new_context(base_url=live_server.url, viewport=VIEWPORTS[width])
    monitor = context.new_page()
    bank = scene["bank"]

    sign_in(monitor, scene["ops"])
    open_menu_if_folded(monitor)
    monitor.get_by_role("navigation", name="Operations navigation").get_by_role("link", name="ATM fleet").click()
    expect(monitor.get_by_role("heading", name="ATM fleet")).to_be_visible()
    tile = monitor.get_by_test_id("atm-CBSA0001")
    expect(tile.get_by_test_id("atm-status")).to_have_text("In service")
    expect(tile.get_by_test_id("cash-500")).to_have_attribute("value", "200")
    screenshot(monitor, f"ops-atm-fleet-{width}")

    atm = context.new_page()
    atm.goto("/ops/atm/simulator/")
    expect(atm.get_by_role("heading", name="ATM simulator")).to_be_visible()
    choose(atm, bank, "Cash withdrawal")
    key_in(atm, PIN)
    expect(atm.get_by_label("PIN")).to_have_value(PIN)
    atm.get_by_role("button", name="Keys to amount").click()
    key_in(atm, "2500")
    expect(atm.get_by_label("Amount (₹)")).to_have_value("2500")
    atm.get_by_role("button", name="Enter", exact=True).click()
    receipt = atm.get_by_test_id("receipt")
    expect(receipt.get_by_test_id("response")).to_have_text("Response 00: Approved")
    expect(receipt).to_contain_text("5 × ₹500")
    expect(receipt).to_contain_text("Available balance ₹47,500.00")
    screenshot(atm, f"ops-atm-simulator-{width}")

    # The monitor, open all along in the other tab, shows the notes gone without a reload.
    expect(tile.get_by_test_id("cash-500")).to_have_attribute("value", "195", timeout=LIVE)
    expect(tile.get_by_test_id("success-rate")).to_have_text("100% of 1 approved", timeout=LIVE)

    # Three wrong PINs: 55, 55, then 75.
    for expected in ("Response 55: Wrong PIN", "Response 55: Wrong PIN", "Response 75: PIN tries exceeded"):
        choose(atm, bank, "Balance enquiry")
        atm.get_by_label("PIN").fill("1357")
        atm.get_by_role("button", name="Enter", exact=True).click()
        expect(atm.get_by_test_id("response")).to_have_text(expected)

    # Hotlisted as lost: 41, whatever the PIN.
    hotlist(actor=bank.teller, card=bank.card, reason=CardStatus.LOST)
    atm.reload()
    choose(atm, bank, "Cash withdrawal")
    atm.get_by_label("PIN").fill(PIN)
    atm.get_by_label("Amount (₹)").fill("500")
    atm.get_by_role("button", name="Enter", exact=True).click()
    expect(atm.get_by_test_id("response")).to_have_text("Response 41: Lost card")
    expect(tile.get_by_test_id("cash-500")).to_have_attribute("value", "195")
    screenshot(atm, f"ops-atm-simulator-declined-{width}")
    context.close()


def test_bad_input_in_the_simulator_is_refused_in_words(browser, scene, live_server):
    context = browser.new_context(base_url=live_server.url, viewport=VIEWPORTS[390])
    page = context.new_page()
    sign_in(page, scene["ops"])
    page.goto("/ops/atm/simulator/")
    choose(page, scene["bank"], "Cash withdrawal")
    page.get_by_role("button", name="Enter", exact=True).click()
    expect(page.get_by_text("Key in the card's PIN: 4 to 12 digits.")).to_be_visible()
    expect(page.get_by_text("Key in the amount to withdraw.")).to_be_visible()
    context.close()
