"""The production install, as a bank would run it: a virtual environment made from
requirements/production.txt alone, a fresh PostgreSQL database, `migrate` and
`collectstatic` under config.settings.production, and gunicorn started with
deploy/gunicorn.conf.py. A customer signs in over HTTP and sees internet banking.

`check --deploy` and /healthz both passed while every sign-in was a server error
(the shared cache's `redis` package was missing from production.txt): only a real
request through the production install catches that.

The environment is built once per content of base.txt and production.txt, under
var/test-venvs/ (CBS_TEST_VENV_DIR elsewhere); the first run downloads the packages
from PyPI.
"""

import base64
import contextlib
import fcntl
import hashlib
import html
import http.client
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]
USERNAME, PASSWORD = "asha.verma", "a-long-and-unguessable-9"
FULL_NAME = "Asha Verma"
EMAIL = "asha.verma@example.in"


def production_venv():
    """The interpreter of a virtual environment holding production.txt and nothing else."""
    digest = hashlib.sha256(sys.version.encode())
    for name in ("base.txt", "production.txt"):
        digest.update((ROOT / "requirements" / name).read_bytes())
    home = Path(os.environ.get("CBS_TEST_VENV_DIR", ROOT / "var" / "test-venvs"))
    target = home / f"production-{digest.hexdigest()[:16]}"
    python, done = target / "bin" / "python", target / ".installed"
    if done.exists():
        return python
    home.mkdir(parents=True, exist_ok=True)
    with open(home / ".lock", "w") as lock:
        deadline = time.monotonic() + 900
        while True:  # another run may be building the same environment
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    pytest.fail("Timed out waiting for another run to build the production environment.")
                time.sleep(1)
        if not done.exists():
            shutil.rmtree(target, ignore_errors=True)
            base_python = getattr(sys, "_base_executable", sys.executable)
            run([base_python, "-m", "venv", str(target)], timeout=180)
            run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                 "-r", str(ROOT / "requirements" / "production.txt")], timeout=900)
            done.touch()
    return python


def run(command, *, env=None, timeout=300):
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}"
    return result


