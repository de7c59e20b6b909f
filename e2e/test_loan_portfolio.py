"""Journey: after end of day has classified the loans, the branch's supervisor follows
its overdue list by SMA bucket, and operations read the portfolio by product and
bucket, the SMA and NPA report as of an earlier date (and one before any end of day)
and the provisions, which agree with the GL."""

import datetime

import pytest
from playwright.sync_api import expect

from banking.ledger.models import BusinessDate
from banking.loans import eod
from banking.loans.actions import disburse_loan
from banking.loans.models import Instalment
from banking.loans.tests.factories import LoanBank, key

from .helpers import VIEWPORTS, named, screenshot, sign_in

pytestmark = pytest.mark.e2e

DAY = datetime.timedelta(days=1)


@pytest.fixture
def loan_book(transactional_db):
    """Priya's personal loan, its first EMI unpaid: SMA-1 at one end of day, an NPA
    (sub-standard) at the last."""
    bank = LoanBank()
    loan = bank.sanctioned(amount=5_00_000_00, months=24)
    disburse_loan(actor=bank.teller, loan=loan, amount=5_00_000_00, idempotency_key=key())
    due = Instalment.objects.filter(schedule__loan=loan).order_by("due_date").first().due_date
    eod.classify_loans(date=due + 39 * DAY)
    eod.classify_loans(date=due + 94 * DAY)
    BusinessDate.objects.update_or_create(pk=1, defaults={"date": due + 95 * DAY})
    named(bank.supervisor, "Meera", "Iyer")
    named(bank.ops, "Arjun", "Rao")
    return bank, loan, due


def go_to(page, portal, section):
    """Opens a section from the portal's navigation (behind the menu button on a phone)."""
    menu = page.get_by_role("button", name="Menu")
    if menu.is_visible():
        menu.click()
    page.get_by_role("navigation", name=f"{portal} navigation").get_by_role("link", name=section).click()


@pytest.mark.parametrize("width", [1280, 390])
def test_overdue_loans_portfolio_and_provisions(page, loan_book, width):
    bank, loan, due = loan_book
    page.set_viewport_size(VIEWPORTS[width])

    sign_in(page, bank.supervisor)
    go_to(page, "Supervisor", "Overdue loans")
    expect(page.get_by_role("heading", name="Overdue loans")).to_be_visible()
    expect(page.get_by_test_id("bucket-npa")).to_have_text("1 loan")
    expect(page.get_by_role("row").filter(has_text=loan.number)).to_contain_text("Sub-standard")
    page.get_by_role("link", name="SMA-1").click()
    expect(page.get_by_text("No loan is overdue.")).to_be_visible()
    page.get_by_role("link", name="NPA").click()
    expect(page.get_by_role("row").filter(has_text=loan.number)).to_contain_text("95")
    screenshot(page, f"loans-overdue-{width}")

    page.context.clear_cookies()
    sign_in(page, bank.ops)
    go_to(page, "Operations", "Loan portfolio")
    expect(page.get_by_role("heading", name="Loan portfolio")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="Sub-standard")
    expect(row).to_contain_text("Personal loan")
    expect(row).to_contain_text("₹5,00,000.00")
    expect(page.get_by_test_id("gross-npa")).to_have_text("100.0%")
    screenshot(page, f"loan-portfolio-{width}")

    page.get_by_role("link", name="SMA and NPA", exact=True).click()
    page.get_by_label("As of").fill((due + 50 * DAY).isoformat())
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text(f"As classified at the end of day of {due + 39 * DAY:%d %b %Y}")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text=loan.number)).to_contain_text("SMA-1")
    screenshot(page, f"loan-sma-npa-{width}")
    # Before any end of day: nothing to show, said in words.
    page.get_by_label("As of").fill((due - 30 * DAY).isoformat())
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("No end of day has classified the loans yet on or before that date.")).to_be_visible()

    page.get_by_role("link", name="Provisions").click()
    expect(page.get_by_role("heading", name="Loan provisions")).to_be_visible()
    expect(page.get_by_test_id("provision-total")).to_have_text("₹1,25,000.00")
    expect(page.get_by_test_id("provision-agrees")).to_have_text("Agrees with the loans")
    screenshot(page, f"loan-provisions-{width}")
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
