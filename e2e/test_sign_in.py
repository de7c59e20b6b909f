"""Journey: each role signs in (password, then the authenticator code for staff)
and lands in its portal, on a desktop and on a phone."""

import datetime
import re

import pytest
from playwright.sync_api import expect

from banking.ledger.models import BusinessDate
from banking.testing import make_branch, make_user
from banking.users.roles import Role

from .helpers import VIEWPORTS, enter_password, named, screenshot, sign_in

pytestmark = pytest.mark.e2e

# A business date that is not today, so the page must show the bank's date, not the clock's.
BUSINESS_DATE = datetime.date(2026, 3, 31)

# role -> (landing path, the portal's name in its menu, a section link in its menu)
PORTALS = {
    Role.TELLER: ("/teller/", "Teller", "Counter"),
    Role.SUPERVISOR: ("/supervisor/", "Supervisor", "Overview"),
    Role.BRANCH_MANAGER: ("/supervisor/", "Supervisor", "Overview"),
    Role.OPERATIONS: ("/ops/", "Operations", "Overview"),
    Role.COMPLIANCE: ("/ops/", "Operations", "Overview"),
    Role.AUDITOR: ("/ops/", "Operations", "Audit trail"),
    Role.CUSTOMER: ("/banking/", "Internet banking", "Security"),
}
BRANCH_ROLES = {Role.TELLER, Role.SUPERVISOR, Role.BRANCH_MANAGER}


@pytest.fixture
def business_date(transactional_db):
    BusinessDate.objects.update_or_create(pk=1, defaults={"date": BUSINESS_DATE})
    return BUSINESS_DATE


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("role", list(PORTALS), ids=lambda r: r.value)
def test_role_lands_in_its_portal(page, role, width, business_date):
    branch = make_branch("000041", name="Fort, Mumbai") if role in BRANCH_ROLES else None
    user = named(make_user(role, branch=branch), "Asha", "Kulkarni")
    page.set_viewport_size(VIEWPORTS[width])
    path, portal_title, section = PORTALS[role]

    sign_in(page, user)

    expect(page).to_have_url(re.compile(re.escape(path) + "$"))
    # Each portal's home says who is signed in, as what, where, and the bank's date.
    main = page.get_by_role("main")
    expect(main).to_contain_text("Asha Kulkarni")
    expect(main).to_contain_text(re.compile(r"31 Mar(ch)? 2026"))
    if role != Role.CUSTOMER:
        expect(main).to_contain_text(role.label)
    if branch:
        expect(main).to_contain_text("Fort, Mumbai (CBSB0000041)")

    screenshot(page, f"home-{role.value}-{width}")

    nav = page.get_by_role("navigation", name=f"{portal_title} navigation")
    menu_button = nav.get_by_role("button", name="Menu")
    section_link = nav.get_by_role("link", name=section)
    if width == 390:
        # On a phone the sections and the person's menu fold behind the menu button.
        expect(menu_button).to_be_visible()
        expect(section_link).to_be_hidden()
        menu_button.click()
        expect(section_link).to_be_visible()
        screenshot(page, f"menu-{role.value}-{width}", full_page=False)
    else:
        expect(menu_button).to_be_hidden()
        expect(section_link).to_be_visible()
    expect(nav.get_by_text("31 Mar 2026")).to_be_visible()
    # The person's menu names their role (and branch) on every page of the portal.
    nav.get_by_role("button", name="Asha Kulkarni").click()
    in_menu = nav.get_by_role("listitem").get_by_text(role.label + (" · Fort, Mumbai" if branch else ""), exact=True)
    expect(in_menu).to_be_visible()
    expect(nav.get_by_role("button", name="Sign out")).to_be_visible()


@pytest.mark.parametrize("width", [1280, 390])
def test_administrator_lands_in_the_admin(page, width, business_date):
    user = named(make_user(Role.ADMINISTRATOR), "Vikram", "Singh")
    page.set_viewport_size(VIEWPORTS[width])

    sign_in(page, user)

    expect(page).to_have_url(re.compile(r"/admin/$"))
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    expect(page.get_by_text("CBS Bank administration")).to_be_visible()
    expect(page.get_by_text(re.compile("Welcome,\\s*Vikram", re.I))).to_be_visible()
    # Administrators manage staff and branches; they have no superuser switch.
    expect(page.get_by_role("link", name="Branches", exact=True)).to_be_visible()
    screenshot(page, f"home-administrator-{width}")


def test_wrong_password_does_not_sign_in(page):
    user = make_user(Role.TELLER, branch=make_branch())

    enter_password(page, user.username, "not-the-password-at-all")

    expect(page.get_by_text("The username and/or password you specified are not correct.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    page.goto("/teller/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/teller/$"))
