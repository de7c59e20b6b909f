"""What the journeys do again and again: sign in, take a screenshot."""

import threading
import time
from pathlib import Path

from django.db import connection

from banking.core import jobs
from banking.testing import PASSWORD, totp_code

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
# A desktop at the counter and a phone in the customer's hand.
VIEWPORTS = {1280: {"width": 1280, "height": 900}, 390: {"width": 390, "height": 844}}


def fresh_totp(user):
    """A code allauth accepts now and has not seen from this user.

    allauth refuses a code used before within its window (keyed by user and code).
    With MFA_TOTP_TOLERANCE = 1 the next 30-second window's code is accepted too,
    so that one is tried before waiting; only if both were used does this poll the
    clock until a new window opens (never a fixed sleep).
    """
    used = user.__dict__.setdefault("used_codes", set())
    while True:
        now = time.time()
        for code in (totp_code(user.totp_secret, now), totp_code(user.totp_secret, now + 30)):
            if code not in used:
                used.add(code)
                return code
        time.sleep(0.2)


def wrong_code(secret):
    """Six digits that are not the code of any window allauth could accept now."""
    now = time.time()
    near = {totp_code(secret, now + offset) for offset in (-60, -30, 0, 30, 60)}
    return next(code for code in ("000000", "123456", "999999") if code not in near)


def named(user, first_name, last_name):
    """Gives a test user a person's name, as the bank's pages greet people by name."""
    user.first_name, user.last_name = first_name, last_name
    user.save(update_fields=["first_name", "last_name"])
    return user


def enter_password(page, login, password=PASSWORD, *, open_page=True):
    """Fills in the sign-in page and submits it. With open_page=False the browser
    is already on the sign-in page (with its ?next= address)."""
    if open_page:
        page.goto("/accounts/login/")
    page.get_by_label("Username or email").fill(login)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def enter_code(page, code):
    """Answers allauth's two-factor step with an authenticator code."""
    page.get_by_role("heading", name="Two-Factor Authentication").wait_for()
    page.get_by_label("Code").fill(code)
    page.get_by_role("button", name="Sign in").click()


def sign_in(page, user, *, code=True, open_page=True):
    """Signs `user` in with their password and, for staff with an authenticator, a fresh code."""
    enter_password(page, user.username, open_page=open_page)
    if code and getattr(user, "totp_secret", None):
        enter_code(page, fresh_totp(user))


def sign_out(page, user):
    """Signs out through the person's menu in the navigation bar (behind the menu button on a phone)."""
    menu = page.get_by_role("button", name="Menu")
    if menu.is_visible():
        menu.click()
    page.get_by_role("button", name=user.display_name).click()
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Sign in to CBS Bank").wait_for()


def screenshot(page, name, *, full_page=True):
    """Saves what the browser shows to e2e/artifacts/<name>.png (git-ignored) for people to look at."""
    path = ARTIFACTS / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=path, full_page=full_page)


def run_jobs_once():
    """What a worker does once, in a thread of its own beside the live server (the
    browser's event loop is on this one): run every job that is due, then stop."""
    def work():
        try:
            jobs.run_waiting()
        finally:
            connection.close()

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive()
