"""Journeys: a customer opens their fixed deposit, reads what happens at maturity,
and changes the instruction with the authenticator code (on a phone and a desktop);
a wrong code changes nothing; and once end of day has paid a deposit at maturity,
the statement says interest, TDS and maturity in words."""

import datetime

import pytest
from playwright.sync_api import expect

from banking.customers.models import IdentityDocument
from banking.customers.tests.factories import unique_pan
from banking.deposits import actions
from banking.deposits.models import DepositAccount, InterestCredit
from banking.deposits.tests.test_fixed_deposit_eod import close_day, on
from banking.payments.tests.factories import make_bank

from .helpers import VIEWPORTS, fresh_totp, named, screenshot, sign_in, wrong_code

pytestmark = pytest.mark.e2e

D = datetime.date


@pytest.fixture
def customer(transactional_db):
    """Kavita with ₹3,00,000 in savings and a ₹1,00,000 FD for a year from 1 Jan 2026."""
    on(D(2026, 1, 1))
    bank = make_bank()
    savings = bank.account(balance=3_00_000_00, first_name="Kavita", last_name="Menon")
    fd = actions.open_fixed_deposit(actor=bank.maker, source=savings, principal=1_00_000_00, months=12,
                                    idempotency_key="journey-fd")
    close_day(D(2026, 1, 1))
    return named(bank.customer_login(savings), "Kavita", "Menon"), savings, DepositAccount.objects.get(pk=fd.pk)


def open_the_deposit(page, fd):
    page.get_by_test_id(f"account-{fd.number}").get_by_role("link", name="Details").click()
    expect(page.get_by_role("heading", name="Fixed deposit", exact=True)).to_be_visible()


@pytest.mark.parametrize("width", [390, 1280])
def test_a_customer_changes_what_happens_at_maturity(page, customer, width):
    user, savings, fd = customer
    page.set_viewport_size(VIEWPORTS[width])
    sign_in(page, user)
    open_the_deposit(page, fd)
    outcome = page.get_by_test_id("maturity-outcome")
    expect(outcome).to_contain_text("Pay out to the linked account.")
    expect(outcome).to_contain_text(f"₹1,06,975.37 (principal and interest, less any TDS) is paid into "
                                    f"{savings.masked_number}")
    expect(page.get_by_test_id("accrued")).to_have_text("₹18.63")
    screenshot(page, f"fd-detail-{width}")

    page.get_by_role("link", name="Change what happens at maturity").click()
    expect(page.get_by_role("heading", name="What happens at maturity")).to_be_visible()
    page.get_by_label("Renew the principal, pay out the interest").check()
    page.get_by_label("Authenticator code").fill(fresh_totp(user))
    screenshot(page, f"fd-maturity-{width}")
    page.get_by_role("button", name="Save the instruction").click()

    expect(page.get_by_text("At maturity on 01 Jan 2027: renew the principal, pay out the interest.")).to_be_visible()
    expect(page.get_by_test_id("maturity-outcome")).to_contain_text(
        f"₹1,00,000.00 is renewed for another 365 days at that day's rate, and the interest of ₹6,975.37, less any "
        f"TDS, is paid into {savings.masked_number}.")
    fd.refresh_from_db()
    assert fd.maturity_instruction == "renew_principal"


def test_a_wrong_code_changes_nothing(page, customer):
    user, _, fd = customer
    page.set_viewport_size(VIEWPORTS[390])
    sign_in(page, user)
    page.goto(f"/banking/accounts/{fd.number}/maturity/")
    page.get_by_label("Renew principal and interest").check()
    page.get_by_label("Authenticator code").fill(wrong_code(user.totp_secret))
    page.get_by_role("button", name="Save the instruction").click()
    expect(page.get_by_text("That authenticator code is not right")).to_be_visible()
    screenshot(page, "fd-maturity-refused-390")
    fd.refresh_from_db()
    assert fd.maturity_instruction == "pay_out"


@pytest.mark.parametrize("width", [390, 1280])
def test_the_statement_tells_the_maturity_in_words(page, customer, width):
    user, savings, fd = customer
    pan = IdentityDocument(customer=savings.customer, doc_type="pan")
    pan.set_number(unique_pan())
    pan.save()
    # ₹44,000 credited earlier in FY 2026-27: this deposit's ₹6,975.37 crosses ₹50,000, so
    # TDS is 10% of the year's ₹50,975.37 = ₹5,097.54.
    InterestCredit.objects.create(customer=savings.customer, account=savings, financial_year=2026,
                                  credited_on=D(2026, 5, 1), interest=44_000_00)
    close_day(D(2027, 1, 1))
    page.set_viewport_size(VIEWPORTS[width])
    sign_in(page, user)
    page.goto(f"/banking/accounts/{savings.number}/statement/?start=2026-12-01&end=2027-01-31")
    # The statement is a list of rows on a phone and a table on a desktop; each width shows one.
    expect(page.get_by_text(f"Fixed deposit {fd.number} matured: principal ₹1,00,000.00, interest ₹6,975.37 less "
                            "TDS ₹5,097.54").filter(visible=True)).to_be_visible()
    page.goto(f"/banking/accounts/{fd.number}/statement/?start=2026-12-01&end=2027-01-31")
    expect(page.get_by_text(f"Interest on fixed deposit {fd.number} at 6.80% from 01 Jan 2026 to 01 Jan 2027")
           .filter(visible=True)).to_be_visible()
    expect(page.get_by_text(f"Tax deducted at source (section 194A) on interest of {fd.number}, FY 2026-27")
           .filter(visible=True)).to_be_visible()
    screenshot(page, f"fd-statement-{width}")
    page.goto(f"/banking/accounts/{fd.number}/")
    expect(page.get_by_test_id("advice-tds")).to_have_text("₹5,097.54")
