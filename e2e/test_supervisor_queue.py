"""Journey: a supervisor's day at the queue. The home is the queue (live), its
counts and the tills waiting for sign-off; the navigation's count of the queue
always equals the list beside it, because they come from one response, also when
a request lands while the supervisor watches and after an approval; on a phone the
count shows beside the folded menu's button. And the refusal: a teller has no
supervisor's home."""

import re

import pytest
from playwright.sync_api import expect

from banking.approvals.actions import approve_request
from banking.deposits.actions import request_account_opening
from banking.deposits.tests.factories import Bank, make_customer
from banking.teller.actions import close_till, fund_vault, open_till, request_cash_from_vault
from banking.teller.denominations import Denominations
from banking.teller.tests.factories import VAULT_CASH, key
from banking.testing import make_user

from .helpers import VIEWPORTS, named, screenshot, sign_in

pytestmark = pytest.mark.e2e

ISSUED = Denominations(n500=20, n100=50)

# The list's total and the badge's count, read in one go (the same tick of the page).
BOTH = """() => {
  const total = document.querySelector("[data-testid=queue-total]");
  const badge = document.querySelector("#nav-badge-supervisorqueue-count");
  const phone = document.querySelector("#nav-toggler-badge");
  return [total ? parseInt(total.textContent, 10) : null,
          parseInt(badge.textContent, 10) || 0, parseInt(phone.textContent, 10) || 0];
}"""


@pytest.fixture
def bank(transactional_db):
    bank = Bank()
    named(bank.teller, "Asha", "Kulkarni")
    named(bank.supervisor, "Sunil", "Deshmukh")
    fund_vault(actor=None, branch=bank.branch, counts=VAULT_CASH, idempotency_key="e2e-vault")
    approve_request(actor=bank.supervisor, request_id=request_cash_from_vault(actor=bank.teller, counts=ISSUED).pk)
    open_till(actor=bank.teller, counted=ISSUED)
    return bank


def opening(bank, first_name):
    customer = make_customer(branch=bank.branch, created_by=bank.teller, first_name=first_name, last_name="Rao")
    return request_account_opening(actor=bank.teller, customer=customer, product="SB")


def counts(page):
    return page.evaluate(BOTH)


@pytest.mark.parametrize("width", [1280, 390])
def test_the_home_is_the_queue_and_its_badge_never_lags_the_list(page, bank, width):
    opening(bank, "Meera")
    opening(bank, "Kiran")
    day = close_till(actor=bank.teller, counted=ISSUED, idempotency_key=key())
    page.set_viewport_size(VIEWPORTS[width])
    sign_in(page, bank.supervisor)

    # The home: the queue with its counts, the till to sign off.
    expect(page.get_by_role("heading", name="Your queue")).to_be_visible()
    expect(page.get_by_test_id("queue-total")).to_have_text("3 waiting")
    expect(page.get_by_test_id("queue-counts")).to_contain_text("Account opening 2")
    expect(page.get_by_test_id("queue-counts")).to_contain_text("Till closure sign-off 1")
    expect(page.get_by_role("link", name=re.compile("Meera Rao"))).to_be_visible()
    tills = page.locator("#tills-to-sign-off")
    expect(tills).to_contain_text("Asha Kulkarni")
    expect(tills.get_by_role("link", name=f"Sign off the closing (request #{day.close_request_id})")).to_be_visible()
    assert counts(page) == [3, 3, 3]
    if width == 390:
        # The menu is folded, and the count shows beside its button.
        expect(page.get_by_role("link", name="Approval queue")).to_be_hidden()
        expect(page.get_by_test_id("menu-queue-count")).to_be_visible()
        expect(page.get_by_test_id("menu-queue-count")).to_have_text("3 waiting for approval")
    else:
        expect(page.get_by_test_id("queue-count")).to_be_visible()
        expect(page.get_by_test_id("menu-queue-count")).to_be_hidden()
    screenshot(page, f"supervisor-home-{width}", full_page=False)

    # A request lands while the supervisor watches: the moment the list shows it,
    # the badge (and the phone's) say the same.
    opening(bank, "Ravi")
    same_tick = page.wait_for_function(
        f"() => {{ const c = ({BOTH})(); return c[0] === 4 ? c : null; }}", polling=50, timeout=20_000)
    assert same_tick.json_value() == [4, 4, 4]
    expect(page.get_by_role("link", name=re.compile("Ravi Rao"))).to_be_visible()


@pytest.mark.parametrize("width", [1280, 390])
def test_after_an_approval_the_queue_and_its_badge_agree(page, bank, width):
    first = opening(bank, "Meera")
    second = opening(bank, "Kiran")
    page.set_viewport_size(VIEWPORTS[width])
    sign_in(page, bank.supervisor)
    page.goto(f"/supervisor/queue/{first.opening_request_id}/")
    page.get_by_role("button", name=re.compile("^Approve")).click()
    expect(page.get_by_text(re.compile("Approved and carried out"))).to_be_visible()
    expect(page.get_by_test_id("queue-total")).to_have_text("1 waiting")
    assert counts(page) == [1, 1, 1]
    # Another supervisor approves the last one: the list and the badge empty together.
    colleague = make_user("supervisor", branch=bank.branch, approval_limit=10_00_000_00)
    approve_request(actor=colleague, request_id=second.opening_request_id)
    same_tick = page.wait_for_function(
        f"() => {{ const c = ({BOTH})(); return c[0] === 0 ? c : null; }}", polling=50, timeout=20_000)
    assert same_tick.json_value() == [0, 0, 0]
    screenshot(page, f"supervisor-queue-after-approval-{width}", full_page=False)


def test_on_a_phone_other_pages_show_the_count_beside_the_folded_menu(page, bank):
    opening(bank, "Meera")
    page.set_viewport_size(VIEWPORTS[390])
    sign_in(page, bank.supervisor)
    page.goto("/supervisor/tills/")
    expect(page.get_by_role("link", name="Approval queue")).to_be_hidden()
    badge = page.get_by_test_id("menu-queue-count")
    expect(badge).to_have_text("1 waiting for approval")
    expect(badge).to_be_visible()
    # The menu's button is not covered: it still opens the menu, where the count is too.
    page.get_by_role("button", name="Menu").click()
    expect(page.get_by_role("link", name=re.compile("Approval queue"))).to_be_visible()
    expect(page.get_by_test_id("queue-count")).to_have_text("1 waiting for approval")
    badge.click()
    expect(page).to_have_url(re.compile(r"/supervisor/queue/$"))


def test_a_teller_has_no_supervisors_home(page, bank):
    page.set_viewport_size(VIEWPORTS[1280])
    sign_in(page, bank.teller)
    response = page.goto("/supervisor/")
    assert response.status == 403
    expect(page.get_by_test_id("menu-queue-count")).to_have_count(0)
