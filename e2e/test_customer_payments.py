"""Journeys: internet banking payments on a phone and a desktop.

(a) A customer adds a payee at another bank with the authenticator code and sends
    NEFT; operations, in a browser of their own, runs the NEFT batch; the
    customer's payment page turns to "Settled" without a reload.
(b) A payment to an account ending in 000 comes back after the batch: the page
    says it was returned and the balance shows the full amount again.
(c) A merchant's UPI collect request appears live and the customer pays it with
    the authenticator code.
(d) Refusals: RTGS below ₹2,00,000, and a payee with a wrong code, change nothing.
"""

import re

import pytest
from playwright.sync_api import expect

from banking.payments import actions
from banking.payments.batches import settle_neft_batch
from banking.payments.models import Payee, Payment
from banking.payments.tests.factories import key, make_bank, payee, vpa
from banking.testing import make_user
from banking.users.roles import Role

from .helpers import VIEWPORTS, fresh_totp, named, screenshot, sign_in, wrong_code

pytestmark = pytest.mark.e2e
LIVE = 15_000  # ms: the payment page polls every 3 s, the UPI page every 4 s


@pytest.fixture
def bank(transactional_db):
    return make_bank()


@pytest.fixture
def account(bank):
    return bank.account(balance=1_00_000_00, first_name="Meera", last_name="Iyer")


@pytest.fixture
def customer(bank, account):
    return named(bank.customer_login(account), "Meera", "Iyer")


def test_payee_added_with_the_code_and_neft_settles_live(page, browser, browser_context_args, bank, account,
                                                        customer):
    page.set_viewport_size(VIEWPORTS[390])
    sign_in(page, customer)

    # A payee at another bank: the IFSC names the branch as it is typed.
    page.goto("/banking/payees/")
    page.get_by_role("link", name="Add a payee").click()
    page.get_by_label("Account at another bank").check()
    expect(page.get_by_role("textbox", name="UPI ID")).to_have_count(0)  # the form keeps only what applies
    page.get_by_label("Account number").fill("50100012345678")
    page.get_by_label("IFSC").fill("hdfc0001234")
    expect(page.get_by_test_id("ifsc-branch")).to_contain_text("HDFC Bank, Indiranagar")
    page.get_by_label("Beneficiary's name").fill("Ravi Kumar")
    page.get_by_label("Authenticator code").fill(fresh_totp(customer))
    screenshot(page, "payee-new-390")
    page.get_by_role("button", name="Add payee").click()
    expect(page.get_by_text(re.compile(r"can receive up to ₹50,000\.00 until"))).to_be_visible()
    screenshot(page, "payees-390")

    # Pay them by NEFT: the form, the review, then confirm.
    page.get_by_role("link", name="Pay Ravi Kumar").click()
    page.get_by_label("Amount (₹)").fill("5,000")
    page.get_by_label(re.compile("NEFT:")).check()
    page.get_by_label("Remarks (optional)").fill("Rent for November")
    screenshot(page, "pay-390")
    page.get_by_role("button", name="Review payment").click()
    expect(page.get_by_role("heading", name="Check and confirm")).to_be_visible()
    expect(page.get_by_test_id("review-amount")).to_have_text("₹5,000.00")
    expect(page.get_by_test_id("review-cooling")).to_contain_text("₹45,000.00 more can go to this payee")
    screenshot(page, "pay-review-390")
    page.get_by_role("button", name="Confirm and pay ₹5,000.00").click()
    status = page.get_by_test_id("payment-status")
    expect(status).to_have_text("Sent, waiting for the network to settle")
    payment = Payment.objects.get()
    assert payment.rail == "NEFT" and payment.narration == "Rent for November"

    # Operations runs the batch, in a browser of their own.
    ops = named(make_user(Role.OPERATIONS, branch=bank.branch), "Farah", "Shaikh")
    desk_context = browser.new_context(**browser_context_args)
    desk = desk_context.new_page()
    desk.set_viewport_size(VIEWPORTS[1280])
    sign_in(desk, ops)
    run_neft_batch(desk)
    desk_context.close()

    # The customer's page follows, without a reload.
    expect(status).to_contain_text("Settled", timeout=LIVE)
    expect(page.get_by_test_id("timeline")).to_contain_text("settled")
    screenshot(page, "payment-settled-390")


def run_neft_batch(desk):
    """Operations' NEFT batch screen runs the next cycle."""
    desk.goto("/ops/payments/neft/")
    desk.get_by_role("button", name="Run the NEFT batch now").click()
    expect(desk.get_by_text(re.compile(r"1 settled"))).to_be_visible()


