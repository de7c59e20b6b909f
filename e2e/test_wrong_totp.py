"""Journey: a wrong or reused authenticator code gets a clear message and does not
sign anyone in; the right code then does."""

import re

import pytest
from playwright.sync_api import expect

from banking.testing import make_branch, make_user

from .helpers import VIEWPORTS, enter_code, enter_password, fresh_totp, named, screenshot, sign_out, wrong_code

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("width", [1280, 390])
def test_wrong_then_reused_code_is_refused(page, width):
    teller = named(make_user("teller", branch=make_branch()), "Divya", "Rao")
    page.set_viewport_size(VIEWPORTS[width])

    enter_password(page, teller.username)
    enter_code(page, wrong_code(teller.totp_secret))

    expect(page.get_by_text("Incorrect code.")).to_be_visible()
    screenshot(page, f"totp-wrong-{width}")
    assert_not_signed_in(page)
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("heading", name="Sign in to CBS Bank")).to_be_visible()

    # The right code signs in ...
    code = fresh_totp(teller)
    enter_password(page, teller.username)
    enter_code(page, code)
    expect(page).to_have_url(re.compile(r"/teller/$"))
    expect(page.get_by_role("main")).to_contain_text("Divya Rao")
    sign_out(page, teller)

    # ... once: someone who watched it being typed cannot use it again.
    enter_password(page, teller.username)
    enter_code(page, code)
    expect(page.get_by_text("Incorrect code.")).to_be_visible()
    assert_not_signed_in(page)


def assert_not_signed_in(page):
    """The counter is out of reach: the sign-in still waits for a good code."""
    page.goto("/teller/")
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))
    expect(page.get_by_role("heading", name="Two-Factor Authentication")).to_be_visible()
    expect(page.get_by_role("navigation", name="Teller navigation")).to_have_count(0)
