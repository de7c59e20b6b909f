"""`make serve`'s nginx (deploy/nginx/, rendered by config/serve.py) in front of gunicorn
(deploy/gunicorn.conf.py) under the production settings, checked over real HTTPS:
the redirect from HTTP, the security headers, the cookies, what nginx lets a client
say about itself, the cache of hashed static files and the sign-in rate limit.

One nginx and one gunicorn for the module, on free ports, with a database of its own;
this run's interpreter (gunicorn is in the test requirements). The production install
from production.txt alone is test_production_server's.
"""

import html
import http.client
import os
import re
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import pytest

from config import serve
from config.tests.test_production_server import (
    CUSTOMER,
    PASSWORD,
    USERNAME,
    Browser,
    free_port,
    fresh_database,
    run,
)

ROOT = Path(__file__).resolve().parents[2]
FORGED = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "http", "X-Forwarded-Host": "evil.example"}

pytestmark = pytest.mark.skipif(not serve.nginx_binary(), reason="nginx is not installed: make nginx")


class Client(Browser):
    """HTTPS to nginx with cookies kept, verifying the certificate config/serve.py made;
    nginx, not the client, says who the client is."""

    forwarded = {}

    def __init__(self, port, certificate):
        super().__init__(port)
        self.context = ssl.create_default_context(cafile=str(certificate))

    def connection(self):
        return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=30, context=self.context)


def start(command, env, log):
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop(process):
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def wait_for(client, processes, log):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                log.seek(0)
                pytest.fail(f"{process.args[0]} exited with {process.returncode}:\n{log.read()[-4000:]}")
        try:
            if client.request("GET", "/healthz").status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    log.seek(0)
    pytest.fail(f"nginx and gunicorn did not answer /healthz within 60 seconds:\n{log.read()[-4000:]}")


@pytest.fixture(scope="module")
def site():
    app_port, http_port, https_port, smtp_port = (free_port() for _ in range(4))
    with tempfile.TemporaryDirectory(prefix="cbs-serve-") as scratch, fresh_database() as database_url:
        scratch = Path(scratch)
        os.chmod(scratch, 0o755)  # nginx's workers read the static files as www-data when root starts it
        env = serve.environment(
            os.environ, file_values=serve.read_secrets(scratch / "serve.env"),
            database_url=database_url, static_root=scratch / "static", app_address=f"127.0.0.1:{app_port}",
            private_root=scratch / "private",
        )
        env.pop("CBS_EMBEDDED_DATABASE", None)
        env.update(REDIS_URL="redis://127.0.0.1:6379/14", SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp_port),
                   GUNICORN_WORKERS="2", GUNICORN_LOG_LEVEL="warning",
                   PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}")
        manage = [sys.executable, "manage.py"]
        run([*manage, "migrate", "--noinput"], env=env, timeout=600)
        run([*manage, "collectstatic", "--noinput", "--verbosity", "0"], env=env, timeout=300)
        run([*manage, "shell", "-c", CUSTOMER], env=env, timeout=120)
        certificate, key = serve.make_certificate(scratch / "tls")
        config = serve.render_nginx_config(
            scratch / "nginx", http_port=http_port, https_port=https_port, upstream=env["GUNICORN_BIND"],
            root=scratch, certificate=certificate, certificate_key=key,
        )
        log = open(scratch / "servers.log", "w+")  # noqa: SIM115 - read back on failure
        gunicorn = start([sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py",
                          "config.wsgi:application"], env, log)
        nginx = start(serve.nginx_command(config), env, log)
        try:
            client = Client(https_port, certificate)
            wait_for(client, [gunicorn, nginx], log)
            # Signed in once, here: later tests send no sign-in POST before the rate limit's.
            client.request("GET", "/accounts/login/")
            signed_in = client.request("POST", "/accounts/login/", headers=FORGED, form={
                "csrfmiddlewaretoken": client.cookies.get("csrftoken", ""), "login": USERNAME, "password": PASSWORD})
            yield {"client": client, "new_client": lambda: Client(https_port, certificate), "signed_in": signed_in,
                   "http_port": http_port, "https_port": https_port, "database_url": database_url,
                   "static": scratch / "static", "log": log}
        finally:
            stop(nginx)
            stop(gunicorn)
            log.close()


def explain(site, response):
    site["log"].seek(0)
    return f"{response.status} {response.reason}\n{response.text[:1000]}\n--- servers ---\n{site['log'].read()[-4000:]}"


def test_http_redirects_to_https(site):
    connection = http.client.HTTPConnection("127.0.0.1", site["http_port"], timeout=30)
    connection.request("GET", "/banking/?tab=1")
    response = connection.getresponse()
    assert response.status == 301
    assert response.getheader("Location") == f"https://127.0.0.1:{site['https_port']}/banking/?tab=1"


