"""Journeys at the counter: a teller opens the till and takes a deposit by keyboard
alone, then prints the receipt (desktop and phone); the next deposit starts from the
receipt with Enter; a withdrawal above the teller's
limit is approved by a supervisor in another browser and the teller's screen turns
into the receipt without reloading; a till closes ₹100 short and the supervisor sees
it flagged. The last two run at a desktop's width and at a phone's."""

import re

import pytest
from playwright.sync_api import expect

from banking.approvals.actions import approve_request
from banking.ledger.chart import TELLER_SUSPENSE, ensure_standard_chart
from banking.ledger.models import LedgerAccount
from banking.teller.actions import find_till, fund_vault, request_cash_from_vault
from banking.teller.denominations import Denominations
from banking.teller.models import CounterTransaction, TillDay
from banking.teller.tests.factories import give_specimens, key, open_account, teller_with_open_till
from banking.testing import make_branch, make_user
from banking.users.roles import Role

from .helpers import VIEWPORTS, named, screenshot, sign_in

pytestmark = pytest.mark.e2e

LIVE = 15_000  # ms: the receipt polls every 2 s, the queue every 5 s, the tills page every 5 s
ISSUED = Denominations(n500=100, n200=50, n100=100, n50=20, n20=50, n10=50, coins=200)


@pytest.fixture
def counter(transactional_db):
    branch = make_branch("000051", name="Andheri East, Mumbai")
    ensure_standard_chart([(branch.code, branch.name)])
    fund_vault(actor=None, branch=branch, counts=Denominations(n500=2000, n200=1000, n100=2000, n50=500, n20=500,
                                                               n10=500, coins=2000), idempotency_key=key())
    supervisor = named(make_user(Role.SUPERVISOR, branch=branch, approval_limit=50_00_000_00), "Sunil", "Deshmukh")
    teller = named(make_user(Role.TELLER, branch=branch), "Asha", "Kulkarni")
    account = open_account(branch, teller, supervisor, balance=3_00_000_00, first_name="Priya", last_name="Sharma")
    give_specimens(account.customer, teller)
    return branch, teller, supervisor, account


def open_the_till(page, teller, supervisor):
    """The head teller has issued the cash; the teller counts it and opens the till."""
    approve_request(actor=supervisor, request_id=request_cash_from_vault(actor=teller, counts=ISSUED).pk)
    page.goto("/teller/till/")
    expect(page.get_by_test_id("till-status")).to_have_text("Not open")
    page.get_by_role("link", name="Open my till").click()
    for label, count in [("₹500", "100"), ("₹200", "50"), ("₹100", "99"), ("₹50", "20"), ("₹20", "50"),
                         ("₹10", "50"), ("Coins (₹)", "200")]:
        page.get_by_label(label, exact=True).fill(count)
    page.get_by_role("button", name="Open the till").click()
    # a miscount is refused, note by note
    expect(page.get_by_test_id("form-error")).to_contain_text("₹100 notes: counted 99, issued 100")
    page.get_by_label("₹100", exact=True).fill("100")
    page.get_by_role("button", name="Open the till").click()
    expect(page.get_by_text(re.compile("Your till is open for"))).to_be_visible()


@pytest.mark.parametrize("width", [1280, 390])
def test_open_the_till_and_take_a_deposit_by_keyboard_alone(page, counter, width):
    _, teller, supervisor, account = counter
    page.set_viewport_size(VIEWPORTS[width])
    sign_in(page, teller)
    open_the_till(page, teller, supervisor)

    page.goto("/teller/")
    page.keyboard.press("Alt+i")  # the counter's access key for a cash deposit
    expect(page.get_by_role("heading", name="Cash deposit")).to_be_visible()
    expect(page.get_by_label("Account number")).to_be_focused()
    page.keyboard.type(account.number)
    lookup = page.get_by_test_id("account-lookup")
    expect(lookup.get_by_test_id("holder-name")).to_have_text("Priya Sharma")
    expect(lookup.get_by_test_id("available-balance")).to_have_text("₹3,00,000.00")
    page.keyboard.press("Enter")
    expect(page.get_by_label("Amount (₹)")).to_be_focused()
    page.keyboard.type("12,750")
    page.keyboard.press("Enter")
    expect(page.get_by_label("₹500", exact=True)).to_be_focused()
    for count in ["20", "10", "7"]:  # 20 × ₹500, 10 × ₹200, 7 × ₹100 = ₹12,700
        page.keyboard.type(count)
        page.keyboard.press("Tab")
    expect(page.get_by_text("₹50.00 short of the amount")).to_be_visible()
    page.keyboard.type("1")  # one ₹50 note
    expect(page.get_by_text("matches the amount")).to_be_visible()
    screenshot(page, f"teller-deposit-{width}")
    page.keyboard.press("Enter")

    receipt = page.get_by_test_id("receipt")
    expect(receipt.get_by_role("heading", name="Cash deposit receipt")).to_be_visible()
    expect(receipt.get_by_test_id("receipt-amount")).to_have_text("₹12,750.00")
    expect(receipt).to_contain_text("Rupees Twelve Thousand Seven Hundred Fifty Only")
    expect(receipt).to_contain_text("Priya Sharma")
    # Enter on the receipt starts the next deposit
    expect(page.get_by_role("link", name="New cash deposit")).to_be_focused()
    screenshot(page, f"teller-receipt-{width}")
    page.get_by_role("button", name="Print receipt").click()
    page.emulate_media(media="print")
    expect(page.get_by_role("navigation", name="Teller navigation")).to_be_hidden()
    expect(page.get_by_role("button", name="Print receipt")).to_be_hidden()
    expect(receipt.get_by_test_id("receipt-amount")).to_be_visible()
    screenshot(page, f"teller-receipt-print-{width}")
    page.emulate_media(media="screen")

    # the branch feed shows it
    page.goto("/teller/")
    feed = page.get_by_test_id("branch-feed")
    expect(feed).to_contain_text("₹12,750.00")
    screenshot(page, f"teller-counter-{width}")
    txn = CounterTransaction.objects.get()
    assert txn.counts == Denominations(n500=20, n200=10, n100=7, n50=1)
    assert find_till(teller).counts == ISSUED + txn.counts


