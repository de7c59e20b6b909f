"""A day of the branch's cash, in two browsers, at a desktop's and a phone's width.

- The live feed: a colleague's deposit appears on a teller's counter within five
  seconds without a reload, and the teller's own till and day's totals follow her
  postings.
- From the vault to the close: a teller asks the vault for cash and the head teller
  approves it; she opens her till, takes a deposit, finds it was a mistake and asks
  for its reversal, which the head teller approves; she counts her till closed, the
  head teller signs it off and closes the branch, and the cash position report shows
  the day.
"""

import re

import pytest
from playwright.sync_api import expect

from banking.approvals.actions import approve_request
from banking.core.money import format_money
from banking.ledger.chart import ensure_standard_chart
from banking.teller.actions import find_till, fund_vault, open_till, request_cash_from_vault, take_cash_deposit
from banking.teller.denominations import Denominations
from banking.teller.models import BranchDay, CounterTransaction, TillDay
from banking.teller.tests.factories import key, open_account, vault_of
from banking.testing import make_branch, make_user
from banking.users.roles import Role

from .helpers import VIEWPORTS, named, screenshot, sign_in

pytestmark = pytest.mark.e2e

LIVE = 15_000  # ms: the queue polls every 5 s, the tills page every 5 s, a receipt every 2 s
FEED = 5_000  # ms: the issue's promise for the branch feed
VAULT = Denominations(n500=2000, n200=1000, n100=2000, n50=500, n20=500, n10=500, coins=2000)
ISSUE = Denominations(n500=20, n200=10, n100=10)  # ₹13,000


@pytest.fixture
def branch_day(transactional_db):
    branch = make_branch("000061", name="Kothrud, Pune")
    ensure_standard_chart([(branch.code, branch.name)])
    fund_vault(actor=None, branch=branch, counts=VAULT, idempotency_key=key())
    supervisor = named(make_user(Role.SUPERVISOR, branch=branch, approval_limit=50_00_000_00), "Sunil", "Deshmukh")
    teller = named(make_user(Role.TELLER, branch=branch), "Asha", "Kulkarni")
    account = open_account(branch, teller, supervisor, balance=10_000_00, first_name="Priya", last_name="Sharma")
    return branch, teller, supervisor, account


def two_browsers(browser, live_server, width):
    contexts = [browser.new_context(base_url=live_server.url, viewport=VIEWPORTS[width]) for _ in range(2)]
    return contexts, [context.new_page() for context in contexts]


def till_row(page, label):
    """The cells of one denomination's row of the counter's "My till" table."""
    table = page.get_by_role("table", name="My till by denomination")
    return table.get_by_role("row").filter(has=page.get_by_role("rowheader", name=label, exact=True))


@pytest.mark.parametrize("width", [1280, 390])
def test_a_colleagues_deposit_reaches_the_feed_within_five_seconds(browser, live_server, branch_day, width):
    branch, teller, supervisor, account = branch_day
    colleague = named(make_user(Role.TELLER, branch=branch), "Ravi", "Patil")
    for person in (teller, colleague):
        approve_request(actor=supervisor, request_id=request_cash_from_vault(actor=person, counts=ISSUE).pk)
        open_till(actor=person, counted=ISSUE)
    contexts, (watching, counter) = two_browsers(browser, live_server, width)

    sign_in(watching, teller)
    watching.goto("/teller/")
    expect(watching.get_by_text("No transactions yet today")).to_be_visible()
    expect(till_row(watching, "₹500")).to_contain_text("20")
    expect(watching.get_by_test_id("day-totals")).to_contain_text("Deposits (0)")

    sign_in(counter, colleague)
    counter.goto("/teller/deposit/")
    counter.get_by_label("Account number").fill(account.number)
    expect(counter.get_by_test_id("holder-name")).to_have_text("Priya Sharma")
    counter.get_by_label("Amount (₹)").fill("2,300")
    counter.get_by_label("₹500", exact=True).fill("4")
    counter.get_by_label("₹100", exact=True).fill("3")
    counter.get_by_role("button", name="Take the deposit").click()
    expect(counter.get_by_test_id("receipt-amount")).to_have_text("₹2,300.00")

    feed = watching.get_by_test_id("branch-feed")
    expect(feed).to_contain_text("+₹2,300.00", timeout=FEED)
    expect(feed).to_contain_text("Priya Sharma")
    # the colleague's deposit went into his till, not hers
    expect(till_row(watching, "₹500")).to_contain_text("20")
    expect(watching.get_by_test_id("day-totals")).to_contain_text("Deposits (0)")
    screenshot(watching, f"teller-feed-colleague-{width}")

    # her own deposit moves her till and her day's totals, still without a reload
    take_cash_deposit(actor=teller, account=account, amount=1_000_00, counts=Denominations(n500=2),
                      idempotency_key=key())
    expect(till_row(watching, "₹500")).to_contain_text("22", timeout=FEED)
    totals = watching.get_by_test_id("day-totals")
    expect(totals).to_contain_text("Deposits (1)")
    expect(totals).to_contain_text("₹1,000.00")
    expect(feed.get_by_role("row")).to_have_count(3)  # the header and the two deposits, newest first
    expect(feed.get_by_role("row").nth(1)).to_contain_text("+₹1,000.00")
    screenshot(watching, f"teller-feed-own-{width}")
    for context in contexts:
        context.close()


