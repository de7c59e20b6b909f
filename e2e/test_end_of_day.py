"""Journey: operations close the bank's day. With a till still open, Start is refused
and the page links to the tills; once the till is closed, signed off and the branch
closed, Start runs the day's steps on a worker while the page follows them, each
step's progress bar filling, until the day is done. The business date in every
portal's header has moved to the next day."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from banking.approvals.actions import approve_request
from banking.ledger.models import BusinessDate
from banking.teller.actions import close_branch, close_till
from banking.teller.tests.factories import OPENING, funded_branch, key, supervisor_for, teller_with_open_till
from banking.testing import make_user
from banking.users.roles import Role

from .helpers import VIEWPORTS, named, screenshot, sign_in, sign_out

pytestmark = pytest.mark.e2e

DAY = 90_000  # ms: the whole day's steps, one job after another, on one worker


@pytest.fixture
def branch_day(transactional_db):
    """Today's business date at Fort, Mumbai, with Asha's till still open."""
    today = timezone.localdate()  # the calendar's date in the bank's time zone, which end of day catches up to
    BusinessDate.objects.update_or_create(pk=1, defaults={"date": today})
    branch = funded_branch(name="Fort, Mumbai")
    supervisor = named(supervisor_for(branch, mfa=True), "Sunil", "Deshmukh")
    teller = named(teller_with_open_till(branch, supervisor, mfa=True), "Asha", "Kulkarni")
    ops = named(make_user(Role.OPERATIONS), "Farhan", "Qureshi")
    customer = named(make_user(Role.CUSTOMER), "Priya", "Sharma")
    return {"date": today, "branch": branch, "supervisor": supervisor, "teller": teller, "ops": ops,
            "customer": customer}


def header_date(page, date):
    """The business date in the portal's navigation bar (behind the menu on a phone)."""
    menu = page.get_by_role("button", name="Menu")
    if menu.is_visible():
        menu.click()
    expect(page.get_by_title("The bank's business date")).to_contain_text(f"{date:%d %b %Y}")


@pytest.mark.parametrize("width", [1280, 390])
def test_operations_close_the_day_once_the_till_is_closed(page, branch_day, worker, width):
    day = branch_day
    page.set_viewport_size(VIEWPORTS[width])
    sign_in(page, day["ops"])
    menu = page.get_by_role("button", name="Menu")
    if menu.is_visible():
        menu.click()
    page.get_by_role("navigation", name="Operations navigation").get_by_role("link", name="End of day").click()
    expect(page.get_by_role("heading", name="End of day", exact=True)).to_be_visible()
    expect(page.get_by_test_id("eod-date")).to_contain_text(f"{day['date']:%d %b %Y}")
    problems = page.get_by_test_id("eod-problems")
    expect(problems).to_contain_text("Fort, Mumbai: Till of Asha Kulkarni is still open.")

    # Start with the till open: refused, and told where the till is put right.
    page.get_by_role("button", name="Start end of day").click()
    expect(page.get_by_test_id("eod-refused")).to_contain_text("End of day did not start")
    till_link = page.get_by_test_id("eod-problems").locator("li", has_text="Till of Asha Kulkarni") \
        .get_by_role("link", name="Tills and vault")
    expect(till_link).to_have_attribute("href", "/supervisor/tills/")
    screenshot(page, f"eod-refused-{width}")

    # The teller closes the till, the head teller signs it off and closes the branch's cash.
    closing = close_till(actor=day["teller"], counted=OPENING, idempotency_key=key())
    approve_request(actor=day["supervisor"], request_id=closing.close_request_id)
    close_branch(actor=day["supervisor"], branch=day["branch"])

    page.goto("/ops/eod/")
    expect(page.get_by_test_id("eod-ready")).to_be_visible()
    page.get_by_role("button", name="Start end of day").click()
    # The page follows the steps as the worker runs them, then reloads itself when the day is done.
    expect(page.get_by_test_id("eod-state")).to_have_text("Done", timeout=DAY)
    steps = page.get_by_test_id("eod-step")
    expect(steps.first).to_be_visible()
    for index in range(steps.count()):
        bar = steps.nth(index).locator("progress")
        expect(bar).to_have_attribute("value", "100")
    expect(page.get_by_test_id("eod-log")).to_contain_text(f"End of day for {day['date']:%d %b %Y} done")
    screenshot(page, f"eod-done-{width}")

    tomorrow = day["date"] + datetime.timedelta(days=1)
    header_date(page, tomorrow)
    expect(page.get_by_test_id("eod-date")).to_contain_text(f"{tomorrow:%d %b %Y}")

    # Every portal's header shows the new business date.
    signed_in = day["ops"]
    for person, path in ((day["teller"], "/teller/"), (day["supervisor"], "/supervisor/"),
                         (day["customer"], "/banking/")):
        page.reload()  # the phone's menu folded again
        sign_out(page, signed_in)
        sign_in(page, person)
        expect(page).to_have_url(re.compile(re.escape(path) + "$"))
        header_date(page, tomorrow)
        signed_in = person
    screenshot(page, f"eod-next-day-customer-{width}")