def take_deposit(page, number, amount, five_hundreds):
    page.get_by_label("Account number").fill(number)
    page.get_by_label("Amount (₹)").fill(amount)
    page.get_by_label("₹500", exact=True).fill(five_hundreds)
    expect(page.get_by_text("matches the amount")).to_be_visible()
    page.get_by_label("₹500", exact=True).press("Enter")


def test_the_next_deposit_starts_from_the_receipt(page, counter):
    """Enter on a receipt starts the next deposit, which posts and counts its notes
    into the till like the first."""
    _, teller, supervisor, account = counter
    page.set_viewport_size(VIEWPORTS[1280])
    sign_in(page, teller)
    open_the_till(page, teller, supervisor)
    page.goto("/teller/deposit/")
    take_deposit(page, account.number, "1,000", "2")
    expect(page.get_by_test_id("receipt-amount")).to_have_text("₹1,000.00")
    page.keyboard.press("Enter")  # "New cash deposit" has the focus
    expect(page.get_by_role("heading", name="Cash deposit")).to_be_visible()
    take_deposit(page, account.number, "2,500", "5")
    receipt = page.get_by_test_id("receipt")
    expect(receipt.get_by_test_id("receipt-amount")).to_have_text("₹2,500.00")
    expect(receipt).to_contain_text("Priya Sharma")
    second = CounterTransaction.objects.order_by("-id").first()
    assert second.amount == 2_500_00 and second.entry_id is not None
    assert find_till(teller).counts == ISSUED + Denominations(n500=7)


def test_a_deposit_that_does_not_add_up_is_refused(page, counter):
    _, teller, supervisor, account = counter
    teller_with_open_till(counter[0], supervisor, ISSUED)  # a colleague's till, so the vault is not needed here
    page.set_viewport_size(VIEWPORTS[1280])
    sign_in(page, teller)
    open_the_till(page, teller, supervisor)
    page.goto("/teller/deposit/")
    page.get_by_label("Account number").fill(account.number)
    page.get_by_label("Amount (₹)").fill("1000")
    page.get_by_label("₹500", exact=True).fill("1")
    page.get_by_role("button", name="Take the deposit").click()
    expect(page.get_by_test_id("form-error")).to_contain_text(
        "The notes and coins add up to ₹500.00, ₹500.00 less than the amount of ₹1,000.00.")
    assert not CounterTransaction.objects.exists()


