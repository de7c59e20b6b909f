"""Changing a loan's plan: a teller takes a part-prepayment in cash at a desktop's
width (the new schedule is shown before the cash is taken; a prepayment of the whole
loan is refused in words and nothing is written), and a borrower on a phone chooses
what their floating rate's reset changes (a wrong code is refused; the choice is
recorded and shown)."""

import datetime

import pytest
from playwright.sync_api import expect

from banking.approvals.actions import approve_request
from banking.deposits.tests.factories import ensure_products
from banking.ledger.chart import ensure_standard_chart
from banking.ledger.models import BusinessDate
from banking.loans import actions
from banking.loans.models import RateResetChoice, Repayment, SecurityValuation
from banking.teller.actions import fund_vault
from banking.teller.tests.factories import VAULT_CASH, key, open_account, teller_with_open_till
from banking.testing import give_totp, make_branch, make_user
from banking.users.roles import Role

from .helpers import VIEWPORTS, fresh_totp, named, screenshot, sign_in, wrong_code

pytestmark = pytest.mark.e2e


def on(day):
    BusinessDate.objects.update_or_create(pk=1, defaults={"date": day})


def bank_with_borrower(code):
    ensure_products()
    branch = make_branch(code, name="Aundh, Pune")
    ensure_standard_chart([(branch.code, branch.name)])
    supervisor = named(make_user(Role.SUPERVISOR, branch=branch, approval_limit=1_00_00_000_00), "Sunil", "Deshmukh")
    officer = make_user(Role.TELLER, branch=branch)
    account = open_account(branch, officer, supervisor, balance=2_000_00, first_name="Priya", last_name="Sharma")
    return branch, supervisor, officer, account


def disbursed(officer, supervisor, account, **terms):
    application = actions.apply_for_loan(actor=officer, customer=account.customer, deposit_account=account,
                                         purpose="Home", bureau_score=760, **terms)
    actions.acknowledge_kfs(actor=officer, application=application, statement="Signed the printed KFS")
    approve_request(actor=supervisor, request_id=actions.request_sanction(actor=officer, application=application).pk)
    application.refresh_from_db()
    actions.disburse_loan(actor=officer, loan=application.loan, amount=terms["amount"], idempotency_key=key())
    return application.loan


@pytest.fixture
def personal_loan(transactional_db):
    on(datetime.date(2026, 1, 5))
    branch, supervisor, officer, account = bank_with_borrower("000063")
    loan = disbursed(officer, supervisor, account, product="PL", amount=5_00_000_00, months=60,
                     monthly_income=1_00_000_00)
    on(datetime.date(2026, 2, 5))
    fund_vault(actor=None, branch=branch, counts=VAULT_CASH, idempotency_key=key())
    teller = named(teller_with_open_till(branch, supervisor, mfa=True, cash_limit=10_00_000_00), "Asha", "Kulkarni")
    return teller, loan


def test_teller_takes_a_part_prepayment_reducing_the_emi(page, live_server, personal_loan):
    teller, loan = personal_loan
    page.set_viewport_size(VIEWPORTS[1280])
    sign_in(page, teller)
    page.goto(f"/teller/loans/{loan.number}/")
    page.get_by_role("link", name="Part-prepayment").click()
    expect(page.get_by_role("heading", name="Part-prepayment in cash")).to_be_visible()

    # the refusal: the whole loan is a foreclosure, not a prepayment; nothing written
    page.get_by_label("Principal to prepay (₹)").fill("6,00,000")
    page.get_by_role("button", name="Show the new schedule").click()
    expect(page.get_by_test_id("form-error")).to_contain_text("foreclose the loan instead")
    assert not Repayment.objects.exists()

    page.get_by_label("Principal to prepay (₹)").fill("1,00,000")
    page.get_by_label("Reduce the EMI, keep the tenure").check()
    page.get_by_role("button", name="Show the new schedule").click()
    preview = page.get_by_test_id("prepay-preview")
    expect(preview).to_be_visible()
    # the EMI due today, ₹1,00,000 ahead, 4% charge and its GST
    expect(page.get_by_test_id("prepay-total")).to_have_text("₹1,15,466.95")
    expect(page.get_by_test_id("new-count")).to_have_text("59 → 59")
    expect(page.get_by_test_id("new-schedule").get_by_role("row")).to_have_count(60)
    assert not Repayment.objects.exists()
    page.get_by_label("Cash taken (₹)").fill("1,15,467")
    page.get_by_label("₹500", exact=True).fill("230")
    page.get_by_label("Coins (₹)").fill("467")
    screenshot(page, "loan-prepay-1280")
    page.get_by_role("button", name="Confirm and take ₹1,15,467.00").click()

    repayment = Repayment.objects.get()
    expect(page.get_by_role("heading", name=f"Receipt {repayment.number}")).to_be_visible()
    assert (repayment.kind, repayment.choice, repayment.amount) == ("prepayment", "emi", 1_15_467_00)
    screenshot(page, "loan-prepay-receipt-1280")


