"""What every answer to a signed-in person carries, and how a refusal inside an
HTMX request is recorded."""

import logging

import pytest
from django.test import Client
from django.urls import reverse

from banking.testing import make_branch, make_user
from banking.users.roles import Role
from portals.middleware import MFA_OK_KEY


@pytest.fixture
def teller(db):
    return make_user(Role.TELLER, branch=make_branch())


@pytest.fixture
def customer(db):
    return make_user(Role.CUSTOMER)


def _signed_in(client, user):
    client.force_login(user)
    session = client.session
    session[MFA_OK_KEY] = True
    session.save()
    return client


@pytest.mark.parametrize("path", ["/banking/", "/banking/payments/", "/", "/accounts/password/change/"])
def test_every_signed_in_page_is_not_stored(client, customer, path):
    response = _signed_in(client, customer).get(path)
    assert response.status_code < 500
    assert "no-store" in response["Cache-Control"]


def test_htmx_fragments_and_refusals_to_staff_are_not_stored(client, teller):
    _signed_in(client, teller)
    assert "no-store" in client.get("/teller/", headers={"HX-Request": "true"})["Cache-Control"]
    assert "no-store" in client.get("/ops/")["Cache-Control"]  # the 403 page


def test_the_answer_to_signing_out_is_not_stored(client, customer):
    _signed_in(client, customer)
    response = client.post(reverse("account_logout"))
    assert "no-store" in response["Cache-Control"]


def test_an_htmx_csrf_refusal_redirects_the_browser_but_is_a_403(db, teller, caplog):
    client = _signed_in(Client(enforce_csrf_checks=True), teller)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.post(reverse("account_logout"), {"csrfmiddlewaretoken": "tampered"},
                               headers={"HX-Request": "true"})
    assert response.status_code == 403
    assert response["HX-Redirect"].startswith(reverse("account_login"))
    assert any(record.status_code == 403 for record in caplog.records if hasattr(record, "status_code"))
    assert "_auth_user_id" in client.session


def test_an_htmx_permission_refusal_is_a_403_with_the_redirect(client, customer):
    _signed_in(client, customer)
    response = client.get("/teller/", headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/banking/"})
    assert response.status_code == 403
    assert response["HX-Redirect"].startswith(reverse("account_login"))
