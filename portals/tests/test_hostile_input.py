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
import time
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
    "abc\x00def",
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


# A path parameter replaced, as typed into the address bar: a NUL, invalid UTF-8, too
# many digits, a sign.
HOSTILE_IN_PATH = ["abc%00def", "abc%FFdef", "%FF%FE", "9" * 40, "-1"]
# A formset's management form, which a browser sends back untouched.
MANAGEMENT_FIELDS = ["TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS"]
ACTION = re.compile(r'name="action"[^>]*\bvalue="([^"]+)"')


def answer_raw(client, method, url, body):
    """The status of one request whose body is raw bytes (not valid UTF-8), or the exception."""
    try:
        return client.generic(method.upper(), url, body, content_type="application/x-www-form-urlencoded").status_code
    except Exception as error:  # noqa: BLE001 - every failure is reported at the end
        return traceback.format_exception(error)[-1].strip()


def with_path_value(url, value, hostile):
    """`url` with the path segment `value` replaced by `hostile`."""
    return url.replace(f"/{value}/", f"/{hostile}/", 1)


def test_no_path_encoding_or_formset_count_gives_a_server_error(client, people, objects):  # noqa: F811 - the fixtures
    """Every URL with its path parameters replaced by hostile values (a NUL is a 400
    before any view runs), invalid UTF-8 in the query string and the body, and every
    formset's management fields given a count no person sends, answered quickly."""
    failures = []
    for url_name in sorted(EXPECTED):
        kwargs = {key: objects.get(value, value) for key, value in EXPECTED[url_name][0].items()}
        url = reverse(url_name, kwargs=kwargs)
        role = role_for(client, people, url_name, url)
        if role is None:
            continue
        client.force_login(people[role])
        for value in kwargs.values():
            for hostile in HOSTILE_IN_PATH:
                for method in ("get", "post"):
                    status = answer(client, method, with_path_value(url, value, hostile), {})
                    if not isinstance(status, int) or status >= 500 or ("%00" in hostile and status != 400):
                        failures.append(f"{method.upper()} {url_name} as {role} with {hostile!r} in the path: {status}")
        page = client.get(url)
        drawn = page.status_code == 200 and not page.streaming
        html = page.content.decode(errors="replace") if drawn else ""
        names = field_names(html) or COMMON_FIELDS
        garbled = b"&".join(name.encode() + b"=\xff\xfe%FF" for name in names)
        for method, status in [("get", answer(client, "get", url + "?" + "&".join(f"{n}=%FF%FE" for n in names), {})),
                               ("post", answer_raw(client, "post", url, garbled))]:
            if not isinstance(status, int) or status >= 500:
                failures.append(f"{method.upper()} {url_name} as {role} with invalid UTF-8: {status}")
        prefixes = [name.removesuffix("-TOTAL_FORMS") for name in names if name.endswith("-TOTAL_FORMS")]
        actions = set(ACTION.findall(html)) | {"add", "remove-2", "recalc", "submit"} if prefixes else set()
        for prefix in prefixes:
            for field in MANAGEMENT_FIELDS:
                for count in (str(10**20), "x"):
                    for action in sorted(actions):
                        data = {**dict.fromkeys(names, ""), f"{prefix}-{field}": count, "action": action}
                        started = time.monotonic()
                        status = answer(client, "post", url, data)
                        took = time.monotonic() - started
                        if not isinstance(status, int) or status >= 500 or took > 10:
                            failures.append(f"POST {url_name} {action} with {prefix}-{field}={count[:20]}: "
                                            f"{status} in {took:.1f} s")
    assert not failures, f"{len(failures)} server errors:\n" + "\n".join(failures[:60])


def test_a_nul_anywhere_is_a_bad_request_before_any_view(client, people):  # noqa: F811 - the fixture
    client.force_login(people[Role.OPERATIONS])
    url = reverse("ops:trial-balance")
    for response in [
        client.get("/ops/gl/abc%00def/"),
        client.get("/banking/accounts/abc%00def/"),
        client.get("/banking/payments/abc%00def/"),
        client.get(url, {"as_of": "2026\x00-01-01"}),
        client.get(url, {"as\x00of": "1"}),
        client.post(reverse("ops:journal-new"), {"narration": "abc\x00def", "action": "add"}),
        client.get(url, headers={"X-Anything": "abc\x00def"}),
    ]:
        assert response.status_code == 400
        assert "could not be read" in response.content.decode()
    assert client.get(url).status_code == 200
