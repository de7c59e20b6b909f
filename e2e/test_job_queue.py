"""Journey: a background job fails (the statement printer is out of paper); operations
open the queue screen, see the job failed with its error, retry it once the cause is
fixed, and watch it finish without reloading. Someone on the operations side without
the permission sees the queue but cannot retry, and a teller is refused the screen."""

import re

import pytest
from playwright.sync_api import expect

from banking.core import jobs
from banking.testing import make_user
from banking.users.roles import Role

from .helpers import VIEWPORTS, named, run_jobs_once, screenshot, sign_in

pytestmark = pytest.mark.e2e

LIVE = 15_000  # ms: the list polls every 5 s
printer = {"paper": False}


@jobs.task(name="tests.e2e.print_statement")
def print_statement(*, account):
    """Print an account's statement at the branch."""
    if not printer["paper"]:
        raise RuntimeError("The statement printer is out of paper")
    return account


@pytest.fixture
def failed_job(transactional_db):
    printer["paper"] = False
    job_id = jobs.defer(print_statement, account="50100012345678")
    run_jobs_once()
    assert jobs.jobs_query().get(pk=job_id).status == "failed"
    return job_id


def open_jobs(page):
    """Through the operations menu (behind the Menu button on a phone). The queue's
    page reads procrastinate's tables, which may take a moment on a busy machine."""
    menu = page.get_by_role("button", name="Menu")
    if menu.is_visible():
        menu.click()
    link = page.get_by_role("navigation", name="Operations navigation").get_by_role("link", name="Background jobs")
    expect(link).to_be_visible()
    link.click()
    expect(page).to_have_url(re.compile(r"/ops/jobs/$"), timeout=15_000)
    expect(page.get_by_role("heading", name="Background jobs")).to_be_visible(timeout=15_000)


@pytest.mark.parametrize("width", [1280, 390])
def test_operations_see_a_failed_job_with_its_error_and_retry_it(browser, live_server, failed_job, width):
    context = browser.new_context(base_url=live_server.url, viewport=VIEWPORTS[width])
    page = context.new_page()
    sign_in(page, named(make_user(Role.OPERATIONS), "Farhan", "Qureshi"))
    open_jobs(page)

    row = page.locator(f'tr[data-job="{failed_job}"]')
    expect(row).to_contain_text("tests.e2e.print_statement")
    expect(row).to_contain_text("Failed")
    expect(row).to_contain_text("RuntimeError: The statement printer is out of paper")
    expect(page.get_by_test_id("jobs-failed")).to_have_text("1 failed")
    page.get_by_label("Status").select_option("Failed")
    expect(page).to_have_url(f"{live_server.url}/ops/jobs/?status=failed&queue=&task=")
    screenshot(page, f"ops-jobs-failed-{width}")

    printer["paper"] = True  # the branch loads paper; now the job can succeed
    row.get_by_role("button", name=f"Retry job {failed_job}").click()
    expect(page.get_by_text(f"Job #{failed_job} (tests.e2e.print_statement) is back in the queue")).to_be_visible()
    expect(page.get_by_role("heading", name="0 jobs")).to_be_visible()  # no longer failed
    page.get_by_label("Status").select_option("Retried")
    expect(row).to_contain_text("Waiting")

    run_jobs_once()
    expect(row).to_contain_text("Done", timeout=LIVE)  # the list updates by itself
    expect(row).to_contain_text("retried, 2 runs so far")
    screenshot(page, f"ops-jobs-retried-{width}")
    context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_without_the_permission_the_job_is_seen_but_not_retried(browser, live_server, failed_job, width):
    context = browser.new_context(base_url=live_server.url, viewport=VIEWPORTS[width])
    page = context.new_page()
    sign_in(page, named(make_user(Role.AUDITOR), "Lakshmi", "Narayan"))
    open_jobs(page)
    row = page.locator(f'tr[data-job="{failed_job}"]')
    expect(row).to_contain_text("RuntimeError: The statement printer is out of paper")
    expect(page.get_by_role("button", name=f"Retry job {failed_job}")).to_have_count(0)

    teller = browser.new_context(base_url=live_server.url, viewport=VIEWPORTS[width]).new_page()
    sign_in(teller, make_user(Role.TELLER))
    teller.goto("/ops/jobs/")
    expect(teller.get_by_role("heading", name="This page is not part of your work")).to_be_visible()
    context.close()
