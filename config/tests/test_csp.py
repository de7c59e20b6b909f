import re

import pytest

from banking.testing import make_user
from banking.users.roles import Role


@pytest.mark.django_db
def test_every_script_on_a_page_is_allowed_by_the_enforced_policy(client):
    client.force_login(make_user(Role.AUDITOR))
    response = client.get("/ops/audit/")
    policy = response["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    assert "script-src 'self' 'nonce-" in policy
    assert "'unsafe-inline'" not in policy
    for tag in re.findall(r"<script[^>]*>", response.text):
        assert 'src="/static/' in tag or f'nonce="{nonce}"' in tag, tag
    assert "style=" not in response.text


@pytest.mark.django_db
def test_every_answer_carries_the_browser_policies(client):
    """portals.middleware.BrowserPolicyMiddleware: the two Django does not send."""
    for response in (client.get("/accounts/login/"), client.get("/healthz"), client.get("/no-such-page/")):
        assert response["Cross-Origin-Resource-Policy"] == "same-origin"
        policy = response["Permissions-Policy"]
        assert {"camera=()", "microphone=()", "geolocation=()", "payment=()"} <= {
            part.strip() for part in policy.split(",")}
