"""Journey: operations enters a manual journal; a supervisor sees it arrive in the
queue without reloading and approves it; the trial balance reflects it. A
rejected journal shows its reason to the maker, live. A large reversal is read in
words and approved once the supervisor has confirmed their password."""

import re

import pytest
from playwright.sync_api import expect

from banking.ledger.chart import ensure_standard_chart
from banking.testing import make_branch, make_user
from banking.users.roles import Role

from .helpers import VIEWPORTS, named, screenshot, sign_in

pytestmark = pytest.mark.e2e

LIVE = 15_000  # ms: the queue polls every 5 s, the maker's list every 10 s


@pytest.fixture
def people(transactional_db):
    ensure_standard_chart([("000041", "Fort, Mumbai")])
    branch = make_branch("000041", name="Fort, Mumbai")
    ops = named(make_user(Role.OPERATIONS), "Farhan", "Qureshi")
    supervisor = named(make_user(Role.SUPERVISOR, branch=branch, approval_limit=10_00_000_00), "Sunil", "Deshmukh")
    return ops, supervisor


def enter_journal(page, narration, lines):
    page.goto("/ops/journals/new/")
    page.get_by_label("Narration").fill(narration)
    for index, (account, side, amount) in enumerate(lines):
        if index >= page.get_by_test_id("journal-line").count():
            page.get_by_role("button", name="Add a line").click()
            expect(page.get_by_test_id("journal-line")).to_have_count(index + 1)
        line = page.get_by_test_id("journal-line").nth(index)
        line.get_by_label("Account").select_option(label=account)
        line.get_by_label("Side").select_option(label=side)
        line.get_by_label("Amount (₹)").fill(amount)


def test_journal_is_approved_live_and_reaches_the_trial_balance(browser, people, live_server):
    ops, supervisor = people
    maker = browser.new_context(base_url=live_server.url, viewport=VIEWPORTS[1280])
    checker = browser.new_context(base_url=live_server.url, viewport=VIEWPORTS[1280])
    ops_page, sup_page = maker.new_page(), checker.new_page()

    sign_in(sup_page, supervisor)
    sup_page.goto("/supervisor/queue/")
    expect(sup_page.get_by_role("heading", name="Approval queue")).to_be_visible()

    sign_in(ops_page, ops)
    enter_journal(ops_page, "Cash found in the strongroom", [
        ("1901 · Suspense account", "Debit", "1,500.00"),
        ("3200 · Reserves and surplus", "Credit", "1000"),
        ("3200 · Reserves and surplus", "Credit", "400"),
    ])
    # the running difference shows the journal is ₹100 short
    expect(ops_page.get_by_test_id("journal-difference")).to_have_text("₹100.00")
    ops_page.get_by_test_id("journal-line").nth(2).get_by_label("Amount (₹)").fill("500")
    expect(ops_page.get_by_test_id("journal-difference")).to_have_text("₹0.00")
    screenshot(ops_page, "manual-journal-1280")
    ops_page.get_by_role("button", name="Send for approval").click()
    expect(ops_page.get_by_role("heading", name="My requests")).to_be_visible()
    expect(ops_page.get_by_text("Cash found in the strongroom")).to_be_visible()

    # the supervisor's queue shows it without a reload
    row = sup_page.get_by_role("link", name=re.compile("Cash found in the strongroom"))
    expect(row).to_be_visible(timeout=LIVE)
    row.click()
    expect(sup_page.get_by_text("1901 Suspense account: ₹1,500.00")).to_be_visible()
    sup_page.get_by_role("button", name=re.compile("^Approve")).click()
    expect(sup_page.get_by_text(re.compile("Approved and carried out: Manual journal"))).to_be_visible()

    ops_page.goto("/ops/trial-balance/")
    suspense = ops_page.get_by_role("row", name=re.compile("1901 Suspense account"))
    expect(suspense).to_contain_text("₹1,500.00")
    expect(ops_page.get_by_test_id("tb-difference")).to_contain_text("₹0.00")
    screenshot(ops_page, "trial-balance-1280")
    maker.close()
    checker.close()


def test_a_rejected_journal_shows_its_reason_to_the_maker(browser, people, live_server):
    ops, supervisor = people
    maker = browser.new_context(base_url=live_server.url, viewport=VIEWPORTS[390])
    checker = browser.new_context(base_url=live_server.url, viewport=VIEWPORTS[1280])
    ops_page, sup_page = maker.new_page(), checker.new_page()

    sign_in(ops_page, ops)
    enter_journal(ops_page, "Accrual for rent", [
        ("1901 · Suspense account", "Debit", "250"),
        ("3200 · Reserves and surplus", "Credit", "250"),
    ])
    ops_page.get_by_role("button", name="Send for approval").click()
    expect(ops_page.get_by_role("heading", name="My requests")).to_be_visible()

    sign_in(sup_page, supervisor)
    sup_page.goto("/supervisor/queue/")
    sup_page.get_by_role("link", name=re.compile("Accrual for rent")).click()
    sup_page.get_by_label("Reason for rejecting").fill("Post rent to an expense account, not reserves.")
    sup_page.get_by_role("button", name="Reject").click()
    expect(sup_page.get_by_text(re.compile("Rejected: Manual journal: Accrual for rent"))).to_be_visible()

    # the maker's list turns to rejected with the reason, without a reload
    reason = ops_page.get_by_text("Post rent to an expense account, not reserves.").filter(visible=True)
    expect(reason).to_have_count(1, timeout=LIVE)
    screenshot(ops_page, "my-requests-rejected-390")
    maker.close()
    checker.close()


