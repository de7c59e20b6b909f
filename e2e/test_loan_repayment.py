"""A teller takes a borrower's EMI in cash, at a desktop's width and at a phone's:
the loan's page shows what is due; more than is due is refused in words and nothing
is written; the EMI, rounded up to the rupee, is counted in notes and coins; the
receipt shows how it was allocated (interest, then principal, the paise over to the
borrower's account); the loan's page then shows nothing due and the receipt."""

import datetime
import re

import pytest
from playwright.sync_api import expect

from banking.approvals.actions import approve_request
from banking.deposits.tests.factories import ensure_products
from banking.ledger.chart import ensure_standard_chart
from banking.ledger.models import BusinessDate
from banking.loans import actions
from banking.loans.models import Repayment
from banking.teller.actions import fund_vault
from banking.teller.tests.factories import VAULT_CASH, key, open_account, teller_with_open_till
from banking.testing import make_branch, make_user
from banking.users.roles import Role

from .helpers import VIEWPORTS, named, screenshot, sign_in

pytestmark = pytest.mark.e2e


def on(day):
    BusinessDate.objects.update_or_create(pk=1, defaults={"date": day})


@pytest.fixture
def loan_due(transactional_db):
    """A personal loan of ₹5,00,000 at 10.5% for 60 months disbursed on 5 Jan 2026;
    the business date is its first due date, 5 Feb 2026, and the teller's till is open."""
    ensure_products()
    on(datetime.date(2026, 1, 5))
    branch = make_branch("000062", name="Aundh, Pune")
    ensure_standard_chart([(branch.code, branch.name)])
    supervisor = named(make_user(Role.SUPERVISOR, branch=branch, approval_limit=10_00_000_00), "Sunil", "Deshmukh")
    officer = make_user(Role.TELLER, branch=branch)
    account = open_account(branch, officer, supervisor, balance=2_000_00, first_name="Priya", last_name="Sharma")
    application = actions.apply_for_loan(actor=officer, customer=account.customer, product="PL",
                                         deposit_account=account, amount=5_00_000_00, months=60,
                                         purpose="Home repairs", monthly_income=1_00_000_00, bureau_score=760)
    actions.acknowledge_kfs(actor=officer, application=application, statement="Signed the printed KFS")
    approve_request(actor=supervisor, request_id=actions.request_sanction(actor=officer, application=application).pk)
    application.refresh_from_db()
    actions.disburse_loan(actor=officer, loan=application.loan, amount=5_00_000_00, idempotency_key=key())
    on(datetime.date(2026, 2, 5))
    fund_vault(actor=None, branch=branch, counts=VAULT_CASH, idempotency_key=key())
    teller = named(teller_with_open_till(branch, supervisor, mfa=True), "Asha", "Kulkarni")
    return teller, application.loan, account


@pytest.mark.parametrize("width", [1280, 390])
def test_teller_takes_an_emi_in_cash(page, live_server, loan_due, width):
    teller, loan, account = loan_due
    page.set_viewport_size(VIEWPORTS[width])
    sign_in(page, teller)
    page.goto(f"/teller/loans/{loan.number}/")
    expect(page.get_by_role("heading", name=f"Loan {loan.number}")).to_be_visible()
    expect(page.get_by_test_id("loan-due")).to_have_text("₹10,746.95")
    page.get_by_role("link", name="Take a repayment in cash").click()

    expect(page.get_by_role("heading", name="Cash repayment")).to_be_visible()
    expect(page.get_by_test_id("total-due")).to_have_text("₹10,746.95")
    # the refusal: more than is due, in words, nothing written
    page.get_by_label("Cash taken (₹)").fill("20,000")
    page.get_by_label("₹500", exact=True).fill("40")
    page.get_by_role("button", name="Take the repayment").click()
    expect(page.get_by_test_id("form-error")).to_contain_text("Only ₹10,746.95 is due")
    assert not Repayment.objects.exists()

    # the EMI rounded up to the rupee: 21 × ₹500 and ₹247 in coins
    page.get_by_label("Cash taken (₹)").fill("10,747")
    page.get_by_label("₹500", exact=True).fill("21")
    page.get_by_label("Coins (₹)").fill("247")
    expect(page.locator("[data-cbs-cash-total]")).to_have_text("₹10,747.00")
    screenshot(page, f"loan-repay-{width}")
    page.get_by_role("button", name="Take the repayment").click()

    repayment = Repayment.objects.get()
    expect(page.get_by_role("heading", name=f"Receipt {repayment.number}")).to_be_visible()
    allocation = page.get_by_test_id("allocation")
    expect(allocation).to_contain_text(re.compile(r"Interest of instalment 1 \(05 Feb 2026\)\s*₹4,458.90"))
    expect(allocation).to_contain_text(re.compile(r"Principal of instalment 1 \(05 Feb 2026\)\s*₹6,288.05"))
    expect(allocation).to_contain_text(re.compile(rf"Paise over the dues, to account {account.number}\s*₹0.05"))
    expect(page.get_by_test_id("receipt-amount")).to_have_text("₹10,747.00")
    screenshot(page, f"loan-receipt-{width}")
    assert repayment.amount == 10_747_00 and repayment.counts["n500"] == 21

    page.get_by_role("link", name="Back to the loan").click()
    expect(page.get_by_test_id("loan-due")).to_have_text("₹0.00")
    expect(page.get_by_test_id("repayments")).to_contain_text(repayment.number)
    screenshot(page, f"loan-repaid-{width}")
