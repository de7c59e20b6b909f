"""Journey: a teller opens a savings account with an initial cash deposit, its notes
counted on the opening form, for a KYC-verified customer and a supervisor approves
it, which counts the notes into the teller's till; the teller enables internet
banking; the customer activates from the emailed link (password, then an
authenticator app), signs in on a phone, sees the balance and downloads a PDF
statement. And the refusal: a customer whose KYC is not verified gets no account."""

import re
import types

import pytest
from django.core import mail
from playwright.sync_api import expect

from banking.approvals.actions import approve_request
from banking.deposits.models import DepositAccount
from banking.deposits.tests.factories import Bank, make_customer
from banking.teller.actions import find_till, fund_vault, open_till, request_cash_from_vault
from banking.teller.denominations import Denominations
from banking.teller.tests.factories import VAULT_CASH
from banking.testing import PASSWORD

from .helpers import VIEWPORTS, enter_code, enter_password, fresh_totp, named, screenshot, sign_in, sign_out

pytestmark = pytest.mark.e2e

CUSTOMER_PASSWORD = "monsoon-ledger-harbour-27"
ISSUED = Denominations(n500=20, n100=50)


@pytest.fixture
def bank(transactional_db):
    bank = Bank()
    named(bank.teller, "Asha", "Kulkarni")
    named(bank.supervisor, "Sunil", "Deshmukh")
    bank.customer.first_name, bank.customer.last_name = "Meera", "Iyer"
    bank.customer.save(update_fields=["first_name", "last_name"])
    # The teller's till is open: an opening deposit in cash is counted into it.
    fund_vault(actor=None, branch=bank.branch, counts=VAULT_CASH, idempotency_key="e2e-vault")
    approve_request(actor=bank.supervisor,
                    request_id=request_cash_from_vault(actor=bank.teller, counts=ISSUED).pk)
    open_till(actor=bank.teller, counted=ISSUED)
    return bank


def accounts_page(bank, customer=None):
    return f"/teller/customers/{(customer or bank.customer).pk}/accounts/"


