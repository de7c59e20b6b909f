"""Journey: a person who opens a page outside their role gets the bank's friendly
403 page, and nothing else of the page leaks."""

import re

import pytest
from playwright.sync_api import expect

from banking.testing import make_branch, make_user
from banking.users.roles import Role

from .helpers import VIEWPORTS, screenshot, sign_in

pytestmark = pytest.mark.e2e


def test_customer_opening_the_teller_counter_gets_the_403_page(page):
    customer = make_user(Role.CUSTOMER)
    page.set_viewport_size(VIEWPORTS[390])
    sign_in(page, customer)
    expect(page).to_have_url(re.compile(r"/banking/$"))

    response = page.goto("/teller/")

    assert response.status == 403
    expect(page.get_by_role("heading", name="This page is not part of your work")).to_be_visible()
    expect(page.get_by_text("Your role does not give access to this page.")).to_be_visible()
    expect(page.get_by_text("Error 403 · nothing was changed")).to_be_visible()
    expect(page.get_by_text("Counter")).to_have_count(0)
    screenshot(page, "forbidden-customer-390")

    page.get_by_role("link", name="Go to my home page").click()
    expect(page).to_have_url(re.compile(r"/banking/$"))
    expect(page.get_by_text(re.compile("^Balances as of"))).to_be_visible()


def test_teller_cannot_browse_the_audit_trail(page):
    teller = make_user(Role.TELLER, branch=make_branch())
    page.set_viewport_size(VIEWPORTS[1280])
    sign_in(page, teller)
    expect(page).to_have_url(re.compile(r"/teller/$"))

    response = page.goto("/ops/audit/")

    assert response.status == 403
    expect(page.get_by_role("heading", name="This page is not part of your work")).to_be_visible()
    expect(page.get_by_role("heading", name="Audit trail")).to_have_count(0)
    screenshot(page, "forbidden-teller-1280")


def test_anonymous_visitor_is_asked_to_sign_in(page):
    page.goto("/teller/")

    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/teller/$"))
    expect(page.get_by_role("heading", name="Sign in to CBS Bank")).to_be_visible()
