"""Internet banking activation, end to end on the server: the password chosen through
the link counts as a fresh sign-in (no second password prompt before the
authenticator), the authenticator pages speak the bank's voice, and activation ends
on a "you're ready" step with one clear way on."""

import re

import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse

from banking.deposits import internet_banking as ib
from banking.deposits.tests.factories import Bank
from banking.testing import PASSWORD, totp_code

NEW_PASSWORD = "a-long-river-crossing-42"
TITLE_CASE = ("Activate Authenticator App", "Recovery Codes", "Confirm Access", "Two-Factor Authentication",
              "Authenticator App")


@pytest.fixture
def bank(db):
    return Bank()


def _activate(client, bank):
    user = ib.enable_internet_banking(actor=bank.teller, customer=bank.customer, link_for=str)
    path = reverse("customer:activate", kwargs={"token": ib.make_activation_token(user)})
    response = client.post(path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("mfa_activate_totp")
    return user


def _headings(html):
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", h)).strip()
            for h in re.findall(r"<h1[^>]*>(.*?)</h1>", html, re.S)]


def _enrol(client):
    """allauth announces the new authenticator once its transaction commits, so the
    tests that enrol run on a transactional database, as a live request would."""
    page = client.get(reverse("mfa_activate_totp"))
    secret = page.context["form"].secret
    return client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})


def test_the_new_password_is_not_asked_for_again_before_the_authenticator(client, bank):
    _activate(client, bank)
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200, page.get("Location")
    assert _headings(page.text) == ["Set up your authenticator app"]
    assert "Confirm it's you" not in page.text and "reauthenticate" not in page.text.lower()


def test_the_secret_wraps_and_can_be_copied(client, bank):
    _activate(client, bank)
    html = client.get(reverse("mfa_activate_totp")).text
    field = re.search(r"<textarea[^>]*id=\"authenticator_secret\"[^>]*>", html)
    assert field, "the secret is shown in a box that wraps"
    assert "readonly" in field.group(0) and "disabled" not in field.group(0)


def test_activation_ends_with_you_are_ready_and_a_way_on(client, transactional_db, bank):
    user = _activate(client, bank)
    enrolled = _enrol(client)
    assert enrolled.status_code == 302 and enrolled["Location"] == reverse("mfa_view_recovery_codes")
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()

    page = client.get(reverse("mfa_view_recovery_codes")).text
    assert _headings(page) == ["You're ready"]
    home = reverse("customer:home")
    primary = re.findall(r'<a[^>]*class="btn btn-primary[^"]*"[^>]*href="([^"]+)"|'
                         r'<a[^>]*href="([^"]+)"[^>]*class="btn btn-primary[^"]*"', page)
    assert [a or b for a, b in primary] == [home]
    generate = re.escape(reverse("mfa_generate_recovery_codes"))
    regenerate = re.search(rf'<a[^>]*href="{generate}"[^>]*>', page)
    assert regenerate and "btn-primary" not in regenerate.group(0)

    # The ready step is the end of activation only: seen again later, it is the codes page.
    again = client.get(reverse("mfa_view_recovery_codes")).text
    assert _headings(again) == ["Your recovery codes"]


def test_the_authenticator_pages_use_sentence_case(client, transactional_db, bank):
    _activate(client, bank)
    pages = [client.get(reverse("mfa_activate_totp")).text]
    _enrol(client)
    pages += [client.get(reverse(name)).text
              for name in ("mfa_view_recovery_codes", "mfa_generate_recovery_codes", "mfa_index")]
    for html in pages:
        for phrase in TITLE_CASE:
            assert phrase not in html, phrase


def test_staff_confirm_access_page_speaks_the_banks_voice(client, bank):
    # A staff member who signed in just now still confirms before changing their authenticator.
    client.force_login(bank.teller)
    page = client.get(reverse("account_reauthenticate"))
    assert page.status_code == 200
    assert _headings(page.text) == ["Confirm it's you"]
    assert "Confirm Access" not in page.text and "Please reauthenticate" not in page.text


def test_favicon_answers(client, db):
    response = client.get("/favicon.ico")
    assert response.status_code in (200, 301)
    if response.status_code == 301:
        from django.contrib.staticfiles import finders

        assert response["Location"].endswith(".ico") and finders.find(response["Location"].rsplit("/static/", 1)[1])
    home = client.get(reverse("account_login")).text
    assert re.search(r'<link[^>]*rel="icon"', home)


# Headings, buttons, labels and placeholders alike.
ACCOUNT_TITLE_CASE = ("Change Password", "Password Reset", "Reset My Password", "Sign Out", "Email Addresses",
                      "Make Primary", "Add Email", "Re-send Verification", "Email Address", "Change Email",
                      "Current Password", "New Password")


def test_the_password_email_and_sign_out_pages_use_sentence_case(client, bank):
    client.force_login(bank.teller)
    confirmed = client.post(reverse("portals:confirm-identity"), {
        "password": PASSWORD, "code": totp_code(bank.teller.totp_secret), "next": "/"})
    assert confirmed.status_code == 302, confirmed.text
    pages = {name: client.get(reverse(name)) for name in ("account_change_password", "account_email", "account_logout")}
    client.logout()
    pages["account_reset_password"] = client.get(reverse("account_reset_password"))
    for name, response in pages.items():
        assert response.status_code == 200, (name, response.get("Location"))
        for phrase in ACCOUNT_TITLE_CASE:
            assert phrase not in response.text, (name, phrase)
