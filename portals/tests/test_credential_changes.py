"""A stolen session cannot keep the login: changing the email address or any
credential first asks for the password, plus the authenticator code where the
person has one; the old address is told; and a reset goes only to an address the
bank or the customer has verified."""

import time

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

from banking.testing import PASSWORD, give_totp, make_user, totp_code
from banking.users.roles import Role
from portals.middleware import MFA_OK_KEY

ATTACKER = "attacker@evil.example"


@pytest.fixture
def customer(db):
    return make_user(Role.CUSTOMER, username="priya.cred")


def _stolen_session(client, user, *, minutes_ago=30):
    """A session signed in long ago, as a thief would find it."""
    client.force_login(user)
    session = client.session
    session[MFA_OK_KEY] = True
    session["account_authentication_methods"] = [{"method": "password", "at": time.time() - minutes_ago * 60}]
    session.save()
    return client


def _confirm(client, password=PASSWORD, code=None, next_url="/accounts/email/"):
    data = {"password": password, "next": next_url}
    if code is not None:
        data["code"] = code
    return client.post(reverse("portals:confirm-identity"), data)


def test_a_stolen_session_cannot_add_an_email_without_the_password(client, customer):
    _stolen_session(client, customer)
    response = client.post("/accounts/email/", {"email": ATTACKER, "action_add": ""})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portals:confirm-identity"))
    assert not EmailAddress.objects.filter(email=ATTACKER).exists()
    assert client.get("/accounts/email/")["Location"].startswith(reverse("portals:confirm-identity"))


def test_a_wrong_password_confirms_nothing(client, customer):
    _stolen_session(client, customer)
    response = _confirm(client, password="not-the-password-1")
    assert response.status_code == 200
    assert "not correct" in response.text
    assert client.get("/accounts/email/").status_code == 302


def test_with_an_authenticator_the_code_is_needed_too(client, customer):
    secret = give_totp(customer)
    _stolen_session(client, customer)
    response = _confirm(client)  # password alone
    assert response.status_code == 200
    assert "code" in response.text.lower()
    assert client.get("/accounts/email/").status_code == 302
    response = _confirm(client, code=totp_code(secret))
    assert response.status_code == 302
    assert response["Location"] == "/accounts/email/"
    assert client.get("/accounts/email/").status_code == 200


def test_the_password_change_page_asks_too(client, customer):
    _stolen_session(client, customer)
    assert client.get(reverse("account_change_password"))["Location"].startswith(
        reverse("portals:confirm-identity"))


def test_after_confirming_the_old_address_is_told_and_the_new_one_gets_no_reset(client, customer):
    old = customer.email
    _stolen_session(client, customer)
    assert _confirm(client).status_code == 302
    mail.outbox.clear()
    response = client.post("/accounts/email/", {"email": ATTACKER, "action_add": ""})
    assert response.status_code == 302
    assert EmailAddress.objects.filter(email=ATTACKER, verified=False).exists()
    told = [m for m in mail.outbox if old in m.to]
    assert told and ATTACKER in told[0].body
    customer.refresh_from_db()
    assert customer.email == old

    mail.outbox.clear()
    client.logout()
    response = client.post(reverse("account_reset_password"), {"email": ATTACKER})
    assert response.status_code == 302
    assert not any("password" in m.subject.lower() and ATTACKER in m.to and "/accounts/password/reset/key/" in m.body
                   for m in mail.outbox)

    # The bank's own address still gets its reset.
    mail.outbox.clear()
    client.post(reverse("account_reset_password"), {"email": old})
    assert any(old in m.to and "/accounts/password/reset/key/" in m.body for m in mail.outbox)


def test_a_fresh_sign_in_counts_as_recent(client, customer):
    client.post(reverse("account_login"), {"login": customer.username, "password": PASSWORD})
    assert client.get("/accounts/email/").status_code == 200
