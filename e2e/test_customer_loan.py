"""A customer's personal loan online, on a phone and at a desktop: the customer fills
the application and sees the eligibility as they type (a zero income is refused in
words first), applies, reads the Key Facts Statement and accepts it with their
authenticator code (a wrong code is refused); a supervisor in another browser
sanctions it from the queue; the customer's page turns to "paid into your account"
by itself, the money less the fee and GST is in their account; a month on they pay
the first EMI from their account with their code, and download the repayment
schedule."""

import re

import pytest
from playwright.sync_api import expect

from banking.core.money import format_money
from banking.deposits.tests.factories import ensure_products
from banking.ledger.chart import ensure_standard_chart
from banking.ledger.models import BusinessDate
from banking.loans.models import ApplicationStatus, Loan, LoanApplication
from banking.teller.tests.factories import open_account
from banking.testing import give_totp, make_branch, make_user
from banking.users.roles import Role

from .helpers import VIEWPORTS, fresh_totp, named, screenshot, sign_in, wrong_code

pytestmark = pytest.mark.e2e

LIVE = 15_000  # ms: the queue and the application page refresh themselves every few seconds


@pytest.fixture
def borrower(transactional_db, monkeypatch):
    # The credit bureau is outside the bank: its answer for this borrower is fixed here.
    monkeypatch.setattr("banking.loans.bureau.score_for", lambda customer: 780)
    ensure_products()
    branch = make_branch("000071", name="Baner, Pune")
    ensure_standard_chart([(branch.code, branch.name)])
    supervisor = named(make_user(Role.SUPERVISOR, branch=branch, approval_limit=10_00_000_00), "Sunil", "Deshmukh")
    teller = make_user(Role.TELLER, branch=branch)
    account = open_account(branch, teller, supervisor, balance=2_000_00, first_name="Priya", last_name="Sharma")
    user = named(make_user(Role.CUSTOMER, username="priya.online"), "Priya", "Sharma")
    user.totp_secret = give_totp(user)
    account.customer.user = user
    account.customer.save(update_fields=["user"])
    return user, supervisor, account