def fill_counts(page, counts):
    for name, label, count, _value in counts.rows():
        if count:
            page.get_by_label(label, exact=True).fill(str(count))


def approve_from_queue(page, summary):
    page.goto("/supervisor/queue/")
    row = page.get_by_role("link", name=summary)
    expect(row).to_be_visible(timeout=LIVE)
    row.click()
    page.get_by_role("button", name=re.compile("^Approve")).click()
    expect(page.get_by_text(re.compile("Approved and carried out"))).to_be_visible()


@pytest.mark.parametrize("width", [1280, 390])
def test_from_the_vault_to_the_close_of_the_branch(browser, live_server, branch_day, width):
    branch, teller, supervisor, account = branch_day
    contexts, (desk, head) = two_browsers(browser, live_server, width)
    sign_in(desk, teller)
    sign_in(head, supervisor)

    # cash from the vault, confirmed by the head teller
    desk.goto("/teller/till/")
    desk.get_by_role("link", name="Ask the vault for cash").click()
    fill_counts(desk, ISSUE)
    desk.get_by_role("button", name="Send to the head teller").click()
    expect(desk.get_by_text("Issue ₹13,000.00 from the vault to Asha Kulkarni's till")).to_be_visible()
    approve_from_queue(head, re.compile("Issue ₹13,000.00 from the vault to Asha Kulkarni's till"))

    desk.goto("/teller/till/open/")
    fill_counts(desk, ISSUE)
    desk.get_by_role("button", name="Open the till").click()
    expect(desk.get_by_text(re.compile("Your till is open for"))).to_be_visible()

    # a deposit to the wrong account, then its reversal
    desk.goto("/teller/deposit/")
    desk.get_by_label("Account number").fill(account.number)
    desk.get_by_label("Amount (₹)").fill("1,500")
    desk.get_by_label("₹500", exact=True).fill("3")
    desk.get_by_role("button", name="Take the deposit").click()
    expect(desk.get_by_test_id("receipt-amount")).to_have_text("₹1,500.00")
    receipt_url = desk.url
    desk.get_by_text("Reverse this transaction").click()
    desk.get_by_label("Reason for the reversal").fill("Credited to the wrong account")
    desk.get_by_role("button", name="Ask a supervisor to reverse it").click()
    number = CounterTransaction.objects.get().number
    expect(desk.get_by_role("status")).to_contain_text(f"The reversal of {number} is waiting for a supervisor")
    screenshot(desk, f"teller-reversal-asked-{width}")
    approve_from_queue(head, f"Reverse {number}, cash deposit of ₹1,500.00")
    desk.goto(receipt_url)
    expect(desk.get_by_text(re.compile("Reversed"))).to_be_visible()
    screenshot(desk, f"teller-reversed-{width}")
    txn = CounterTransaction.objects.get()
    assert txn.status == "reversed"
    assert find_till(teller).counts == ISSUE  # the ₹500 notes went back out of the till
    assert account.ledger_account.__class__.objects.get(pk=account.ledger_account_id).balance == 10_000_00

    # the branch cannot close while the till is open
    head.goto("/supervisor/tills/")
    expect(head.get_by_test_id("close-problems")).to_contain_text("Till of Asha Kulkarni is still open.")

    # the teller counts her till closed; the head teller signs it off and closes the branch
    desk.goto("/teller/till/close/")
    fill_counts(desk, ISSUE)
    desk.get_by_role("button", name="Close the till").click()
    expect(desk.get_by_test_id("till-closure")).to_contain_text("Waiting for the head teller")
    approve_from_queue(head, re.compile("Sign off Asha Kulkarni's till: ₹13,000.00 counted"))
    desk.goto("/teller/till/")
    expect(desk.get_by_test_id("till-closure")).to_contain_text("Signed off by Sunil Deshmukh")

    head.goto("/supervisor/tills/")
    expect(head.get_by_test_id("close-problems")).to_have_count(0)
    head.get_by_role("button", name="Close the branch's cash").click()
    expect(head.get_by_test_id("branch-closed")).to_contain_text(
        re.compile(f"Closed by Sunil Deshmukh at .* with {re.escape(format_money(VAULT.value))} in the vault"))
    screenshot(head, f"supervisor-branch-closed-{width}")
    assert TillDay.objects.get().status == "signed_off"
    assert BranchDay.objects.get(branch=branch).vault_balance == VAULT.value
    assert vault_of(branch).counts == VAULT

    head.goto("/supervisor/reports/cash-position/")
    till_box = head.get_by_role("region", name="Till of Asha Kulkarni")
    # opening, receipts (the vault's issue and the deposit), payments (the reversal and the
    # cash returned at sign-off), closing
    expect(till_box.get_by_role("row").filter(has_text="Total").get_by_role("cell")).to_have_text(
        ["₹0.00", "₹14,500.00", "₹14,500.00", "₹0.00"])
    screenshot(head, f"supervisor-cash-position-closed-{width}")
    for context in contexts:
        context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_a_cheque_book_a_stopped_leaf_and_a_transfer_by_cheque(page, branch_day, width):
    from banking.deposits.models import DepositAccount
    from banking.teller.models import Cheque, ChequeBook

    branch, teller, supervisor, account = branch_day
    payee = open_account(branch, teller, supervisor, balance=0, first_name="Meera", last_name="Iyer")
    approve_request(actor=supervisor, request_id=request_cash_from_vault(actor=teller, counts=ISSUE).pk)
    open_till(actor=teller, counted=ISSUE)
    page.set_viewport_size(VIEWPORTS[width])
    sign_in(page, teller)

    page.goto("/teller/cheques/")
    page.get_by_label("Account number").fill(account.number)
    page.get_by_role("button", name="Show cheques").click()
    expect(page.get_by_text("No cheque book has been issued to this account.")).to_be_visible()
    page.get_by_role("button", name="Issue the book").click()
    leaves = page.get_by_test_id("cheque-leaves").get_by_role("listitem")
    expect(leaves).to_have_count(20)
    book = ChequeBook.objects.get(account=account)
    first, second = (cheque.leaf for cheque in book.cheques.order_by("number")[:2])

    stop = page.get_by_role("region", name="Stop payment")
    stop.get_by_label("From cheque").fill(first)
    stop.get_by_label("Reason").fill("Reported lost by the holder")
    stop.get_by_role("button", name="Stop payment").click()
    expect(leaves.filter(has_text=first)).to_contain_text("Stopped")
    screenshot(page, f"teller-cheques-{width}")

    # a transfer by the stopped leaf is refused and moves nothing; by the next leaf it posts
    page.goto("/teller/transfer/")
    page.get_by_label("From account").fill(account.number)
    page.get_by_label("To account").fill(payee.number)
    page.get_by_label("Amount (₹)").fill("2,000")
    page.get_by_label("Cheque number").fill(first)
    page.get_by_role("button", name="Transfer").click()
    expect(page.get_by_test_id("form-error")).to_contain_text(f"Payment of cheque {first} is stopped")
    assert not CounterTransaction.objects.exists()
    page.get_by_label("Cheque number").fill(second)
    page.get_by_role("button", name="Transfer").click()
    expect(page.get_by_test_id("receipt-amount")).to_have_text("₹2,000.00")
    expect(page.get_by_test_id("receipt")).to_contain_text("Meera Iyer")
    screenshot(page, f"teller-transfer-receipt-{width}")

    balances = dict(DepositAccount.objects.filter(pk__in=[account.pk, payee.pk])
                    .values_list("number", "ledger_account__balance"))
    assert balances == {account.number: 8_000_00, payee.number: 2_000_00}
    assert Cheque.objects.get(book=book, number=book.cheques.order_by("number")[1].number).status == "paid"
    assert find_till(teller).counts == ISSUE  # a transfer moves no cash
