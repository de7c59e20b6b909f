"""Journey: a customer on a phone says an ATM withdrawal debited them and gave no
cash. Sent without choosing a withdrawal, the form says so in words and raises
nothing; then the customer picks the withdrawal, raises the complaint and sees it
listed, open, with the date its reversal is due (T+5). At a desktop, operations
open the complaint from the menu, are refused an amount the ATM cannot have
dispensed, then resolve it with nothing dispensed: the money goes back. At the
counter (1280 and 390 px), a teller is refused an account number that matches
nothing and a complaint with no withdrawal chosen, then raises one for the customer
and sees it confirmed and listed against the account."""

import datetime

import pytest
from playwright.sync_api import expect

from banking.cards.models import DispenseComplaint
from banking.cards.switch import handle_message
from banking.cards.tests.factories import CardBank, withdrawal
from banking.ledger.models import BusinessDate

from .helpers import VIEWPORTS, named, screenshot, sign_in

pytestmark = pytest.mark.e2e

DAY = datetime.date(2026, 12, 7)


@pytest.fixture
def bank(transactional_db):
    """Priya Sharma's card bank, its ATM having logged her ₹2,500 withdrawal the evening before."""
    BusinessDate.objects.update_or_create(pk=1, defaults={"date": DAY})
    bank = CardBank(balance=20_000_00)
    atm = bank.terminal("ATM00001")
    answer = handle_message(terminal=atm, message=withdrawal(atm, bank.number, "2500.00",
                                                             local_time="2026-12-06T19:40:00+05:30"))
    assert answer["response_code"] == "00"
    return bank


@pytest.fixture
def customer(bank):
    user = named(bank.user, "Priya", "Sharma")
    user.totp_secret = bank.totp_secret
    return user


def test_a_customer_on_a_phone_raises_an_atm_complaint_and_sees_it_listed(page, customer):
    page.set_viewport_size(VIEWPORTS[390])
    sign_in(page, customer)
    menu = page.get_by_role("button", name="Menu")
    if menu.is_visible():
        menu.click()
    page.get_by_role("link", name="ATM complaints").click()
    expect(page.get_by_role("heading", name="ATM complaints")).to_be_visible()
    expect(page.get_by_text("You have raised no ATM complaints.")).to_be_visible()
    page.get_by_role("link", name="Raise a complaint").click()
    expect(page.get_by_role("heading", name="Debited but no cash")).to_be_visible()

    page.get_by_role("button", name="Raise the complaint").click()
    expect(page.get_by_text("Choose the withdrawal that gave no cash.")).to_be_visible()
    assert not DispenseComplaint.objects.exists()

    page.get_by_label("06 Dec 2026 · ₹2,500.00 · ATM00001 MG Road", exact=False).check()
    page.get_by_label("What happened (optional)").fill("The screen said 'take your cash' and nothing came out.")
    screenshot(page, "atm-complaint-new-390")
    page.get_by_role("button", name="Raise the complaint").click()

    expect(page.get_by_text("The money is due back by 11 Dec 2026")).to_be_visible()
    card = page.get_by_test_id("complaint")
    expect(card.get_by_role("heading")).to_contain_text("₹2,500.00 at ATM00001")
    expect(card.get_by_test_id("status")).to_have_text("Open: being investigated")
    expect(card).to_contain_text("11 Dec 2026")
    screenshot(page, "atm-complaint-list-390")
    complaint = DispenseComplaint.objects.get()
    assert complaint.channel == "internet" and complaint.amount == 2_500_00


@pytest.fixture
def complaint(customer):
    from banking.cards.complaints import raise_dispense_complaint
    from banking.cards.models import MessageKind, SwitchMessage
    from banking.testing import make_user
    from banking.users.roles import Role

    wdl = SwitchMessage.objects.get(kind=MessageKind.WITHDRAWAL)
    raise_dispense_complaint(actor=customer, customer=customer.customer, withdrawal=wdl, channel="internet")
    return named(make_user(Role.OPERATIONS), "Farhan", "Qureshi")


def test_operations_at_a_desktop_resolve_a_complaint_by_a_reversal(page, complaint):
    page.set_viewport_size(VIEWPORTS[1280])
    sign_in(page, complaint)
    page.get_by_role("navigation", name="Operations navigation").get_by_role("link", name="ATM complaints").click()
    expect(page.get_by_role("heading", name="ATM complaints: debited but no cash")).to_be_visible()
    page.get_by_role("link", name="ATMC").first.click()
    expect(page.get_by_text("No journal of this terminal")).to_be_visible()
    page.get_by_label("Amount the ATM dispensed (₹)").fill("150")
    page.get_by_label("What the electronic journal shows").fill("Notes presented and retracted")
    page.get_by_role("button", name="Resolve the complaint").click()
    expect(page.get_by_text("multiples of ₹100")).to_be_visible()
    page.get_by_label("Amount the ATM dispensed (₹)").fill("0")
    page.get_by_role("button", name="Resolve the complaint").click()
    expect(page.get_by_test_id("status")).to_have_text("Resolved: money credited back")
    screenshot(page, "atm-complaint-resolved-1280")
    assert DispenseComplaint.objects.get().status == "reversed"


@pytest.mark.parametrize("width", [1280, 390])
def test_a_teller_raises_a_complaint_for_a_customer_at_the_counter(page, bank, width):
    page.set_viewport_size(VIEWPORTS[width])
    sign_in(page, named(bank.teller, "Asha", "Kulkarni"))
    menu = page.get_by_role("button", name="Menu")
    if menu.is_visible():
        menu.click()
    page.get_by_role("link", name="ATM complaints").click()
    expect(page.get_by_role("heading", name="ATM complaint: debited but no cash")).to_be_visible()

    # An account number that matches nothing, then the account with no withdrawal chosen: words, no complaint.
    page.get_by_label("Account number").fill("999")
    page.get_by_role("button", name="Find").click()
    expect(page.get_by_test_id("form-error")).to_have_text("No account has that number.")
    page.get_by_label("Account number").fill(bank.account.number)
    page.get_by_role("button", name="Find").click()
    page.get_by_role("button", name="Raise the complaint").click()
    expect(page.get_by_text("Choose the withdrawal that gave no cash.")).to_be_visible()
    assert not DispenseComplaint.objects.exists()

    page.get_by_label("06 Dec 2026 · ₹2,500.00 · ATM00001 MG Road", exact=False).check()
    page.get_by_label("What happened (optional)").fill("Screen went blank, no notes came out.")
    screenshot(page, f"teller-atm-complaint-new-{width}")
    page.get_by_role("button", name="Raise the complaint").click()

    complaint = DispenseComplaint.objects.get()
    expect(page.get_by_text(f"Complaint {complaint.reference} raised for account {bank.account.number}: "
                            "the reversal is due by 11 Dec 2026.")).to_be_visible()
    row = page.get_by_role("row", name=complaint.reference)
    expect(row).to_contain_text("ATM00001")
    expect(row).to_contain_text("₹2,500.00")
    expect(row).to_contain_text("11 Dec 2026")
    expect(page.get_by_text("This account's cards have no ATM withdrawals")).to_be_visible()
    screenshot(page, f"teller-atm-complaint-raised-{width}")
    assert complaint.channel == "branch" and complaint.amount == 2_500_00
