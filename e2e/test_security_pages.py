"""Journey: a customer looks after their sign-in: two-factor settings, the password
and email pages (after confirming it is them), and, signed out, the password reset
page. Each speaks the bank's sentence case and fits a phone without scrolling
sideways. And the refusal: a wrong current password changes nothing.
The bare /favicon.ico answers too."""

import re

import pytest
from playwright.sync_api import expect

from banking.payments.tests.factories import make_bank
from banking.testing import PASSWORD

from .helpers import VIEWPORTS, named, screenshot, sign_in, sign_out

pytestmark = pytest.mark.e2e


def fits(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("width", [1280, 390])
def test_customer_security_pages_read_in_the_banks_voice(page, transactional_db, width):
    bank = make_bank()
    customer = named(bank.customer_login(bank.account(first_name="Meera", last_name="Iyer")), "Meera", "Iyer")
    page.set_viewport_size(VIEWPORTS[width])

    icon = page.request.get("/favicon.ico")
    assert icon.ok and icon.headers["content-type"].startswith("image/")

    sign_in(page, customer)
    page.goto("/accounts/2fa/")
    expect(page.get_by_role("heading", name="Two-factor authentication", exact=True)).to_be_visible()
    expect(page.get_by_text("You sign in with a code from your authenticator app.")).to_be_visible()
    assert fits(page)
    screenshot(page, f"security-mfa-{width}")

    # Signed in just now, so no second confirmation; a wrong current password changes nothing.
    page.goto("/accounts/password/change/")
    expect(page.get_by_role("heading", name="Change your password", exact=True)).to_be_visible()
    page.get_by_label("Current password").fill("not-my-password-at-all")
    page.get_by_label(re.compile(r"^\s*New password\W*$")).fill("monsoon-ledger-harbour-27")
    page.get_by_label("New password again").fill("monsoon-ledger-harbour-27")
    page.get_by_role("button", name="Change your password").click()
    expect(page.get_by_text("Please type your current password.")).to_be_visible()
    customer.refresh_from_db()
    assert customer.check_password(PASSWORD)
    assert fits(page)
    screenshot(page, f"security-password-{width}")

    page.goto("/accounts/email/")
    expect(page.get_by_role("heading", name="Your email address", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Change my email address")).to_be_visible()
    assert fits(page)
    screenshot(page, f"security-email-{width}")

    page.goto("/banking/")
    sign_out(page, customer)
    page.goto("/accounts/password/reset/")
    expect(page.get_by_role("heading", name="Reset your password", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Email me a reset link")).to_be_visible()
    assert fits(page)
    screenshot(page, f"security-reset-{width}")
