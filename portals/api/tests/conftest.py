"""A small bank for the API tests: a customer with an internet-banking login, an
authenticator and a funded savings account, and a client that speaks JSON."""

import json
import time

import pytest

from banking.payments.tests.factories import make_bank
from banking.testing import PASSWORD, totp_code


class Api:
    """The Django test client, sending JSON with a bearer token."""

    def __init__(self, client, token=None):
        self.client, self.token = client, token

    def _headers(self, headers):
        out = dict(headers or {})
        if self.token:
            out.setdefault("Authorization", f"Bearer {self.token}")
        return out

    def get(self, url, headers=None, **params):
        return self.client.get(url, params, headers=self._headers(headers))

    def post(self, url, body=None, headers=None, raw=None, content_type="application/json"):
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        return self.client.post(url, data, content_type=content_type, headers=self._headers(headers))

    def delete(self, url, headers=None):
        return self.client.delete(url, headers=self._headers(headers))


def sign_in(client, user, otp=None):
    """A token pair for `user`. It signs in with the previous window's code (still
    accepted), so the current one stays fresh for the test's own steps. Within 3 s of
    the next window it waits for that window first: a slow request could otherwise
    reach the server two windows after the code's."""
    if otp is None and time.time() % 30 > 27:
        time.sleep(30 - time.time() % 30 + 0.05)
    response = client.post("/api/v1/auth/token/", json.dumps(
        {"username": user.username, "password": PASSWORD,
         "otp": otp or totp_code(user.totp_secret, at=time.time() - 30)}),
        content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def bank(db):
    return make_bank()


@pytest.fixture
def account(bank):
    return bank.account(balance=10_00_000_00)


@pytest.fixture
def user(bank, account):
    return bank.customer_login(account)


@pytest.fixture
def tokens(client, user):
    return sign_in(client, user)


@pytest.fixture
def api(client, tokens):
    return Api(client, tokens["access"])


@pytest.fixture
def anonymous(client):
    return Api(client)
