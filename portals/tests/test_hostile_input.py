"""No input produces a server error: every portal URL of the permission matrix, as a
person allowed to use it, given hostile values in every field its form draws and in
its query string.

The fields come from the page itself (every input, select and textarea it draws), so
a new field is covered the day it is added. Views that only take POST get the
fields the bank's forms commonly use. Each answer must be below 500; an exception
raised in a view fails the test with the URL, the value and the traceback's last
line.
"""

import re
import traceback

from django.urls import reverse

from banking.users.roles import Role

from .test_permission_matrix import EXPECTED, objects, people  # noqa: F401 - fixtures used by name

HOSTILE = [
    "",
    "-1",
    "0",
    "1e309",
    "NaN",
    "9" * 40,
    "12,34,56,78,90,12,345.678",
    "१२३४",  # Devanagari digits
    "１２３",  # full-width digits
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "\x00",
    "a\u202eb",
    "𝟘" * 3,
    "x" * 5000,
    "2026-02-30",
    "../../etc/passwd",
]
# What POST-only views (approve, reject, run, reverse, stop ...) are given.
COMMON_FIELDS = ["reason", "amount", "account", "note", "code", "resolution", "number", "first", "last",
                 "idempotency_key", "password", "otp", "counts", "n500", "date", "status"]
FIELD = re.compile(r'<(?:input|select|textarea)\b[^>]*\bname="([^"]+)"', re.IGNORECASE)
SKIP_FIELDS = {"csrfmiddlewaretoken"}


def answer(client, method, url, data):
    """The status of one request, or the exception a view raised, as text."""
    try:
        return getattr(client, method)(url, data).status_code
    except Exception as error:  # noqa: BLE001 - every failure is reported at the end
        return traceback.format_exception(error)[-1].strip()


def role_for(client, staff, url_name, url):
    """Someone the view serves: the first role the matrix lets read it, or, for a
    view that only takes POST, the first role whose (empty) POST is not refused."""
    _kwargs, allowed, others, _anonymous = EXPECTED[url_name]
    if allowed:
        return sorted(allowed)[0]
    if others == 405:
        for role in sorted(Role):
            client.force_login(staff[role])
            if answer(client, "post", url, {}) != 403:
                return role
    return None


def field_names(html):
    return sorted(set(FIELD.findall(html)) - SKIP_FIELDS)


def test_no_input_gives_a_server_error(client, people, objects):  # noqa: F811 - the fixtures
    failures = []
    for url_name in sorted(EXPECTED):
        kwargs = EXPECTED[url_name][0]
        url = reverse(url_name, kwargs={key: objects.get(value, value) for key, value in kwargs.items()})
        role = role_for(client, people, url_name, url)
        if role is None:
            continue
        client.force_login(people[role])
        page = client.get(url)
        drawn = page.status_code == 200 and not page.streaming
        names = (field_names(page.content.decode(errors="replace")) if drawn else []) or COMMON_FIELDS
        for value in HOSTILE:
            for method in ("get", "post"):
                client.force_login(people[role])
                status = answer(client, method, url, dict.fromkeys(names, value))
                if not isinstance(status, int) or status >= 500:
                    failures.append(f"{method.upper()} {url_name} as {role} with {value[:20]!r}: {status}")
    assert not failures, f"{len(failures)} server errors:\n" + "\n".join(failures[:60])
