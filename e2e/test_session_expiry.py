"""Journey: a session left idle for longer than the limit ends, and when that
happens inside an HTMX request the whole browser goes to the sign-in page (no
login form swapped into a fragment); signing in again returns to the page."""

import re
import time

import pytest
from django.conf import settings
from django.contrib.sessions.backends.cached_db import SessionStore
from playwright.sync_api import expect

from banking.testing import make_user
from portals.middleware import SESSION_LAST_SEEN

from .helpers import VIEWPORTS, screenshot, sign_in

pytestmark = pytest.mark.e2e


def walk_away(page, seconds):
    """Makes the browser's session look idle for `seconds`, as if the person had left the desk."""
    key = next(c["value"] for c in page.context.cookies() if c["name"] == settings.SESSION_COOKIE_NAME)
    session = SessionStore(session_key=key)
    session[SESSION_LAST_SEEN] = int(time.time()) - seconds
    session.save()


@pytest.mark.parametrize("width", [1280, 390])
def test_idle_session_ends_inside_htmx_request(page, width):
    auditor = make_user("auditor")
    page.set_viewport_size(VIEWPORTS[width])
    sign_in(page, auditor)
    page.goto("/ops/audit/")
    results = page.locator("#audit-results")

    # While the session is live, the filter swaps only the results (HTMX).
    expect(results.get_by_role("cell", name="http.post", exact=True).first).to_be_visible()
    page.get_by_label("Action").fill("auth.login")
    expect(page).to_have_url(re.compile(r"/ops/audit/\?.*action=auth.login"))
    expect(results.get_by_role("cell", name="auth.login", exact=True)).to_have_count(1)
    expect(results.get_by_role("cell", name="http.post", exact=True)).to_have_count(0)

    walk_away(page, settings.SESSION_IDLE_SECONDS + 60)
    page.get_by_label("Who").fill(auditor.username)

    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/ops/audit/$"))
    expect(page.get_by_text("You were signed out after 15 minutes without activity.")).to_be_visible()
    expect(page.get_by_role("heading", name="Sign in to CBS Bank")).to_have_count(1)
    expect(page.get_by_role("heading", name="Audit trail")).to_have_count(0)
    screenshot(page, f"session-expired-{width}")

    sign_in(page, auditor, open_page=False)
    expect(page).to_have_url(re.compile(r"/ops/audit/$"))
    expect(page.get_by_role("heading", name="Audit trail")).to_be_visible()
