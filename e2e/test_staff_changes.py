"""Journey: one administrator asks for a teller to become a supervisor with an
approval limit; a second administrator approves it in the operations portal. The
admin offers no superuser switch, and the maker cannot approve their own request."""

import re

import pytest
from playwright.sync_api import expect

from banking.testing import make_branch, make_user
from banking.users.models import User
from banking.users.roles import Role

from .helpers import VIEWPORTS, named, screenshot, sign_in

pytestmark = pytest.mark.e2e


@pytest.fixture
def people(transactional_db):
    branch = make_branch("000051", name="Fort, Mumbai")
    maker = named(make_user(Role.ADMINISTRATOR), "Vikram", "Singh")
    checker = named(make_user(Role.ADMINISTRATOR), "Anjali", "Verma")
    teller = named(make_user(Role.TELLER, branch=branch), "Ravi", "Menon")
    return maker, checker, teller


@pytest.mark.parametrize("width", [1280, 390])
def test_a_teller_becomes_a_supervisor_once_a_second_administrator_approves(browser, live_server, people, width):
    maker, checker, teller = people
    maker_context = browser.new_context(base_url=live_server.url, viewport=VIEWPORTS[width])
    checker_context = browser.new_context(base_url=live_server.url, viewport=VIEWPORTS[width])
    maker_page, checker_page = maker_context.new_page(), checker_context.new_page()

    sign_in(maker_page, maker)
    # The admin has no superuser switch and no roles to tick.
    maker_page.goto(f"/admin/users/user/{teller.pk}/change/")
    expect(maker_page.get_by_text("Staff and roles").first).to_be_visible()
    expect(maker_page.get_by_label("Superuser status")).to_have_count(0)

    maker_page.goto("/ops/staff/")
    maker_page.get_by_role("link", name="Ravi Menon").first.click()
    expect(maker_page.get_by_role("heading", name="Change Ravi Menon")).to_be_visible()
    maker_page.get_by_label("Teller", exact=True).uncheck()
    maker_page.get_by_label("Supervisor (head teller)").check()
    maker_page.get_by_label("Approval limit (₹)").fill("10,00,000")
    screenshot(maker_page, f"staff-change-{width}")
    maker_page.get_by_role("button", name="Send for approval").click()
    expect(maker_page.get_by_text(re.compile("Sent for approval: Ravi Menon"))).to_be_visible()

    # The maker cannot approve it.
    maker_page.get_by_role("link", name=re.compile("Ravi Menon: Supervisor")).click()
    expect(maker_page.get_by_text("You made this request, so another administrator must check it.")).to_be_visible()
    expect(maker_page.get_by_role("button", name="Approve")).to_have_count(0)

    sign_in(checker_page, checker)
    checker_page.goto("/ops/staff/")
    checker_page.get_by_role("link", name=re.compile("Ravi Menon: Supervisor")).click()
    description = checker_page.get_by_test_id("request-description")
    expect(description).to_contain_text("Supervisor (head teller) (now Teller)")
    expect(description).to_contain_text("₹10,00,000.00")
    screenshot(checker_page, f"staff-request-{width}")
    checker_page.get_by_role("button", name="Approve").click()
    expect(checker_page.get_by_text(re.compile("Approved and carried out: Ravi Menon"))).to_be_visible()
    expect(checker_page.get_by_role("row", name=re.compile("Ravi Menon"))).to_contain_text("Supervisor")

    person = User.objects.select_related("staff_profile").get(pk=teller.pk)
    assert person.roles == [Role.SUPERVISOR] and person.staff_profile.approval_limit == 10_00_000_00
    maker_context.close()
    checker_context.close()
