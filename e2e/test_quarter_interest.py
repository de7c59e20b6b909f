"""Journey: a customer sees the quarter's interest. Operations run end of day for 31
December, a quarter's last day, through the controller and a worker; the next
morning the customer opens their statement on a phone, then on a desktop, and reads
the interest credited, in words, with its amount."""

import datetime
import time

import pytest
from playwright.sync_api import expect

from banking.deposits.tests.savings_days import close_day, on
from banking.ledger.models import BusinessDate
from banking.operations import actions as eod_actions
from banking.operations.models import EodRun, RunState
from banking.payments.tests.factories import make_bank
from banking.teller.actions import close_branch
from banking.testing import make_user
from banking.users.roles import Role

from .helpers import VIEWPORTS, named, screenshot, sign_in

pytestmark = pytest.mark.e2e

D = datetime.date
QUARTER_END = D(2026, 12, 31)
DAY = 120  # seconds: every step of the day, one job after another, on one worker


@pytest.fixture
def quarter_end(transactional_db, monkeypatch):
    """Meera's savings account, opened on 29 Dec 2026 with ₹5,00,000, its 29 and 30 Dec
    accrued by end of day; the business date is 31 Dec and the calendar says 1 Jan 2027,
    so the day can close. Her branch has closed its cash."""
    on(D(2026, 12, 29))
    bank = make_bank()
    account = bank.account(balance=5_00_000_00, first_name="Meera", last_name="Iyer")
    close_day(D(2026, 12, 29))
    close_day(D(2026, 12, 30))
    on(QUARTER_END)
    close_branch(actor=bank.checker, branch=bank.branch)
    monkeypatch.setattr(eod_actions, "calendar_date", lambda: D(2027, 1, 1))
    ops = named(make_user(Role.OPERATIONS), "Farhan", "Qureshi")
    return named(bank.customer_login(account), "Meera", "Iyer"), account, ops


def test_a_customer_reads_the_quarters_interest_on_a_phone_and_a_desktop(page, quarter_end, worker):
    customer, account, ops = quarter_end
    run = eod_actions.start_end_of_day(actor=ops)
    deadline = time.monotonic() + DAY
    while not EodRun.objects.filter(pk=run.pk, state__in=[RunState.DONE, RunState.FAILED]).exists():
        assert time.monotonic() < deadline, "end of day did not finish"
        time.sleep(0.5)
    run.refresh_from_db()
    assert run.state == RunState.DONE, run.error
    assert BusinessDate.objects.current() == D(2027, 1, 1)

    # 3 days on ₹5,00,000 at 2.70%: 50,000,000 × 2.70 ÷ 365 = 369,863.01 → 369,863
    # hundredths of a paisa a day; × 3 = 1,109,589 → 11,095.89 paise → ₹110.96.
    page.set_viewport_size(VIEWPORTS[390])
    sign_in(page, customer)
    page.goto(f"/banking/accounts/{account.number}/statement/?start=2026-12-01&end=2027-01-31")
    # The statement is a list of rows on a phone and a table on a desktop; each width shows one.
    credit = page.get_by_text("Interest credited for the quarter 1 Oct 2026 to 31 Dec 2026").filter(visible=True)
    expect(credit).to_be_visible()
    expect(page.get_by_text("₹110.96").filter(visible=True).first).to_be_visible()
    expect(page.get_by_text("₹5,00,110.96").filter(visible=True).first).to_be_visible()  # the balance after it
    screenshot(page, "quarter-interest-390")

    page.set_viewport_size(VIEWPORTS[1280])
    page.reload()
    expect(credit).to_be_visible()
    row = page.get_by_role("row").filter(has_text="Interest credited for the quarter")
    expect(row).to_contain_text("₹110.96")
    expect(row).to_contain_text("₹5,00,110.96")
    screenshot(page, "quarter-interest-1280")
