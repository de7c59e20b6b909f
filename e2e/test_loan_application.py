"""A walk-in customer's personal loan, at a desktop's width and at a phone's: the
teller fills the application and the eligibility shows live (a zero income is
refused in words first), takes it, attests the borrower's acknowledgement of the
Key Facts Statement and sends it for sanction; a supervisor in another browser reads
the sanction in words and approves it; the teller disburses it and the money,
less the processing fee and GST, is in the customer's savings account."""

import re

import pytest
from playwright.sync_api import expect

from banking.deposits.tests.factories import ensure_products
from banking.ledger.chart import ensure_standard_chart
from banking.loans.models import Loan, LoanApplication
from banking.teller.tests.factories import open_account
from banking.testing import make_branch, make_user
from banking.users.roles import Role

from .helpers import VIEWPORTS, named, screenshot, sign_in

pytestmark = pytest.mark.e2e

LIVE = 15_000  # ms: the queue refreshes itself every few seconds


@pytest.fixture
def branch_day(transactional_db):
    ensure_products()
    branch = make_branch("000061", name="Koregaon Park, Pune")
    ensure_standard_chart([(branch.code, branch.name)])
    supervisor = named(make_user(Role.SUPERVISOR, branch=branch, approval_limit=10_00_000_00), "Sunil", "Deshmukh")
    teller = named(make_user(Role.TELLER, branch=branch), "Asha", "Kulkarni")
    account = open_account(branch, teller, supervisor, balance=2_000_00, first_name="Priya", last_name="Sharma")
    return teller, supervisor, account


@pytest.mark.parametrize("width", [1280, 390])
def test_walk_in_personal_loan_from_application_to_money_in_the_account(browser, live_server, branch_day, width):
    teller, supervisor, account = branch_day
    teller_context = browser.new_context(base_url=live_server.url, viewport=VIEWPORTS[width])
    supervisor_context = browser.new_context(base_url=live_server.url, viewport=VIEWPORTS[width])
    page, checker = teller_context.new_page(), supervisor_context.new_page()

    sign_in(page, teller)
    page.goto(f"/teller/customers/{account.customer.pk}/loans/new/")
    expect(page.get_by_role("heading", name="Apply for a loan")).to_be_visible()
    page.get_by_role("combobox", name=re.compile("^Loan")).select_option(label="Personal loan")
    page.get_by_label("Amount (₹)").fill("5,00,000")
    page.get_by_label("Tenure (months)").fill("60")
    page.get_by_label("Purpose").fill("Home repairs")
    page.get_by_label("Existing EMIs a month (₹)").fill("10,000")
    page.get_by_label("Bureau score").fill("760")
    # the refusal: no income, no loan, said in words
    page.get_by_label("Net monthly income (₹)").fill("0")
    page.get_by_role("button", name="Check eligibility").click()
    expect(page.get_by_text("The net monthly income must be above zero").first).to_be_visible()
    assert not LoanApplication.objects.exists()

    # eligibility shows as the form changes
    page.get_by_label("Net monthly income (₹)").fill("1,00,000")
    page.get_by_label("Purpose").focus()
    eligibility = page.get_by_test_id("eligibility")
    expect(eligibility).to_contain_text("Eligibility: eligible")
    expect(page.get_by_test_id("emi")).to_have_text("₹10,746.95")
    expect(eligibility).to_contain_text("FOIR 20.75%")
    screenshot(page, f"loan-apply-{width}")
    page.get_by_role("button", name="Take the application").click()

    kfs = page.get_by_test_id("kfs")
    expect(kfs.get_by_role("heading", name="Key Facts Statement")).to_be_visible()
    expect(kfs).to_contain_text("Annual percentage rate (APR), fees included")
    expect(kfs).to_contain_text("₹5,000.00 + ₹900.00 GST")
    screenshot(page, f"loan-kfs-{width}")
    page.get_by_label(re.compile("I gave the borrower the Key Facts Statement")).check()
    page.get_by_role("button", name="Record the acknowledgement").click()
    expect(page.get_by_text("The borrower's acknowledgement of the KFS is recorded.")).to_be_visible()
    page.get_by_role("button", name="Send for sanction").click()
    expect(page.get_by_test_id("application-status")).to_have_text("Waiting for sanction")

    sign_in(checker, supervisor)
    checker.goto("/supervisor/queue/")
    row = checker.get_by_role("link", name=re.compile("Sanction Personal loan of ₹5,00,000.00"))
    expect(row).to_be_visible(timeout=LIVE)
    row.click()
    description = checker.get_by_test_id("request-description")
    expect(description).to_contain_text("Priya Sharma")
    expect(description).to_contain_text("Meets: FOIR 20.75%")
    expect(description).to_contain_text("Signed the printed KFS at the counter")
    screenshot(checker, f"loan-sanction-{width}")
    checker.get_by_role("button", name=re.compile("^Approve")).click()
    expect(checker.get_by_text(re.compile("Approved and carried out"))).to_be_visible()

    page.reload()
    loan = Loan.objects.get()
    page.get_by_role("link", name=loan.number).click()
    expect(page.get_by_role("heading", name=f"Loan {loan.number}")).to_be_visible()
    expect(page.get_by_label("Amount to disburse (₹)")).to_have_value("5,00,000.00")
    page.get_by_role("button", name="Disburse").click()
    expect(page.get_by_text(re.compile(r"₹5,00,000.00 paid into .*processing fee ₹5,000.00 and GST ₹900.00"))
           ).to_be_visible()
    expect(page.get_by_test_id("disbursed")).to_have_text("₹5,00,000.00")
    expect(page.get_by_test_id("schedule")).to_contain_text("₹10,746.95")
    screenshot(page, f"loan-disbursed-{width}")

    account.ledger_account.refresh_from_db()
    assert account.ledger_account.balance == 2_000_00 + 5_00_000_00 - 5_000_00 - 900_00
    page.goto(f"/teller/accounts/{account.number}/statement/")
    expect(page.get_by_text(f"Loan {loan.number} disbursement").filter(visible=True).first).to_be_visible()
    teller_context.close()
    supervisor_context.close()
