"""The client's address comes from one place (banking.audit.middleware.client_ip),
for the sign-in rate limits and the audit trail alike: behind the bank's trusted
proxy it is the address the proxy saw, never what the client wrote itself."""

import pytest
from django.test import RequestFactory, override_settings
from django.urls import reverse

from banking.audit.middleware import client_ip
from banking.audit.models import AuditEvent
from banking.testing import PASSWORD, make_user
from banking.users.roles import Role

LIMITS = {"login_failed": "20/m/ip,5/5m/key", "login": "30/m/ip"}
PROXY = "10.0.0.5"


@pytest.fixture
def customer(db):
    return make_user(Role.CUSTOMER, username="priya.test")


def _login(client, login, password, forwarded=None):
    headers = {"REMOTE_ADDR": PROXY}
    if forwarded:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return client.post(reverse("account_login"), {"login": login, "password": password}, **headers)


@pytest.mark.parametrize(
    ("trusted", "forwarded", "expected"),
    [
        (True, "198.51.100.7", "198.51.100.7"),
        # The client wrote the first entry; the proxy appended the second.
        (True, "1.2.3.4, 198.51.100.7", "198.51.100.7"),
        (True, "not-an-address", PROXY),
        (True, None, PROXY),
        (False, "198.51.100.7", PROXY),
    ],
)
def test_client_ip_trusts_only_the_proxys_own_entry(settings, trusted, forwarded, expected):
    settings.TRUSTED_PROXY = trusted
    meta = {"REMOTE_ADDR": PROXY} | ({"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {})
    assert client_ip(RequestFactory().get("/", **meta)) == expected


@override_settings(TRUSTED_PROXY=True, ACCOUNT_RATE_LIMITS=LIMITS)
def test_a_script_behind_the_proxy_does_not_lock_out_everyone_else(client, customer):
    for n in range(21):
        _login(client, f"nobody-{n}", "wrong-password-123", forwarded="203.0.113.9")
    assert "Too many failed login attempts" in _login(client, "nobody-x", "wrong", forwarded="203.0.113.9").text

    response = _login(client, customer.username, PASSWORD, forwarded="198.51.100.7")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(customer.pk)
    login = AuditEvent.objects.filter(action="auth.login").latest("id")
    assert login.ip == "198.51.100.7"


@override_settings(TRUSTED_PROXY=False, ACCOUNT_RATE_LIMITS=LIMITS)
def test_without_a_trusted_proxy_a_forged_header_does_not_escape_the_limit(client, customer):
    for n in range(21):
        _login(client, f"nobody-{n}", "wrong-password-123", forwarded=f"203.0.113.{n}")
    response = _login(client, customer.username, PASSWORD, forwarded="198.51.100.7")
    assert "Too many failed login attempts" in response.text
    assert "_auth_user_id" not in client.session
