"""Playwright journeys: Debian's Chromium against pytest-django's live server.

Every journey runs on a transactional database that is flushed after the test, so
each one seeds the people it needs with `make_user` / `make_branch`. Every page
the browser opens is watched for Content Security Policy violations and static
files that fail to load; a journey that meets one fails.

Run them with `make test-e2e` (or `pytest e2e`); screenshots land in e2e/artifacts/.

The live server's log (every logger, at INFO as in production) goes to
e2e/artifacts/server-<worker>.log. When the journeys end, that file is read for
passwords, authenticator secrets and unmasked PAN and Aadhaar numbers; one found
fails the run, naming the file, the line and the kind of secret.
"""

import logging
import os
import threading

import pytest
from allauth.mfa.totp.internal import auth as totp_auth
from django.db import connection

from banking import testing
from banking.core import jobs
from banking.core.secrets_scan import scan_log_file
from banking.demo.data import DEMO_PASSWORD

from .helpers import ARTIFACTS

# Playwright's sync API runs an event loop in this thread; Django's ORM, called
# from fixtures and assertions, would otherwise refuse with SynchronousOnlyOperation.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
# The server's own log: the journeys check it holds no secret (see the end of this file).
SERVER_LOG = ARTIFACTS / f"server-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}.log"
SERVER_LOG_KEY = pytest.StashKey[dict]()
WORKER_LEAKS_KEY = pytest.StashKey[list]()


@pytest.fixture(scope="session", autouse=True)
def server_log(request):
    """Writes every log line of this process (the live server runs in a thread of it)
    to SERVER_LOG, and notes every authenticator secret made meanwhile, whether by
    `make_user` or by the set-up page a journey fills in, for the check at the end."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(SERVER_LOG, mode="w", encoding="utf-8")
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    # django.server keeps its lines to itself (propagate=False in Django's defaults).
    loggers = [logging.getLogger(), logging.getLogger("django.server")]
    for logger in loggers:
        logger.addHandler(handler)

    secrets = set()
    generate = totp_auth.generate_totp_secret

    def generate_and_note(*args, **kwargs):
        secret = generate(*args, **kwargs)
        secrets.add(secret)
        return secret

    totp_auth.generate_totp_secret = generate_and_note
    request.config.stash[SERVER_LOG_KEY] = {"path": SERVER_LOG, "totp_secrets": secrets}
    yield
    totp_auth.generate_totp_secret = generate
    for logger in loggers:
        logger.removeHandler(handler)
    handler.close()


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


def pytest_sessionfinish(session):
    """Reads this process's server log for secrets; under xdist each worker hands its
    findings to the controller (`workeroutput`), which fails the run."""
    config = session.config
    log = config.stash.get(SERVER_LOG_KEY, None)
    findings = []
    if log is not None and log["path"].exists():
        passwords = [testing.PASSWORD, DEMO_PASSWORD]
        findings = [str(f) for f in scan_log_file(log["path"], passwords=passwords, totp_secrets=log["totp_secrets"])]
    if hasattr(config, "workeroutput"):
        config.workeroutput["log_leaks"] = findings
        return
    findings += config.stash.get(WORKER_LEAKS_KEY, [])
    if findings:
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        title = "secrets in the server's log: mask them (mask_pan, mask_aadhaar) or leave them out"
        reporter.write_sep("=", title, red=True)
        for finding in findings:
            reporter.write_line(finding)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """xdist's controller collects each worker's findings as the worker finishes."""
    leaks = getattr(node, "workeroutput", {}).get("log_leaks", [])
    node.config.stash.setdefault(WORKER_LEAKS_KEY, []).extend(leaks)
