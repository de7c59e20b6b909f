"""Journeys: a customer on a phone (and a desktop) sets up a monthly standing
instruction to a payee with the authenticator code and sees it listed with its
next payment; a first payment dated before today is refused and nothing is set up."""

import datetime

import pytest
from playwright.sync_api import expect

from banking.ledger.models import BusinessDate
from banking.payments.models import StandingInstruction
from banking.payments.tests.factories import make_bank, payee

from .helpers import VIEWPORTS, fresh_totp, named, screenshot, sign_in

pytestmark = pytest.mark.e2e


@pytest.fixture
def customer(transactional_db):
    bank = make_bank()
    account = bank.account(balance=1_00_000_00, first_name="Meera", last_name="Iyer")
    payee(account, name="Ravi Kumar", nickname="Landlord")
    return named(bank.customer_login(account), "Meera", "Iyer"), account


def open_the_form(page):
    menu = page.get_by_role("button", name="Menu")
    if menu.is_visible():
        menu.click()
    page.get_by_role("link", name="Standing instructions").click()
    expect(page.get_by_role("heading", name="Standing instructions")).to_be_visible()
    page.get_by_role("link", name="Set up a standing instruction").click()
    expect(page.get_by_role("heading", name="Set up a standing instruction")).to_be_visible()


@pytest.mark.parametrize("width", [390, 1280])
def test_a_customer_sets_up_a_monthly_instruction_and_sees_it_listed(page, customer, width):
    user, account = customer
    page.set_viewport_size(VIEWPORTS[width])
    sign_in(page, user)
    open_the_form(page)
    first = BusinessDate.objects.current() + datetime.timedelta(days=5)
    page.get_by_label("Pay to").select_option(label="Landlord (A/c 50100012345678, HDFC0001234)")
    page.get_by_label("Amount (₹)").fill("15,000")
    page.get_by_label("How often").select_option(label="Monthly")
    page.get_by_label("First payment on").fill(first.isoformat())
    page.get_by_label("NEFT", exact=True).check()
    page.get_by_label("Remarks").fill("Rent")
    page.get_by_label("Authenticator code").fill(fresh_totp(user))
    screenshot(page, f"standing-new-{width}")
    page.get_by_role("button", name="Set up the instruction").click()

    expect(page.get_by_text("Standing instruction set up")).to_be_visible()
    card = page.get_by_test_id("instruction")
    expect(card.get_by_role("heading")).to_have_text("₹15,000.00 monthly to Landlord (A/c 50100012345678, "
                                                     "HDFC0001234)")
    expect(card.get_by_test_id("next-run")).to_have_text(f"{first:%d %b %Y}")
    expect(card.get_by_test_id("status")).to_have_text("Active")
    expect(card.get_by_test_id("last-outcome")).to_contain_text("Not run yet")
    screenshot(page, f"standing-list-{width}")
    assert StandingInstruction.objects.get().debit_account == account


def test_a_first_payment_before_today_is_refused(page, customer):
    user, _ = customer
    page.set_viewport_size(VIEWPORTS[390])
    sign_in(page, user)
    open_the_form(page)
    page.get_by_label("Pay to").select_option(label="Landlord (A/c 50100012345678, HDFC0001234)")
    page.get_by_label("Amount (₹)").fill("15,000")
    page.get_by_label("First payment on").fill((BusinessDate.objects.current()
                                                - datetime.timedelta(days=1)).isoformat())
    page.get_by_label("Authenticator code").fill(fresh_totp(user))
    page.get_by_role("button", name="Set up the instruction").click()
    expect(page.get_by_test_id("form-error")).to_contain_text("The first payment cannot be before today")
    screenshot(page, "standing-refused-390")
    assert StandingInstruction.objects.count() == 0


@pytest.fixture
def counter(transactional_db):
    from banking.testing import make_user
    from banking.users.roles import Role

    bank = make_bank()
    account = bank.account(balance=50_000_00, first_name="Meera", last_name="Iyer")
    payee(account, name="Ravi Kumar", nickname="Landlord")
    teller = named(make_user(Role.TELLER, branch=bank.branch), "Asha", "Kulkarni")
    return teller, account


@pytest.mark.parametrize("width", [1280, 390])
def test_a_teller_sets_one_up_at_the_counter_and_a_bad_account_number_is_refused(page, counter, width):
    teller, account = counter
    page.set_viewport_size(VIEWPORTS[width])
    sign_in(page, teller)
    page.goto("/teller/standing/")
    page.get_by_label("Customer's account number").fill("12345")
    page.get_by_role("button", name="Find").click()
    expect(page.get_by_test_id("lookup-error")).to_be_visible()
    page.get_by_label("Customer's account number").fill(account.number)
    page.get_by_role("button", name="Find").click()
    expect(page.get_by_role("heading", name="Meera Iyer")).to_be_visible()
    page.get_by_label("Pay to").select_option(label="Landlord (A/c 50100012345678, HDFC0001234)")
    page.get_by_label("Amount (₹)").fill("5,000")
    page.get_by_label("First payment on").fill(BusinessDate.objects.current().isoformat())
    screenshot(page, f"teller-standing-{width}")
    page.get_by_role("button", name="Set up the instruction").click()
    expect(page.get_by_text("set up for Meera Iyer")).to_be_visible()
    expect(page.get_by_test_id("instruction")).to_contain_text("₹5,000.00")
    assert StandingInstruction.objects.get().created_by == teller
    # The customer asks to stop it: the teller cancels it with their reason.
    instruction = StandingInstruction.objects.get()
    page.get_by_label(f"Reason for cancelling instruction {instruction.pk}").fill("Moving house")
    page.get_by_role("button", name="Cancel", exact=True).click()
    expect(page.get_by_text(f"Standing instruction {instruction.pk} cancelled")).to_be_visible()
    expect(page.get_by_test_id("instruction")).to_contain_text("Cancelled")
    screenshot(page, f"teller-standing-cancelled-{width}")