def choose_payee(page, label):
    """Choosing whom to pay redraws the form with only the fields that apply (the
    UPI ID field goes); wait for that before filling the rest in."""
    page.get_by_label(re.compile(r"^\s*To\W*$")).select_option(label=label)
    expect(page.get_by_label("UPI ID to pay")).to_have_count(0)


def test_a_payment_to_an_account_ending_000_comes_back_with_the_money(page, bank, account, customer):
    payee(account, name="Anil Mehta", account_number="50100012345000")
    page.set_viewport_size(VIEWPORTS[1280])
    sign_in(page, customer)
    page.goto("/banking/pay/")
    choose_payee(page, "Anil Mehta · A/c 50100012345000, HDFC0001234")
    page.get_by_label(re.compile("NEFT:")).check()
    page.get_by_label("Amount (₹)").fill("2000")
    page.get_by_role("button", name="Review payment").click()
    page.get_by_role("button", name="Confirm and pay ₹2,000.00").click()
    expect(page.get_by_test_id("account-balance")).to_contain_text("₹98,000.00 in")
    screenshot(page, "payment-sent-1280")

    settle_neft_batch()
    expect(page.get_by_test_id("payment-status")).to_contain_text(
        "Returned: Account does not exist at the beneficiary bank. The money is back in your account.", timeout=LIVE)
    expect(page.get_by_test_id("account-balance")).to_contain_text("₹1,00,000.00 in")
    screenshot(page, "payment-returned-1280")
    page.get_by_role("link", name="Payment history").click()
    expect(page.get_by_text("To Anil Mehta")).to_be_visible()
    expect(page.get_by_text(re.compile("^Returned: Account does not exist"))).to_be_visible()
    screenshot(page, "payments-1280")


def test_a_merchants_collect_request_appears_live_and_is_paid_with_the_code(page, bank, account, customer):
    address = vpa(account, name="meera")
    page.set_viewport_size(VIEWPORTS[390])
    sign_in(page, customer)
    page.goto("/banking/upi/")
    expect(page.get_by_text("No requests are waiting")).to_be_visible()
    actions.receive_collect_request(payer_vpa=address.address, merchant_vpa="bigbazaar@okaxis",
                                    merchant_name="Big Bazaar", amount=1_499_00, is_merchant=True,
                                    reference=key()[:20], note="Order 1182")
    request = page.get_by_role("listitem").filter(has_text="Big Bazaar")
    expect(request).to_be_visible(timeout=LIVE)
    expect(request).to_contain_text("Order 1182")
    screenshot(page, "upi-390")
    request.get_by_role("link", name="Pay ₹1,499.00").click()
    expect(page.get_by_role("heading", name="Big Bazaar asks you to pay")).to_be_visible()
    page.get_by_label("Authenticator code").fill(fresh_totp(customer))
    screenshot(page, "upi-collect-390")
    page.get_by_role("button", name="Pay ₹1,499.00").click()
    expect(page.get_by_test_id("payment-status")).to_contain_text("Settled")
    expect(page.get_by_test_id("account-balance")).to_contain_text("₹98,501.00 in")


@pytest.mark.parametrize("width", [1280, 390])
def test_rtgs_below_two_lakh_is_refused(page, bank, account, customer, width):
    payee(account)
    page.set_viewport_size(VIEWPORTS[width])
    sign_in(page, customer)
    page.goto("/banking/pay/")
    choose_payee(page, "Ravi Kumar · A/c 50100012345678, HDFC0001234")
    page.get_by_label(re.compile("RTGS:")).check()
    page.get_by_label("Amount (₹)").fill("1,99,999.99")
    page.get_by_role("button", name="Review payment").click()
    expect(page.get_by_test_id("payment-refused")).to_contain_text("RTGS is for ₹2,00,000.00 or more")
    screenshot(page, f"pay-refused-{width}")
    assert not Payment.objects.exists()


def test_a_wrong_code_adds_no_payee(page, customer):
    page.set_viewport_size(VIEWPORTS[390])
    sign_in(page, customer)
    page.goto("/banking/payees/new/")
    page.get_by_role("radio", name="UPI ID").check()
    expect(page.get_by_label("IFSC")).to_have_count(0)
    page.get_by_role("textbox", name="UPI ID").fill("ravi@okhdfc")
    page.get_by_label("Beneficiary's name").fill("Ravi Kumar")
    page.get_by_label("Authenticator code").fill(wrong_code(customer.totp_secret))
    page.get_by_role("button", name="Add payee").click()
    expect(page.get_by_text("That authenticator code is not right")).to_be_visible()
    screenshot(page, "payee-refused-390")
    assert not Payee.objects.exists()