@pytest.fixture
def floating_loan(transactional_db):
    on(datetime.date(2026, 1, 5))
    branch, supervisor, officer, account = bank_with_borrower("000064")
    manager = make_user(Role.BRANCH_MANAGER, branch=branch, approval_limit=1_00_00_000_00)
    ops = make_user(Role.OPERATIONS)
    actions.enter_benchmark_rate(actor=ops, benchmark="repo", effective_from=datetime.date(2026, 1, 5), rate="5.50")
    application = actions.apply_for_loan(actor=officer, customer=account.customer, deposit_account=account,
                                         product="HL", amount=20_00_000_00, months=120, purpose="Home",
                                         monthly_income=3_00_000_00, bureau_score=760)
    actions.acknowledge_kfs(actor=officer, application=application, statement="Signed the printed KFS")
    approve_request(actor=manager, request_id=actions.request_sanction(actor=officer, application=application).pk)
    application.refresh_from_db()
    actions.disburse_loan(actor=officer, loan=application.loan, amount=20_00_000_00, idempotency_key=key())
    on(datetime.date(2026, 3, 20))
    actions.enter_benchmark_rate(actor=ops, benchmark="repo", effective_from=datetime.date(2026, 4, 5), rate="6.50")
    user = named(make_user(Role.CUSTOMER, username="priya.reset"), "Priya", "Sharma")
    user.totp_secret = give_totp(user)
    account.customer.user = user
    account.customer.save(update_fields=["user"])
    application.loan.supervisor = supervisor
    return user, application.loan


def test_borrower_chooses_what_the_rate_reset_changes(page, live_server, floating_loan):
    user, loan = floating_loan
    page.set_viewport_size(VIEWPORTS[390])
    sign_in(page, user)
    page.goto(f"/banking/loans/{loan.number}/")
    page.get_by_role("link", name="Rate reset: your choice").click()
    expect(page.get_by_role("heading", name="Your rate is about to change")).to_be_visible()
    expect(page.get_by_test_id("reset-option-tenure")).to_contain_text("8.25% → 9.25%")
    expect(page.get_by_test_id("reset-count-emi")).to_have_text("117 → 117")
    expect(page.get_by_label("Keep the EMI, lengthen the tenure")).to_be_checked()

    # the refusal: a wrong code, nothing recorded
    page.get_by_label("Keep the tenure, raise the EMI").check()
    page.get_by_label("Authenticator code").fill(wrong_code(user.totp_secret))
    page.get_by_role("button", name="Confirm my choice").click()
    expect(page.get_by_text("code")).not_to_have_count(0)
    assert not RateResetChoice.objects.exists()

    page.get_by_label("Keep the tenure, raise the EMI").check()
    page.get_by_label("Authenticator code").fill(fresh_totp(user))
    screenshot(page, "loan-reset-choice-390")
    page.get_by_role("button", name="Confirm my choice").click()
    expect(page.get_by_text("Your choice for the rate reset of 05 Apr 2026")).to_be_visible()
    assert RateResetChoice.objects.get(loan=loan).choice == "emi"
    page.get_by_role("link", name="Rate reset: your choice").click()
    expect(page.get_by_test_id("recorded-choice")).to_have_text("Keep the tenure, raise the EMI")
    screenshot(page, "loan-reset-recorded-390")


def test_supervisor_records_a_reset_choice_and_a_valuation_on_a_phone(page, live_server, floating_loan):
    _user, loan = floating_loan
    page.set_viewport_size(VIEWPORTS[390])
    sign_in(page, loan.supervisor)
    page.goto(f"/teller/loans/{loan.number}/rate-reset/")
    expect(page.get_by_role("heading", name="Rate reset: the borrower's choice")).to_be_visible()
    page.get_by_label("Prepay enough to keep both").check()
    page.get_by_role("button", name="Record the choice").click()
    expect(page.get_by_text("Recorded for the reset of 05 Apr 2026")).to_be_visible()
    assert RateResetChoice.objects.get(loan=loan).channel == "branch"

    page.goto(f"/teller/loans/{loan.number}/security/")
    expect(page.get_by_role("heading", name="Security and classification")).to_be_visible()
    # the refusal: a value of nothing, in words, nothing written
    page.get_by_label("Value (₹)").fill("0")
    page.get_by_label("Valuer and report").fill("R. Iyer, report V-118")
    page.get_by_role("button", name="Record the valuation").click()
    expect(page.get_by_text("above zero")).to_be_visible()
    assert not SecurityValuation.objects.exists()
    page.get_by_label("Value (₹)").fill("18,00,000")
    page.get_by_role("button", name="Record the valuation").click()
    expect(page.get_by_test_id("valuations")).to_contain_text("₹18,00,000.00")
    expect(page.get_by_test_id("secured-cover")).to_contain_text("₹18,00,000.00")
    screenshot(page, "loan-security-390")
