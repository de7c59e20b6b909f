"""Journey: a teller sends an account opening for approval from customer 360 and
lands back on it. The Open requests panel and the account card say the same thing
(the opening waits for a supervisor), and the message that confirms it covers no
part of the page: not the Documents card, not anything else, at either width.
And the refusal: another customer's opening is not listed on this one's page."""

import re

import pytest
from playwright.sync_api import expect

from banking.deposits.actions import request_account_opening
from banking.deposits.models import DepositAccount
from banking.deposits.tests.factories import Bank, make_customer

from .helpers import VIEWPORTS, named, screenshot, sign_in

pytestmark = pytest.mark.e2e

# Every box of the page's own content, to check that no message sits over one.
OVERLAPS = """() => {
  const boxes = [...document.querySelectorAll("main section, main article, main h1, main nav, main form")]
    .filter((el) => !el.closest("#toasts")).map((el) => el.getBoundingClientRect())
    .filter((r) => r.width > 0 && r.height > 0);
  const toasts = [...document.querySelectorAll("#toasts .toast.show")].map((el) => el.getBoundingClientRect());
  const hits = [];
  for (const t of toasts) for (const b of boxes) {
    if (t.left < b.right && b.left < t.right && t.top < b.bottom && b.top < t.bottom) hits.push([t.top, b.top]);
  }
  return {toasts: toasts.length, hits: hits.length};
}"""


@pytest.fixture
def bank(transactional_db):
    bank = Bank()
    named(bank.teller, "Asha", "Kulkarni")
    bank.customer.first_name, bank.customer.last_name = "Meera", "Iyer"
    bank.customer.save(update_fields=["first_name", "last_name"])
    return bank


@pytest.mark.parametrize("width", [1280, 390])
def test_sent_for_approval_the_360_agrees_with_itself_and_the_message_covers_nothing(page, bank, width):
    page.set_viewport_size(VIEWPORTS[width])
    sign_in(page, bank.teller)
    page.goto(f"/teller/customers/{bank.customer.pk}/accounts/new/")
    page.get_by_label("Product").select_option(label="Savings account")
    page.get_by_role("button", name="Send for approval").click()

    expect(page.get_by_role("heading", name="Meera Iyer")).to_be_visible()
    account = DepositAccount.objects.get(customer=bank.customer)
    card = page.get_by_test_id(f"account-{account.number}")
    expect(card).to_contain_text(
        f"Waiting for a supervisor to approve the opening (request #{account.opening_request_id})")
    requests = page.get_by_test_id("customer-requests")
    expect(requests).to_contain_text(f"Open Savings account {account.number}")
    expect(requests).to_contain_text(f"#{account.opening_request_id}")
    expect(requests).not_to_contain_text("Nothing is waiting")

    message = page.get_by_role("status").filter(has_text=f"Account {account.number} is waiting")
    expect(message).to_be_visible()
    expect(page.get_by_role("heading", name="Documents")).to_be_visible()
    found = page.evaluate(OVERLAPS)
    assert found["toasts"] == 1 and found["hits"] == 0, found
    page.get_by_role("heading", name="Documents").scroll_into_view_if_needed()
    assert page.evaluate(OVERLAPS)["hits"] == 0
    screenshot(page, f"customer-360-sent-{width}", full_page=False)

    # The message goes when the teller closes it, and takes its room with it.
    message.get_by_role("button", name="Close").click()
    expect(message).to_be_hidden()


def test_another_customers_opening_is_not_on_this_360(page, bank):
    other = make_customer(branch=bank.branch, created_by=bank.teller, first_name="Kiran", last_name="Patil")
    theirs = request_account_opening(actor=bank.teller, customer=other, product="SB")
    page.set_viewport_size(VIEWPORTS[1280])
    sign_in(page, bank.teller)
    page.goto(f"/teller/customers/{bank.customer.pk}/")
    expect(page.get_by_test_id("customer-accounts")).to_be_visible()
    requests = page.get_by_test_id("customer-requests")
    expect(requests).to_contain_text("Nothing is waiting for a supervisor")
    expect(requests).not_to_contain_text(re.compile(theirs.number))