@pytest.mark.parametrize("width", [1280, 390])
def test_a_withdrawal_above_the_limit_turns_into_the_receipt_when_approved(browser, counter, live_server, width):
    branch, teller, supervisor, account = counter
    teller_context = browser.new_context(base_url=live_server.url, viewport=VIEWPORTS[width])
    supervisor_context = browser.new_context(base_url=live_server.url, viewport=VIEWPORTS[width])
    teller_page, supervisor_page = teller_context.new_page(), supervisor_context.new_page()
    approve_request(actor=supervisor, request_id=request_cash_from_vault(actor=teller, counts=ISSUED).pk)
    from banking.teller.actions import open_till

    open_till(actor=teller, counted=ISSUED)
    teller.staff_profile.cash_limit = 50_000_00
    teller.staff_profile.save(update_fields=["cash_limit"])

    sign_in(supervisor_page, supervisor)
    supervisor_page.goto("/supervisor/queue/")
    expect(supervisor_page.get_by_role("heading", name="Approval queue")).to_be_visible()

    sign_in(teller_page, teller)
    teller_page.goto("/teller/withdrawal/")
    teller_page.get_by_label("Account number").fill(account.number)
    expect(teller_page.get_by_test_id("holder-name")).to_have_text("Priya Sharma")
    expect(teller_page.get_by_role("img", name="Specimen signature of Priya Sharma")).to_be_visible()
    expect(teller_page.get_by_role("img", name="Photograph of Priya Sharma")).to_be_visible()
    teller_page.get_by_label("Amount (₹)").fill("60,000")
    teller_page.get_by_role("button", name="Fill from my till").click()
    expect(teller_page.get_by_label("₹500", exact=True)).to_have_value("100")
    expect(teller_page.get_by_label("₹200", exact=True)).to_have_value("50")
    expect(teller_page.get_by_label("₹100", exact=True)).to_have_value("")
    expect(teller_page.get_by_text("matches the amount")).to_be_visible()
    screenshot(teller_page, f"teller-withdrawal-{width}")
    teller_page.get_by_role("button", name="Pay the withdrawal").click()
    expect(teller_page.get_by_role("heading", name="Waiting for a supervisor's approval")).to_be_visible()
    screenshot(teller_page, f"teller-withdrawal-waiting-{width}")
    waiting_url = teller_page.url

    row = supervisor_page.get_by_role("link", name=re.compile("Cash withdrawal of ₹60,000.00"))
    expect(row).to_be_visible(timeout=LIVE)
    row.click()
    expect(supervisor_page.get_by_test_id("request-description")).to_contain_text("Priya Sharma")
    supervisor_page.get_by_role("button", name=re.compile("^Approve")).click()
    expect(supervisor_page.get_by_text(re.compile("Approved and carried out"))).to_be_visible()

    # the teller's screen becomes the receipt by itself, at the same address
    receipt = teller_page.get_by_test_id("receipt")
    expect(receipt.get_by_role("heading", name="Cash withdrawal receipt")).to_be_visible(timeout=LIVE)
    expect(receipt).to_contain_text("Sunil Deshmukh")
    assert teller_page.url == waiting_url
    screenshot(teller_page, f"teller-withdrawal-receipt-{width}")
    txn = CounterTransaction.objects.get()
    assert txn.status == "posted" and txn.entry.checker_id == supervisor.pk
    teller_context.close()
    supervisor_context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_a_till_closed_100_short_is_flagged_to_the_supervisor(browser, counter, live_server, width):
    branch, teller, supervisor, _ = counter
    teller_context = browser.new_context(base_url=live_server.url, viewport=VIEWPORTS[width])
    supervisor_context = browser.new_context(base_url=live_server.url, viewport=VIEWPORTS[width])
    teller_page, supervisor_page = teller_context.new_page(), supervisor_context.new_page()
    approve_request(actor=supervisor, request_id=request_cash_from_vault(actor=teller, counts=ISSUED).pk)
    from banking.teller.actions import open_till

    open_till(actor=teller, counted=ISSUED)

    sign_in(supervisor_page, supervisor)
    supervisor_page.goto("/supervisor/tills/")
    expect(supervisor_page.get_by_test_id("tills")).to_contain_text("Asha Kulkarni")

    sign_in(teller_page, teller)
    teller_page.goto("/teller/till/")
    teller_page.get_by_role("link", name="Close my till").click()
    for label, count in [("₹500", "100"), ("₹200", "50"), ("₹100", "99"), ("₹50", "20"), ("₹20", "50"),
                         ("₹10", "50"), ("Coins (₹)", "200")]:
        teller_page.get_by_label(label, exact=True).fill(count)
    screenshot(teller_page, f"teller-till-close-{width}")
    teller_page.get_by_role("button", name="Close the till").click()
    expect(teller_page.get_by_text(re.compile("short by ₹100.00, posted to teller suspense"))).to_be_visible()
    closure = teller_page.get_by_test_id("till-closure")
    expect(closure).to_contain_text("Short by ₹100.00")
    screenshot(teller_page, f"teller-till-closed-{width}")

    # the supervisor's tills page flags it without a reload
    flagged = supervisor_page.get_by_test_id("flagged")
    expect(flagged).to_contain_text("Till of Asha Kulkarni: Short by ₹100.00", timeout=LIVE)
    screenshot(supervisor_page, f"supervisor-tills-flagged-{width}")
    flagged.get_by_role("link", name="sign off").click()
    expect(supervisor_page.get_by_test_id("request-description")).to_contain_text("Short by ₹100.00")
    supervisor_page.get_by_role("button", name=re.compile("^Approve")).click()
    expect(supervisor_page.get_by_text(re.compile("Approved and carried out"))).to_be_visible()
    supervisor_page.goto("/supervisor/reports/cash-differences/")
    expect(supervisor_page.get_by_role("table")).to_contain_text("Short by ₹100.00")
    screenshot(supervisor_page, f"supervisor-cash-differences-{width}")
    supervisor_page.goto("/supervisor/reports/cash-position/")
    screenshot(supervisor_page, f"supervisor-cash-position-{width}")

    day = TillDay.objects.get()
    assert day.status == "signed_off" and day.difference == -100_00
    assert LedgerAccount.objects.get(code=TELLER_SUSPENSE).balance == 100_00
    teller_context.close()
    supervisor_context.close()
