"""Journey: a teller opens the list of customers whose re-KYC is due, goes to one of
them, reads on customer 360 what to raise (re-KYC due, an inoperative account, a
recurring deposit's missed instalment and its penalty), and records the customer's
Form 15G, after Form 15H is refused for someone under 60."""

import datetime

import pytest
from playwright.sync_api import expect

from banking.customers.models import Customer, IdentityDocument
from banking.customers.rekyc import flag_rekyc_due
from banking.customers.tests.factories import unique_pan
from banking.deposits import actions
from banking.deposits.models import TaxDeclaration
from banking.deposits.tests.test_fixed_deposit_eod import close_day, on
from banking.ledger.actions import Line, post_entry
from banking.ledger.chart import SHARE_CAPITAL
from banking.ledger.models import EntryKind, LedgerAccount
from banking.payments.tests.factories import make_bank
from banking.testing import make_user
from banking.users.roles import Role

from .helpers import VIEWPORTS, named, screenshot, sign_in

pytestmark = pytest.mark.e2e

D = datetime.date


@pytest.fixture
def branch_day(transactional_db):
    """Rohan (high risk, re-KYC due 15 Jan 2026) with a ₹1,000 RD whose second
    instalment was paid 9 days late, and a dormant current account; a teller."""
    on(D(2026, 1, 1))
    bank = make_bank()
    savings = bank.account(balance=1_000_00, first_name="Rohan", last_name="Gupta")
    customer = savings.customer
    pan = IdentityDocument(customer=customer, doc_type="pan")
    pan.set_number(unique_pan())
    pan.save()
    rd = actions.open_recurring_deposit(actor=bank.maker, source=savings, instalment=1_000_00, months=12,
                                        idempotency_key="journey-rd")
    close_day(D(2026, 1, 1))
    close_day(D(2026, 2, 1))  # nothing in the account: missed
    capital = LedgerAccount.objects.get(code=SHARE_CAPITAL)
    post_entry(actor=None, lines=[Line.debit(capital, 2_000_00), Line.credit(savings.ledger_account_id, 2_000_00)],
               kind=EntryKind.TRANSFER, narration="Salary", idempotency_key="journey-salary")
    close_day(D(2026, 2, 10))  # paid 9 days late with ₹15
    dormant = bank.account(balance=0, product="CA")
    dormant.customer = customer
    dormant.last_customer_activity_on = D(2023, 11, 20)
    dormant.save(update_fields=["customer", "last_customer_activity_on"])
    actions.mark_inoperative(actor=bank.maker, account=dormant)
    Customer.objects.filter(pk=customer.pk).update(rekyc_due_on=D(2026, 1, 15), risk_category="high")
    flag_rekyc_due(customer_id=customer.pk, on=D(2026, 2, 10))
    teller = named(make_user(Role.TELLER, branch=bank.branch), "Asha", "Kulkarni")
    return teller, customer, rd, dormant


@pytest.mark.parametrize("width", [1280, 390])
def test_a_teller_follows_up_a_customer_due_for_rekyc(page, branch_day, width):
    teller, customer, rd, dormant = branch_day
    page.set_viewport_size(VIEWPORTS[width])
    sign_in(page, teller)
    menu = page.get_by_role("button", name="Menu")
    if menu.is_visible():
        menu.click()
    page.get_by_role("link", name="Customers").click()
    page.get_by_role("link", name="Re-KYC due").click()
    expect(page.get_by_role("heading", name="Re-KYC due")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="Rohan Gupta")
    expect(row).to_contain_text("15 Jan 2026")
    screenshot(page, f"rekyc-list-{width}")
    row.get_by_role("link", name="Rohan Gupta").click()

    attention = page.get_by_test_id("attention")
    expect(attention.get_by_test_id("rekyc-due")).to_contain_text("Re-KYC due since 15 Jan 2026 (high risk).")
    expect(attention.get_by_test_id("rekyc-due")).to_contain_text("Emailed on 10 Feb 2026.")
    expect(attention.get_by_test_id(f"dormant-{dormant.number}")).to_contain_text(
        "takes no debits; the last transaction the customer made was on 20 Nov 2023")
    expect(attention.get_by_test_id(f"rd-{rd.number}")).to_contain_text(
        "2 of 12 instalments paid; 1 missed their due day, penalties ₹15.00.")
    screenshot(page, f"customer-360-attention-{width}")

    attention.get_by_role("link", name="Record a Form 15G or 15H").click()
    expect(page.get_by_role("heading", name="Record a Form 15G or 15H")).to_be_visible()
    page.get_by_label("Form 15H (senior citizen)").check()
    page.get_by_label("The customer signed the form at the counter").check()
    page.get_by_role("button", name="Record the form").click()
    expect(page.get_by_test_id("form-error")).to_contain_text("Form 15H is for senior citizens")
    assert not TaxDeclaration.objects.exists()

    page.get_by_label("Form 15G").check()
    page.get_by_label("The customer signed the form at the counter").check()
    page.get_by_role("button", name="Record the form").click()
    expect(page.get_by_text("Form 15G recorded for FY 2025-26")).to_be_visible()
    expect(page.get_by_test_id("attention").get_by_test_id("tax-year")).to_contain_text("Form 15G on file.")
    assert TaxDeclaration.objects.get().customer == customer