def test_the_security_headers(site):
    client = site["new_client"]()
    first, second = client.request("GET", "/accounts/login/"), client.request("GET", "/accounts/login/")
    assert first.status == second.status == 200, explain(site, first)
    assert first.getheader("Strict-Transport-Security") == "max-age=63072000; includeSubDomains; preload"
    assert first.getheader("X-Content-Type-Options") == "nosniff"
    assert first.getheader("Referrer-Policy") == "same-origin"
    assert first.getheader("Cross-Origin-Opener-Policy") == "same-origin"
    assert first.getheader("Cross-Origin-Resource-Policy") == "same-origin"
    assert "camera=()" in first.getheader("Permissions-Policy")
    assert "geolocation=()" in first.getheader("Permissions-Policy")
    assert first.getheader("X-Frame-Options") == "DENY"
    # Each header once: set in one place, not by the app and nginx both.
    for name in ("Strict-Transport-Security", "X-Content-Type-Options", "Content-Security-Policy",
                 "Permissions-Policy", "Cross-Origin-Resource-Policy"):
        assert len(first.headers.get_all(name)) == 1, name
    nonces = []
    for page in (first, second):
        policy = page.getheader("Content-Security-Policy")
        nonce = re.search(r"script-src 'self' 'nonce-([^']+)'", policy).group(1)
        tags = re.findall(r"<script[^>]*>", page.text)
        assert re.findall(r'nonce="([^"]+)"', " ".join(tags)) == [nonce], tags  # htmx's script (django-htmx)
        assert all('src="/static/' in tag or f'nonce="{nonce}"' in tag for tag in tags), tags
        nonces.append(nonce)
    assert nonces[0] != nonces[1]


def test_cookies_are_secure(site):
    signed_in = site["signed_in"]
    assert signed_in.status == 302, explain(site, signed_in)
    cookies = {header.split("=", 1)[0]: header.lower() for header in signed_in.headers.get_all("Set-Cookie")}
    assert "; secure" in cookies["sessionid"] and "; httponly" in cookies["sessionid"]
    client = site["new_client"]()
    page = client.request("GET", "/accounts/login/")
    (csrf,) = [h for h in page.headers.get_all("Set-Cookie") if h.startswith("csrftoken=")]
    assert "; secure" in csrf.lower()


def test_a_client_cannot_say_where_it_is_or_which_scheme_and_host_it_used(site):
    # The sign-in (in the fixture) sent a forged X-Forwarded-For: the trail has the
    # address nginx saw.
    with psycopg.connect(site["database_url"], connect_timeout=10) as connection:
        addresses = connection.execute(
            "SELECT ip FROM audit_auditevent WHERE action = 'auth.login' AND actor_username = %s", [USERNAME]
        ).fetchall()
    assert [str(ip) for (ip,) in addresses] == ["127.0.0.1"]
    # A forged X-Forwarded-Proto: http would have the app redirect to HTTPS, and a
    # forged X-Forwarded-Host outside ALLOWED_HOSTS would be a 400.
    banking = site["client"].request("GET", "/banking/", headers=FORGED)
    assert banking.status == 200, explain(site, banking)
    assert "Asha Verma" in html.unescape(banking.text)


def test_hashed_static_files_are_cached_for_good(site):
    manifest = (site["static"] / "staticfiles.json").read_text()
    hashed = re.search(r'"(css/[^"]+\.[0-9a-f]{12}\.css)"', manifest).group(1)
    client = site["client"]
    response = client.request("GET", f"/static/{hashed}")
    assert response.status == 200
    assert response.text == (site["static"] / hashed).read_text()
    assert "immutable" in ", ".join(response.headers.get_all("Cache-Control"))
    assert "max-age=315360000" in ", ".join(response.headers.get_all("Cache-Control"))
    assert response.getheader("X-Content-Type-Options") == "nosniff"
    plain = client.request("GET", "/static/" + re.sub(r"\.[0-9a-f]{12}\.css$", ".css", hashed))
    assert plain.status == 200
    assert "immutable" not in ", ".join(plain.headers.get_all("Cache-Control") or [])


def test_sign_in_is_rate_limited_by_nginx(site):
    """Sign-in POSTs without a form token: the app refuses each (403) without
    counting a sign-in; nginx's limit (30 a minute, a burst of 20) then answers 429."""
    client = site["new_client"]()
    statuses = []
    for _ in range(40):
        statuses.append(client.request("POST", "/accounts/login/", form={"login": "x", "password": "y"}).status)
        if statuses[-1] == 429:
            break
    assert statuses[-1] == 429, statuses
    assert set(statuses[:-1]) == {403} and len(statuses) >= 21, statuses
    # Reading the page is not limited.
    assert client.request("GET", "/accounts/login/").status == 200