def test_savings_account_opened_approved_and_seen_online(page, browser, browser_context_args, bank):
    # The teller, at the counter.
    page.set_viewport_size(VIEWPORTS[1280])
    sign_in(page, bank.teller)
    page.goto(accounts_page(bank))
    page.get_by_role("link", name="Open an account").click()
    page.get_by_label("Product").select_option(label="Savings account")
    page.get_by_label("Initial cash deposit (₹)").fill("25,000")
    page.get_by_label("₹500", exact=True).fill("40")
    page.get_by_label("₹100", exact=True).fill("50")
    expect(page.get_by_text("matches the amount")).to_be_visible()
    page.get_by_label("Nominee's name").fill("Arjun Iyer")
    page.get_by_label("Relationship").fill("Spouse")
    screenshot(page, "account-open-1280")
    page.get_by_role("button", name="Send for approval").click()
    expect(page.get_by_text(re.compile(r"is waiting for a supervisor's approval"))).to_be_visible()
    account = DepositAccount.objects.get(customer=bank.customer)
    assert account.status == "pending"

    # The supervisor, in a browser of their own.
    supervisor_context = browser.new_context(**browser_context_args)
    desk = supervisor_context.new_page()
    desk.set_viewport_size(VIEWPORTS[1280])
    sign_in(desk, bank.supervisor)
    desk.goto("/supervisor/queue/")
    desk.get_by_role("link", name=re.compile(f"Open Savings account {account.number}")).first.click()
    expect(desk.get_by_text("Initial cash deposit")).to_be_visible()
    desk.get_by_role("button", name=re.compile(r"Approve ₹25,000\.00")).click()
    expect(desk.get_by_text(re.compile("Approved and carried out"))).to_be_visible()
    supervisor_context.close()

    # Back at the counter: the balance, then internet banking.
    page.goto(accounts_page(bank))
    card = page.get_by_test_id(f"account-{account.number}")
    expect(card.get_by_test_id("balance")).to_have_text("₹25,000.00")
    expect(card.get_by_test_id("account-status")).to_have_text("Active")
    assert find_till(bank.teller).counts == ISSUED + Denominations(n500=40, n100=50)
    screenshot(page, "customer-accounts-1280")
    page.get_by_role("button", name="Enable internet banking").click()
    expect(page.get_by_text(re.compile("Activation link sent to"))).to_be_visible()
    sign_out(page, bank.teller)
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [bank.customer.email]
    link = re.search(r"http://\S+/banking/activate/\S+/", mail.outbox[0].body).group(0)

    # The customer, on a phone.
    phone = browser.new_context(**browser_context_args)
    mobile = phone.new_page()
    mobile.set_viewport_size(VIEWPORTS[390])
    mobile.goto(link)
    expect(mobile.get_by_role("heading", name="Activate internet banking")).to_be_visible()
    screenshot(mobile, "activate-390")
    username = mobile.get_by_test_id("username").inner_text()
    mobile.locator("#id_new_password1").fill(CUSTOMER_PASSWORD)
    mobile.locator("#id_new_password2").fill(CUSTOMER_PASSWORD)
    mobile.get_by_role("button", name="Set my password").click()
    # The password just chosen is not asked for again: straight on to the authenticator.
    expect(mobile.get_by_role("heading", name="Set up your authenticator app", exact=True)).to_be_visible()
    expect(mobile.get_by_role("heading", name="Confirm it's you")).to_have_count(0)
    secret_box = mobile.get_by_label("Authenticator secret")
    secret = secret_box.input_value()
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret), secret
    # The whole secret shows on the phone: its box wraps rather than cutting it off.
    assert secret_box.evaluate("box => box.scrollWidth <= box.clientWidth && box.scrollHeight <= box.clientHeight")
    screenshot(mobile, "activate-totp-390")
    customer_user = types.SimpleNamespace(username=username, totp_secret=secret, display_name="Meera Iyer")
    mobile.get_by_label("Authenticator code").fill(fresh_totp(customer_user))
    mobile.get_by_role("button", name="Activate").click()
    # Activation ends on "you're ready" with one way on; new codes are a secondary link.
    expect(mobile.get_by_role("heading", name="You're ready", exact=True)).to_be_visible()
    expect(mobile.get_by_label("Unused codes")).to_be_visible()
    expect(mobile.get_by_role("button", name="Generate new codes")).to_have_count(0)
    expect(mobile.get_by_role("link", name="Make a new set of codes")).to_be_visible()
    screenshot(mobile, "activate-ready-390")
    mobile.get_by_role("link", name="Go to my accounts").click()
    expect(mobile).to_have_url(re.compile(r"/banking/$"))

    # The same link does not work twice.
    mobile.goto(link)
    expect(mobile.get_by_test_id("activation-refused")).to_contain_text("already been used")

    # Signing in afresh on the phone: password, then the authenticator code.
    mobile.goto("/banking/")
    sign_out(mobile, customer_user)
    enter_password(mobile, username, CUSTOMER_PASSWORD)
    enter_code(mobile, fresh_totp(customer_user))
    expect(mobile).to_have_url(re.compile(r"/banking/$"))
    card = mobile.get_by_test_id(f"account-{account.number}")
    expect(card.get_by_test_id("balance")).to_have_text("₹25,000.00")
    expect(card.get_by_text("Initial cash deposit")).to_be_visible()
    screenshot(mobile, "customer-home-390")
    with mobile.expect_download() as download_info:
        card.get_by_role("link", name="PDF").click()
    download = download_info.value
    assert download.suggested_filename.startswith(f"statement-{account.number}")
    with open(download.path(), "rb") as pdf:
        assert pdf.read(4) == b"%PDF"
    # The card offers the same statement as CSV.
    with mobile.expect_download() as download_info:
        card.get_by_role("link", name="CSV").click()
    with open(download_info.value.path(), encoding="utf-8-sig") as sheet:
        text = sheet.read()
    assert account.number in text and "Initial cash deposit" in text and "25000.00" in text

    # The statement on the phone: readable rows, nothing cut off at the side.
    card.get_by_role("link", name="Statement").click()
    rows = mobile.get_by_role("list", name="Statement lines")
    expect(rows).to_be_visible()
    line = rows.get_by_role("listitem").filter(has_text="Initial cash deposit")
    expect(line).to_contain_text("Credit +₹25,000.00")
    expect(line).to_contain_text("Balance ₹25,000.00")
    expect(mobile.get_by_role("columnheader", name="Balance")).to_be_hidden()
    assert mobile.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(mobile, "customer-statement-390")
    # At a desktop's width it is the table, whose scroll box takes keyboard focus.
    mobile.set_viewport_size(VIEWPORTS[1280])
    expect(rows).to_be_hidden()
    for column in ("Value date", "Narration", "Debit", "Credit", "Balance"):
        expect(mobile.get_by_role("columnheader", name=column, exact=True)).to_be_visible()
    region = mobile.get_by_role("region", name="Statement lines, scrollable")
    region.focus()
    expect(region).to_be_focused()
    screenshot(mobile, "customer-statement-1280")
    phone.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_an_unverified_customer_gets_no_account(page, bank, width):
    draft = make_customer(branch=bank.branch, created_by=bank.teller, verified=False,
                          first_name="Kiran", last_name="Patil")
    page.set_viewport_size(VIEWPORTS[width])
    sign_in(page, bank.teller)
    page.goto(accounts_page(bank, draft))
    expect(page.get_by_text("Accounts open once the customer's KYC is verified.")).to_be_visible()
    expect(page.get_by_role("link", name="Open an account")).to_have_count(0)
    # Even by the address: the form refuses and nothing is opened.
    page.goto(f"/teller/customers/{draft.pk}/accounts/new/")
    page.get_by_label("Product").select_option(label="Savings account")
    page.get_by_role("button", name="Send for approval").click()
    expect(page.get_by_role("alert")).to_contain_text("is not KYC-verified yet")
    screenshot(page, f"account-open-refused-{width}")
    assert not DepositAccount.objects.filter(customer=draft).exists()
    assert PASSWORD