@pytest.mark.parametrize("width", [390, 1280])
def test_personal_loan_online_from_application_to_money_in_the_account(browser, live_server, borrower, width):
    user, supervisor, account = borrower
    customer_context = browser.new_context(base_url=live_server.url, viewport=VIEWPORTS[width])
    supervisor_context = browser.new_context(base_url=live_server.url, viewport=VIEWPORTS[width])
    page, checker = customer_context.new_page(), supervisor_context.new_page()

    sign_in(page, user)
    page.goto("/banking/loans/")
    expect(page.get_by_role("heading", name="My loans")).to_be_visible()
    page.get_by_role("link", name="Apply for a personal loan").click()
    expect(page.get_by_role("heading", name="Apply for a personal loan")).to_be_visible()
    page.get_by_label("Loan amount (₹)").fill("5,00,000")
    page.get_by_label("Tenure (months)").fill("60")
    page.get_by_label("What is the loan for?").fill("Wedding")
    page.get_by_label("EMIs you already pay each month (₹)").fill("10,000")
    # the refusal: no income, no loan, said in words
    page.get_by_label("Your net monthly income (₹)").fill("0")
    page.get_by_role("button", name="Check eligibility").click()
    expect(page.get_by_text("Your net monthly income must be above zero").first).to_be_visible()
    assert not LoanApplication.objects.exists()

    # eligibility shows as the form changes
    page.get_by_label("Your net monthly income (₹)").fill("1,00,000")
    page.get_by_label("What is the loan for?").focus()
    eligibility = page.get_by_test_id("eligibility")
    expect(eligibility).to_contain_text("You are eligible")
    expect(eligibility).to_contain_text("Your credit bureau score: 780")
    expect(page.get_by_test_id("emi")).to_have_text("₹10,746.95")
    screenshot(page, f"customer-loan-apply-{width}")
    page.get_by_role("button", name="Apply and see the Key Facts Statement").click()

    kfs = page.get_by_test_id("kfs")
    expect(kfs.get_by_role("heading", name="Key Facts Statement")).to_be_visible()
    expect(kfs).to_contain_text("₹5,000.00 + ₹900.00 GST")
    expect(kfs).to_contain_text("Annual percentage rate (APR), fees included")
    page.get_by_label("I have read the Key Facts Statement and I accept it.").check()
    # a wrong code accepts nothing
    page.get_by_label("Authenticator code").fill(wrong_code(user.totp_secret))
    page.get_by_role("button", name="Accept and send for sanction").click()
    expect(page.get_by_text("That authenticator code is not right")).to_be_visible()
    assert LoanApplication.objects.get().status == ApplicationStatus.APPLIED
    page.get_by_label("I have read the Key Facts Statement and I accept it.").check()
    page.get_by_label("Authenticator code").fill(fresh_totp(user))
    screenshot(page, f"customer-loan-kfs-{width}")
    page.get_by_role("button", name="Accept and send for sanction").click()
    status = page.get_by_test_id("application-status")
    expect(status).to_contain_text("Waiting for sanction at Baner, Pune")

    sign_in(checker, supervisor)
    checker.goto("/supervisor/queue/")
    row = checker.get_by_role("link", name=re.compile("Sanction Personal loan of ₹5,00,000.00"))
    expect(row).to_be_visible(timeout=LIVE)
    row.click()
    description = checker.get_by_test_id("request-description")
    expect(description).to_contain_text("Priya Sharma")
    expect(description).to_contain_text("Accepted online by the borrower with their authenticator code")
    checker.get_by_role("button", name=re.compile("^Approve")).click()
    expect(checker.get_by_text(re.compile("Approved and carried out"))).to_be_visible()

    # the customer's page follows the sanction by itself
    expect(status).to_contain_text(f"₹5,00,000.00 paid into your account {account.number}", timeout=LIVE)
    screenshot(page, f"customer-loan-sanctioned-{width}")
    loan = Loan.objects.get()
    page.goto("/banking/")
    expect(page.get_by_test_id(f"account-{account.number}").get_by_test_id("balance")).to_have_text(
        "₹4,96,100.00")  # ₹2,000 + ₹5,00,000 − ₹5,000 fee − ₹900 GST
    expect(page.get_by_text(f"Loan {loan.number} disbursement").first).to_be_visible()

    page.goto("/banking/loans/")
    page.get_by_role("link", name="Personal loan", exact=True).click()
    expect(page.get_by_role("heading", name="Personal loan")).to_be_visible()
    expect(page.get_by_test_id("outstanding")).to_have_text("₹5,00,000.00")
    expect(page.get_by_test_id("schedule")).to_contain_text("₹10,746.95")
    screenshot(page, f"customer-loan-{width}")

    # A month on (as end of day moves the date), the first EMI is due: paid from the account with the code.
    first = loan.current_schedule.instalments.get(number=1)
    BusinessDate.objects.update_or_create(pk=1, defaults={"date": first.due_date})
    page.get_by_role("link", name="Pay an EMI").click()
    expect(page.get_by_test_id("due-total")).to_have_text(format_money(first.total))
    page.get_by_label("Authenticator code").fill(fresh_totp(user))
    screenshot(page, f"customer-loan-pay-{width}")
    page.get_by_role("button", name="Pay", exact=True).click()
    expect(page.get_by_text(re.compile(r"Paid ₹[\d,]+\.\d\d from .*: receipt "))).to_be_visible()
    expect(page.get_by_test_id("repayments")).to_be_visible()
    expect(page.get_by_test_id("schedule").get_by_role("row").nth(1)).to_contain_text("Paid")
    first.refresh_from_db()
    assert first.is_paid
    with page.expect_download() as download:
        page.get_by_role("link", name="Schedule (PDF)").click()
    assert download.value.suggested_filename == f"schedule-{loan.number}.pdf"
    customer_context.close()
    supervisor_context.close()
