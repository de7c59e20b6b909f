"""Playwright journeys: Debian's Chromium against pytest-django's live server.

Every journey runs on a transactional database that is flushed after the test, so
each one seeds the people it needs with `make_user` / `make_branch`. Every page
the browser opens is watched for Content Security Policy violations and static
files that fail to load; a journey that meets one fails.

Run them with `make test-e2e` (or `pytest e2e`); screenshots land in e2e/artifacts/.
"""

import os
import threading

import pytest
from django.db import connection

from banking.core import jobs

# Playwright's sync API runs an event loop in this thread; Django's ORM, called
# from fixtures and assertions, would otherwise refuse with SynchronousOnlyOperation.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Playwright cannot download its own browser here: drive Debian's Chromium."""
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args, live_server):
    """Relative URLs in page.goto() go to the live server. Reduced motion turns off
    Bootstrap's transitions (menus, toasts), so journeys need not wait them out."""
    return {
        **browser_context_args,
        "base_url": live_server.url,
        "locale": "en-IN",
        "timezone_id": "Asia/Kolkata",
        "reduced_motion": "reduce",
    }


@pytest.fixture(autouse=True)
def browser_problems(page):
    """Fails the journey if the browser reported a Content Security Policy
    violation (the DOM event or Chromium's console report) or a static file
    (stylesheet, script, font) failed to load, which would leave pages unstyled.

    pytest-django's live server serves /static/ through staticfiles' finders, so
    the suite needs no collectstatic.
    """
    found = []
    page.expose_function("__cbsCspViolation", lambda text: found.append(f"CSP: {text}"))
    page.add_init_script(
        """document.addEventListener("securitypolicyviolation", function (e) {
             window.__cbsCspViolation(e.violatedDirective + " blocked " + (e.blockedURI || "inline") +
                                      " on " + document.location.pathname);
           });"""
    )

    def on_console(message):
        if message.type == "error" and "Content Security Policy" in message.text:
            found.append(f"console: {message.text}")

    def on_response(response):
        if "/static/" in response.url and response.status >= 400:
            found.append(f"static file {response.url} answered {response.status}")

    page.on("console", on_console)
    page.on("response", on_response)
    yield found
    assert not found, "The browser reported problems:\n" + "\n".join(found)


@pytest.fixture
def worker(transactional_db):
    """A background worker beside the live server: every half second it runs the jobs
    that are due (the jobs its jobs defer included), until the journey ends."""
    stop = threading.Event()

    def work():
        try:
            while not stop.is_set():
                jobs.run_waiting()
                stop.wait(0.5)
        finally:
            connection.close()

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(timeout=60)
    assert not thread.is_alive()
