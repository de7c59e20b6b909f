"""Journey: a member of staff without an authenticator app signs in, is sent to set
one up (confirming the password first), enrols it with the code from the secret on
the page, and from then on signs in with a code."""

import re

import pytest
from allauth.mfa.models import Authenticator
from playwright.sync_api import expect

from banking.testing import PASSWORD, make_branch, make_user

from .helpers import VIEWPORTS, fresh_totp, named, screenshot, sign_in, sign_out, wrong_code

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("width", [1280, 390])
def test_staff_member_enrols_totp_and_signs_in_with_it(page, width):
    teller = named(make_user("teller", branch=make_branch(), mfa=False), "Ravi", "Menon")
    page.set_viewport_size(VIEWPORTS[width])

    sign_in(page, teller)

    # Staff cannot reach the counter before setting up two-factor authentication,
    # and changing it asks for the password again first.
    expect(page.get_by_text("Set up two-factor authentication before you use the bank's systems.")).to_be_visible()
    expect(page.get_by_role("heading", name="Confirm it's you", exact=True)).to_be_visible()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()

    expect(page.get_by_role("heading", name="Set up your authenticator app", exact=True)).to_be_visible()
    screenshot(page, f"totp-activate-{width}")
    secret_box = page.get_by_label("Authenticator secret")
    secret = secret_box.input_value()
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret), secret
    # The whole secret shows at either width: its box wraps rather than cutting it off.
    assert secret_box.evaluate("box => box.scrollWidth <= box.clientWidth && box.scrollHeight <= box.clientHeight")
    teller.totp_secret = secret

    # A wrong code activates nothing.
    page.get_by_label("Authenticator code").fill(wrong_code(secret))
    page.get_by_role("button", name="Activate").click()
    expect(page.get_by_text("Incorrect code.")).to_be_visible()
    assert not Authenticator.objects.filter(user=teller).exists()

    page.get_by_label("Authenticator code").fill(fresh_totp(teller))
    page.get_by_role("button", name="Activate").click()

    # allauth hands out recovery codes with the first authenticator; that page ends
    # the set-up with "you're ready" and one way on.
    expect(page.get_by_role("heading", name="You're ready", exact=True)).to_be_visible()
    expect(page.get_by_label("Unused codes")).to_be_visible()
    screenshot(page, f"totp-ready-{width}")
    assert Authenticator.objects.filter(user=teller, type=Authenticator.Type.TOTP).exists()
    page.get_by_role("link", name="Go to my home page").click()
    expect(page).to_have_url(re.compile(r"/teller/$"))

    sign_out(page, teller)
    sign_in(page, teller)

    expect(page).to_have_url(re.compile(r"/teller/$"))
    expect(page.get_by_role("main")).to_contain_text("Ravi Menon")