@contextlib.contextmanager
def fresh_database():
    """A database of its own on DATABASE_URL's server, dropped afterwards."""
    server = urllib.parse.urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cbs"))
    name = f"test_cbs_prod_{os.getpid()}"
    admin_url = urllib.parse.urlunsplit(server._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urllib.parse.urlunsplit(server._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def production_env(python, database_url, static_root, port, smtp_port):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DJANGO_", "PYTEST", "VIRTUAL_ENV", "GUNICORN_", "CBS_EMBEDDED_DATABASE"))}
    env.update(
        PATH=f"{python.parent}{os.pathsep}{env.get('PATH', '')}",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY=secrets.token_urlsafe(64),
        FIELD_ENCRYPTION_KEY=base64.urlsafe_b64encode(os.urandom(32)).decode(),
        CBS_CARD_VERIFICATION_KEY=secrets.token_urlsafe(48),
        DATABASE_URL=database_url,
        REDIS_URL="redis://127.0.0.1:6379/13",
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="1",
        DEBUG="0",
        STATIC_ROOT=str(static_root),
        PRIVATE_MEDIA_ROOT=str(static_root.parent / "private"),
        # Nothing listens here: the bank's mail server is down.
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(smtp_port),
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="2",
        GUNICORN_LOG_LEVEL="warning",
    )
    return env


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


CUSTOMER = f"""
from django.contrib.auth.models import Group
from banking.audit.context import audit_context
from banking.users.models import User
from banking.users.roles import sync_roles
with audit_context(channel="seed", actor_username="test"):
    sync_roles()
    user = User.objects.create_user(username={USERNAME!r}, email={EMAIL!r}, password={PASSWORD!r},
                                    first_name="Asha", last_name="Verma")
    user.groups.set([Group.objects.get(name="customer")])
"""


class Browser:
    """Just enough of a browser behind the bank's TLS proxy: keeps cookies, sends
    X-Forwarded-Proto: https and an Origin as nginx would pass them on."""

    # What the proxy in front says about the client; none when the proxy is really there.
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "127.0.0.1"}

    def __init__(self, port):
        self.port, self.cookies = port, {}
        self.origin = f"https://127.0.0.1:{port}"

    def connection(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def request(self, method, path, form=None, headers=None):
        connection = self.connection()
        headers = {**self.forwarded, **(headers or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers.update({"Content-Type": "application/x-www-form-urlencoded", "Origin": self.origin,
                            "Referer": self.origin + path})
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            response.text = response.read().decode("utf-8", "replace")
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, form):
        return self.request("POST", path, {"csrfmiddlewaretoken": self.cookies.get("csrftoken", ""), **form})


@pytest.fixture(scope="module")
def server():
    python = production_venv()
    port, smtp_port = free_port(), free_port()
    with tempfile.TemporaryDirectory(prefix="cbs-prod-") as scratch, fresh_database() as database_url:
        env = production_env(python, database_url, Path(scratch) / "static", port, smtp_port)
        manage = [str(python), "manage.py"]
        run([*manage, "check", "--deploy", "--fail-level", "WARNING"], env=env, timeout=120)
        run([*manage, "migrate", "--noinput"], env=env, timeout=600)
        run([*manage, "collectstatic", "--noinput"], env=env, timeout=300)
        run([*manage, "shell", "-c", CUSTOMER], env=env, timeout=120)
        log = open(Path(scratch) / "gunicorn.log", "w+")  # noqa: SIM115 - read back on failure
        process = subprocess.Popen(
            [str(python), "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "config.wsgi:application"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            wait_until_serving(port, process, log)
            yield Browser(port), log, database_url, lambda *args: run([*manage, *args], env=env, timeout=120)
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
            log.close()


def wait_until_serving(port, process, log):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            pytest.fail(f"gunicorn exited with {process.returncode}:\n{log.read()}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz", headers={"X-Forwarded-Proto": "https"})
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail("gunicorn did not answer /healthz within 60 seconds")


def explain(response, log):
    log.seek(0)
    return f"{response.status} {response.reason}\n{response.text[:2000]}\n--- gunicorn ---\n{log.read()[-4000:]}"


def test_a_customer_signs_in_to_internet_banking(server):
    browser, log, _, _ = server

    page = browser.get("/accounts/login/")
    assert page.status == 200, explain(page, log)
    assert page.getheader("Server") is None
    assert "csrftoken" in browser.cookies

    signed_in = browser.post("/accounts/login/", {"login": USERNAME, "password": PASSWORD})
    assert signed_in.status == 302, explain(signed_in, log)
    assert signed_in.getheader("Server") is None

    # The sign-in lands on the portal chooser, which sends a customer to internet banking.
    home = browser.get(urllib.parse.urlsplit(signed_in.getheader("Location")).path)
    assert home.status == 302 and home.getheader("Location") == "/banking/", explain(home, log)
    banking = browser.get("/banking/")
    assert banking.status == 200, explain(banking, log)
    assert FULL_NAME in html.unescape(banking.text)
    assert banking.getheader("Server") is None


def test_a_password_reset_while_the_mail_server_is_down_is_queued(server):
    """The reset email is queued with its send job; a worker (here one run of
    `run_worker --burst`) finds the mail server down, and the message waits."""
    browser, log, database_url, manage = server
    browser.cookies.clear()
    form = browser.get("/accounts/password/reset/")
    assert form.status == 200, explain(form, log)

    sent = browser.post("/accounts/password/reset/", {"email": EMAIL})
    assert sent.status == 302, explain(sent, log)
    done = browser.get(urllib.parse.urlsplit(sent.getheader("Location")).path)
    assert done.status == 200, explain(done, log)
    assert "on its way" in html.unescape(done.text)
    with psycopg.connect(database_url, connect_timeout=10) as connection:
        ((email_id, attempts),) = connection.execute(
            "SELECT id, attempts FROM notifications_outboundemail WHERE sent_at IS NULL").fetchall()
        assert attempts == 0  # the page did not wait for the mail server
        job = connection.execute("SELECT status FROM procrastinate_jobs WHERE task_name = 'notifications.send_email'"
                                 " AND args->>'email_id' = %s", [str(email_id)]).fetchall()
        assert job == [("todo",)]
    manage("run_worker", "--burst")
    with psycopg.connect(database_url, connect_timeout=10) as connection:
        queued = connection.execute(
            'SELECT "to", attempts, last_error FROM notifications_outboundemail WHERE sent_at IS NULL'
        ).fetchall()
        job = connection.execute("SELECT status, attempts FROM procrastinate_jobs"
                                 " WHERE task_name = 'notifications.send_email'").fetchall()
    assert [(to, attempts) for to, attempts, _ in queued] == [([EMAIL], 1)]
    assert "refused" in queued[0][2].lower()
    assert job == [("todo", 1)]  # to be tried again at the message's next attempt
