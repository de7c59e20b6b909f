"""Every screen of every portal, opened in Chromium at a desktop's and a phone's width.

The screens are the permission matrix's (portals/tests/test_permission_matrix.py):
each URL that answers a GET with a page is opened as a person the matrix lets in,
with the matrix's objects behind it (an account, a deposit at the counter, a settled
NEFT cycle ...). So a new screen is toured the day it enters the matrix, which a
new view must. Each screen must:

- answer 200 with a page that has a top-level heading the reader can see;
- give each id to one element only, so every label names its own field;
- fit the width: nothing pushes the page sideways (wide tables scroll inside their
  own box, not the page);
- raise no script error, break no Content Security Policy rule and load every
  static file (the suite's `browser_problems` fixture).

A screenshot of each lands in e2e/artifacts/screens/ for people to look over.
"""

from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from portals.tests.test_permission_matrix import ACCOUNT, EXPECTED, objects, people  # noqa: F401 - fixtures

from .helpers import VIEWPORTS, screenshot

# Answers that are not a page of their own: HTMX fragments drawn into a page (their
# page is toured), file downloads, the load balancer's health checks and the metrics.
NOT_A_SCREEN = {
    "portals:healthz",
    "portals:readyz",
    "portals:metrics",
    "supervisor:queue-count",
    "customer:collect-count",
    "customer:ifsc-lookup",
    "teller:account-lookup",
    "teller:remittance-ifsc",
    "teller:customer-document",
    "teller:statement-csv",
    "teller:statement-pdf",
    "customer:statement-csv",
    "customer:statement-pdf",
    "ops:settlement-file",
    "teller:loan-kfs-pdf",
    "customer:loan-kfs-pdf",
    "customer:loan-schedule-csv",
    "customer:loan-schedule-pdf",
    "customer:loan-statement-csv",
    "customer:loan-statement-pdf",
}


# A label's `for`, aria-labelledby and a link to #id find only the first of two
# elements sharing an id: a second form drawn with the same field names needs its own.
DUPLICATE_IDS = """() => {
  const seen = new Map();
  for (const element of document.querySelectorAll("[id]")) seen.set(element.id, (seen.get(element.id) || 0) + 1);
  return [...seen].filter(([, count]) => count > 1).map(([id]) => id);
}"""

# Screens that draw their work only once something is chosen: the query that chooses it.
QUERIES = {"teller:cheques": {"account": ACCOUNT}}


def screens():
    """(url name, kwargs, the role that opens it) for every screen, grouped by role."""
    found = []
    for name, (kwargs, allowed, _others, anonymous) in EXPECTED.items():
        if name in NOT_A_SCREEN or not allowed:
            continue
        role = None if anonymous == 200 else sorted(allowed)[0]
        found.append((name, kwargs, role))
    return sorted(found, key=lambda screen: (str(screen[2]), screen[0]))


def session_cookie(live_server, user):
    """The cookie of a signed-in session (two factors passed) for `user`."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies["sessionid"]
    return {"name": "sessionid", "value": cookie.value, "url": live_server.url}


def test_every_screen_is_in_the_tour_or_named_as_not_a_screen():
    toured = {name for name, _kwargs, _role in screens()}
    readable = {name for name, (_kwargs, allowed, _o, _a) in EXPECTED.items() if allowed}
    assert readable - toured == NOT_A_SCREEN & readable


@pytest.mark.parametrize("width", [1280, 390])
def test_every_screen_opens_and_fits(page, live_server, people, objects, width):  # noqa: F811 - fixtures
    errors = []
    page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
    page.set_viewport_size(VIEWPORTS[width])
    signed_in_as = "nobody"
    problems = []
    for name, kwargs, role in screens():
        if role != signed_in_as:
            page.context.clear_cookies()
            if role is not None:
                page.context.add_cookies([session_cookie(live_server, people[role])])
            signed_in_as = role
        url = reverse(name, kwargs={key: objects.get(value, value) for key, value in kwargs.items()})
        if name in QUERIES:
            url += "?" + urlencode({key: objects.get(value, value) for key, value in QUERIES[name].items()})
        response = page.goto(url)
        if response.status != 200:
            problems.append(f"{name} ({url}) as {role}: {response.status}")
            continue
        expect(page.locator("h1").first, f"{name} has a visible heading").to_be_visible()
        duplicates = page.evaluate(DUPLICATE_IDS)
        if duplicates:
            problems.append(f"{name} ({url}) as {role}: more than one element with the id {', '.join(duplicates)}")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 0:
            problems.append(f"{name} ({url}) as {role}: {overflow}px wider than the {width}px screen")
        screenshot(page, f"screens/{name.replace(':', '-')}-{width}")
    assert not problems, "\n".join(problems)
    assert not errors, "\n".join(errors)
