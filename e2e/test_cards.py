"""Debit cards in the browser. On a phone, a customer sets a green PIN with their
authenticator code (a wrong code is refused in words first) and turns off online
shopping on the card: the switch saves itself and the card's controls redraw without
a reload. At a desktop, a teller issues a card to the account's holder (a second card
for the same holder is refused in words) and downloads its mailer, which carries the
CVV, once: the button is gone after it."""

import io

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from banking.cards.actions import issue_card, set_controls
from banking.cards.mailer import card_verification_value
from banking.cards.models import Card
from banking.deposits.tests.factories import ensure_products
from banking.ledger.chart import ensure_standard_chart
from banking.teller.tests.factories import open_account
from banking.testing import give_totp, make_branch, make_user
from banking.users.roles import Role

from .helpers import VIEWPORTS, fresh_totp, named, screenshot, sign_in, wrong_code

pytestmark = pytest.mark.e2e


@pytest.fixture
def branch_with_customer(transactional_db):
    ensure_products()
    branch = make_branch("000091", name="Koregaon Park, Pune")
    ensure_standard_chart([(branch.code, branch.name)])
    supervisor = named(make_user(Role.SUPERVISOR, branch=branch, approval_limit=10_00_000_00), "Sunil", "Deshmukh")
    teller = named(make_user(Role.TELLER, branch=branch), "Asha", "Kulkarni")
    account = open_account(branch, teller, supervisor, balance=20_000_00, first_name="Priya", last_name="Sharma")
    user = named(make_user(Role.CUSTOMER, username="priya.cards"), "Priya", "Sharma")
    user.totp_secret = give_totp(user)
    account.customer.user = user
    account.customer.save(update_fields=["user"])
    return teller, account, user


def test_a_customer_on_a_phone_sets_a_green_pin_and_turns_off_online_shopping(browser, live_server,
                                                                               branch_with_customer):
    teller, account, user = branch_with_customer
    card = issue_card(actor=teller, account=account)
    # Priya had turned online shopping on earlier.
    set_controls(actor=user, card=card, atm_enabled=True, pos_enabled=True, ecommerce_enabled=True,
                 atm_daily_limit=card.atm_daily_limit)
    page = browser.new_context(base_url=live_server.url, viewport=VIEWPORTS[390]).new_page()
    sign_in(page, user)
    page.goto("/banking/cards/")
    expect(page.get_by_role("heading", name="My cards")).to_be_visible()
    expect(page.get_by_test_id("masked-number")).to_have_text(card.masked)
    page.get_by_role("link", name=card.get_product_display()).click()
    page.get_by_role("link", name="Set the PIN").click()

    page.get_by_label("New PIN").fill("4071")
    page.get_by_label("Repeat the PIN").fill("4071")
    page.get_by_label("Authenticator code").fill(wrong_code(user.totp_secret))
    page.get_by_role("button", name="Set the PIN").click()
    expect(page.get_by_text("That authenticator code is not right")).to_be_visible()
    card.refresh_from_db()
    assert not card.pin_hash

    page.get_by_label("New PIN").fill("4071")
    page.get_by_label("Repeat the PIN").fill("4071")
    page.get_by_label("Authenticator code").fill(fresh_totp(user))
    page.get_by_role("button", name="Set the PIN").click()
    expect(page.get_by_text(f"The PIN of card {card.masked} is set")).to_be_visible()
    card.refresh_from_db()
    assert card.pin_matches("4071")

    # The switch saves by itself: the page stays (the marker survives), its controls redraw.
    page.evaluate("window.cardPageMarker = 'still here'")
    online = page.get_by_role("switch", name="Online shopping (e-commerce)")
    expect(online).to_be_checked()
    online.click()
    expect(page.get_by_test_id("controls-status")).to_contain_text("online shopping off")
    expect(page.get_by_role("switch", name="Online shopping (e-commerce)")).not_to_be_checked()
    assert page.evaluate("window.cardPageMarker") == "still here"
    card.refresh_from_db()
    assert not card.ecommerce_enabled and card.atm_enabled and card.pos_enabled
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    assert card.number not in page.content()
    screenshot(page, "customer-card-controls-390")


def test_a_teller_issues_a_card_and_downloads_its_mailer_once(browser, live_server, branch_with_customer, tmp_path):
    teller, account, _user = branch_with_customer
    page = browser.new_context(base_url=live_server.url, viewport=VIEWPORTS[1280]).new_page()
    sign_in(page, teller)
    page.get_by_role("link", name="Debit cards").click()
    expect(page.get_by_role("heading", name="Debit cards", exact=True)).to_be_visible()
    page.get_by_label("Account number").fill(account.number)
    page.get_by_role("button", name="Show cards").click()
    expect(page.get_by_text("No card has been issued on this account.")).to_be_visible()
    page.get_by_label("Cardholder").select_option(label=f"Priya Sharma (CIF {account.customer.cif})")
    page.get_by_role("button", name="Issue the card").click()
    card = Card.objects.get(account=account)
    expect(page.get_by_text(f"Card {card.masked} issued to Priya Sharma")).to_be_visible()
    row = page.get_by_test_id(f"card-row-{card.pk}")
    expect(row).to_contain_text("Not printed")

    # A second card for the same holder on the same account is refused in words.
    page.get_by_role("button", name="Issue the card").click()
    expect(page.get_by_test_id("form-error")).to_contain_text("already has an active card")
    assert Card.objects.filter(account=account).count() == 1

    page.get_by_role("link", name="Debit cards").click()
    expect(page.get_by_test_id("waiting-mailers")).to_contain_text(card.masked)
    page.get_by_test_id("waiting-mailers").get_by_role("link").first.click()
    with page.expect_download() as download:
        page.get_by_test_id(f"card-row-{card.pk}").get_by_role("button", name="Print mailer").click()
    path = tmp_path / "mailer.pdf"
    download.value.save_as(path)
    assert download.value.suggested_filename == f"card-mailer-{card.masked[-4:]}-{card.pk}.pdf"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(path.read_bytes())).pages)
    assert card_verification_value(card.number, card.expires_on) in text and card.masked in text

    page.reload()
    row = page.get_by_test_id(f"card-row-{card.pk}")
    expect(row).to_contain_text("Printed")
    expect(row.get_by_role("button", name="Print mailer")).to_have_count(0)
    assert card.number not in page.content()
    screenshot(page, "teller-cards-1280")