def test_an_unbalanced_journal_is_refused(page, people):
    ops, _ = people
    sign_in(page, ops)
    enter_journal(page, "Out of balance", [
        ("1901 · Suspense account", "Debit", "100"),
        ("3200 · Reserves and surplus", "Credit", "90"),
    ])
    page.get_by_role("button", name="Send for approval").click()
    expect(page.get_by_text(re.compile("does not balance"))).to_be_visible()
    expect(page.get_by_role("heading", name="Manual journal")).to_be_visible()


@pytest.mark.parametrize("width", [1280, 390])
def test_ledger_screens_read_well_at_each_width(page, people, width):
    from banking.ledger.tests.helpers import customer_account, transfer

    a, b = customer_account(25_000_00), customer_account(0)
    entry = transfer(a, b, 1_234_50)
    ops, _ = people
    page.set_viewport_size(VIEWPORTS[width])
    sign_in(page, ops)
    page.goto("/ops/gl/")
    expect(page.get_by_role("cell", name=re.compile("2110 Savings bank deposits"))).to_be_visible()
    screenshot(page, f"gl-chart-{width}")
    page.get_by_role("link", name=re.compile("3100 Share capital")).click()
    expect(page.get_by_test_id("gl-balance")).to_have_text("-₹25,000.00")
    screenshot(page, f"gl-account-{width}")
    page.goto(f"/ops/entries/{entry.pk}/")
    expect(page.get_by_role("heading", name=re.compile(entry.number))).to_be_visible()
    page.get_by_label("Reason").fill("Posted to the wrong customer")
    page.get_by_role("button", name="Send reversal for approval").click()
    expect(page.get_by_role("heading", name="My requests")).to_be_visible()
    page.goto(f"/ops/entries/{entry.pk}/")
    expect(page.get_by_text("A reversal is waiting for approval")).to_be_visible()
    screenshot(page, f"entry-detail-{width}")


@pytest.mark.parametrize("width", [1280, 390])
def test_a_large_reversal_is_approved_after_the_supervisor_confirms_their_password(browser, people, live_server,
                                                                                    width):
    """Operations asks to reverse an entry of ₹15,00,000; the supervisor reads the
    request in words and approves it, and above ₹10,00,000 is asked for their
    password first; the approval then carries on and the entry stands reversed."""
    from banking.ledger.models import JournalEntry, LedgerAccount
    from banking.ledger.tests.helpers import customer_account, transfer
    from banking.testing import PASSWORD

    ops, _ = people
    supervisor = named(make_user(Role.SUPERVISOR, branch=people[1].branch, approval_limit=1_00_00_000_00),
                       "Kavita", "Rao")  # a limit of ₹1 crore covers the reversal
    source, target = customer_account(20_00_000_00, name="Meera Iyer"), customer_account(0, name="Rahul Verma")
    entry = transfer(source, target, 15_00_000_00)
    maker = browser.new_context(base_url=live_server.url, viewport=VIEWPORTS[width])
    checker = browser.new_context(base_url=live_server.url, viewport=VIEWPORTS[width])
    ops_page, sup_page = maker.new_page(), checker.new_page()

    sign_in(ops_page, ops)
    ops_page.goto(f"/ops/entries/{entry.pk}/")
    ops_page.get_by_label("Reason").fill("Paid to the wrong customer")
    ops_page.get_by_role("button", name="Send reversal for approval").click()
    expect(ops_page.get_by_role("heading", name="My requests")).to_be_visible()

    sign_in(sup_page, supervisor)
    sup_page.goto("/supervisor/queue/")
    sup_page.get_by_role("link", name=re.compile(f"Reverse {entry.number}")).click()
    description = sup_page.get_by_test_id("request-description")
    expect(description).to_contain_text(entry.number)
    expect(description).to_contain_text("₹15,00,000.00")
    expect(description).to_contain_text("Paid to the wrong customer")
    expect(sup_page.get_by_text("you will be asked for your password again")).to_be_visible()
    screenshot(sup_page, f"reversal-request-{width}")
    sup_page.get_by_role("button", name=re.compile("^Approve")).click()

    expect(sup_page.get_by_text(re.compile("need your password again"))).to_be_visible()
    assert not JournalEntry.objects.filter(reversal_of=entry).exists()  # nothing before the password
    sup_page.get_by_placeholder("Password").fill(PASSWORD)
    sup_page.get_by_role("button", name="Confirm").click()
    expect(sup_page.get_by_text(re.compile("Approved and carried out"))).to_be_visible()

    ops_page.goto(f"/ops/entries/{entry.pk}/")
    expect(ops_page.get_by_role("status").filter(has_text="Reversed by")).to_be_visible()
    screenshot(ops_page, f"entry-reversed-{width}")
    assert LedgerAccount.objects.get(pk=source.pk).balance == 20_00_000_00
    assert LedgerAccount.objects.get(pk=target.pk).balance == 0
    maker.close()
    checker.close()
