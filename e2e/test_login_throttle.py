"""Journey: guessing a password is throttled. After five wrong passwords for one
login the sixth attempt is refused with a clear message, even with the right
password, while other people keep signing in from the same place."""

import re

import pytest
from playwright.sync_api import expect

from banking.testing import make_branch, make_user

from .helpers import enter_password, screenshot, sign_in

pytestmark = pytest.mark.e2e

WRONG_PASSWORD = "not-my-password-42"
TOO_MANY = "Too many failed login attempts. Try again later."


@pytest.fixture
def login_limits(settings):
    """The suite relaxes allauth's rate limits; this journey checks the bank's own."""
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "20/m/ip,5/5m/key"}


def test_five_wrong_passwords_lock_the_login(page, login_limits):
    branch = make_branch()
    teller = make_user("teller", branch=branch)
    colleague = make_user("teller", branch=branch)

    for _attempt in range(5):
        enter_password(page, teller.username, WRONG_PASSWORD)
        expect(page.get_by_text("The username and/or password you specified are not correct.")).to_be_visible()
        expect(page.get_by_text(TOO_MANY)).to_have_count(0)

    enter_password(page, teller.username)

    expect(page.get_by_text(TOO_MANY)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.get_by_role("heading", name="Two-Factor Authentication")).to_have_count(0)
    screenshot(page, "login-throttled-1280")

    # The lock is per login: a colleague at the next counter still signs in.
    sign_in(page, colleague)
    expect(page).to_have_url(re.compile(r"/teller/$"))
