"""Journeys at the counter: a teller sends an RTGS for a walk-in customer against cash
and prints the receipt with the UTR (desktop and phone); an RTGS one paisa below
₹2,00,000 from an account is refused and nothing is debited."""

import re

import pytest
from playwright.sync_api import expect

from banking.ledger.chart import ensure_standard_chart
from banking.payments.models import Payment
from banking.teller.actions import find_till, fund_vault
from banking.teller.denominations import Denominations
from banking.teller.tests.factories import fresh, key, open_account, teller_with_open_till
from banking.testing import make_branch, make_user
from banking.users.roles import Role

from .helpers import VIEWPORTS, named, screenshot, sign_in

pytestmark = pytest.mark.e2e


@pytest.fixture
def counter(transactional_db):
    branch = make_branch("000061", name="Shivajinagar, Pune")
    ensure_standard_chart([(branch.code, branch.name)])
    fund_vault(actor=None, branch=branch, counts=Denominations(n500=2000, n100=1000), idempotency_key=key())
    supervisor = named(make_user(Role.SUPERVISOR, branch=branch, approval_limit=50_00_000_00), "Sunil", "Deshmukh")
    teller = named(teller_with_open_till(branch, supervisor, Denominations(n500=100), mfa=True), "Asha", "Kulkarni")
    return branch, teller, supervisor


def fill_beneficiary_and_remitter(page):
    page.get_by_label("Beneficiary's name").fill("Meera Iyer")
    page.get_by_label("Beneficiary's account number").fill("50100012345678")
    page.get_by_label("Beneficiary's IFSC").fill("hdfc0001234")
    expect(page.get_by_test_id("ifsc-lookup")).to_contain_text("HDFC Bank")
    expect(page.get_by_test_id("ifsc-lookup")).to_contain_text("Indiranagar")
    page.get_by_label("Remitter's name").fill("Rahul Verma")
    page.get_by_label("Remitter's mobile").fill("98765 43210")
    page.get_by_label("Remitter's address").fill("12 MG Road, Pune 411001")


@pytest.mark.parametrize("width", [1280, 390])
def test_rtgs_against_cash_for_a_walk_in_customer_and_the_printed_receipt(page, counter, width):
    _, teller, _ = counter
    page.set_viewport_size(VIEWPORTS[width])
    sign_in(page, teller)
    page.goto("/teller/")
    menu = page.get_by_role("button", name="Menu")
    if menu.is_visible():
        menu.click()
    page.get_by_role("link", name="NEFT / RTGS").click()
    expect(page.get_by_role("heading", name="NEFT / RTGS remittance")).to_be_visible()
    fill_beneficiary_and_remitter(page)
    page.get_by_label("Remitter's PAN").fill("abcde1234f")
    page.get_by_label("RTGS (₹2,00,000 or more)").check()
    page.get_by_label("Amount (₹)").fill("2,00,000")
    page.get_by_label("Cash at the counter").check()
    page.get_by_label("₹500", exact=True).fill("400")
    expect(page.get_by_text("matches the amount")).to_be_visible()
    screenshot(page, f"teller-remittance-form-{width}")
    page.get_by_role("button", name="Send the remittance").click()

    receipt = page.get_by_test_id("receipt")
    expect(receipt.get_by_role("heading", name="RTGS remittance receipt")).to_be_visible()
    payment = Payment.objects.get()
    expect(receipt.get_by_test_id("utr")).to_have_text(payment.reference)
    assert re.fullmatch(r"[A-Z]{4}R[A-Z0-9]\d{16}", payment.reference) or len(payment.reference) == 22
    expect(receipt.get_by_test_id("receipt-amount")).to_have_text("₹2,00,000.00")
    expect(receipt).to_contain_text("Rupees Two Lakh Only")
    expect(receipt.get_by_test_id("remitter")).to_contain_text("Rahul Verma")
    expect(receipt.get_by_test_id("beneficiary")).to_contain_text("HDFC Bank, Indiranagar")
    expect(receipt.get_by_test_id("status")).to_have_text("Settled")
    screenshot(page, f"teller-remittance-receipt-{width}")
    page.emulate_media(media="print")
    expect(receipt.get_by_role("button", name="Print receipt")).to_be_hidden()
    expect(receipt.get_by_text("computer-generated receipt")).to_be_visible()
    page.emulate_media(media="screen")
    assert find_till(teller).n500 == 100 + 400


def test_rtgs_below_two_lakh_from_an_account_is_refused(page, counter):
    branch, teller, supervisor = counter
    account = open_account(branch, teller, supervisor, balance=5_00_000_00, first_name="Priya", last_name="Sharma")
    page.set_viewport_size(VIEWPORTS[1280])
    sign_in(page, teller)
    page.goto("/teller/remittance/")
    fill_beneficiary_and_remitter(page)
    page.get_by_label("RTGS (₹2,00,000 or more)").check()
    page.get_by_label("Amount (₹)").fill("1,99,999.99")
    page.get_by_label("From the customer's account", exact=True).check()
    page.get_by_label("Customer's account number").fill(account.number)
    expect(page.get_by_test_id("account-lookup").get_by_test_id("holder-name")).to_have_text("Priya Sharma")
    page.get_by_role("button", name="Send the remittance").click()
    expect(page.get_by_test_id("form-error")).to_contain_text("RTGS is for ₹2,00,000.00 or more")
    screenshot(page, "teller-remittance-refused-1280")
    assert Payment.objects.count() == 0 and fresh(account).balance == 5_00_000_00
