"""`make serve`: the bank as production runs it, on this machine.

    DATABASE_URL=postgres://... python -m config.serve

Under config.settings.production, against DATABASE_URL's PostgreSQL (the database is
created if it is missing) and REDIS_URL's Redis (default redis://127.0.0.1:6379/0):

- secrets: SECRET_KEY, FIELD_ENCRYPTION_KEY and CBS_CARD_VERIFICATION_KEY are
  generated into var/serve.env on the first run (mode 600, untracked) and read from it
  after; any other variable put there is used too, unless the environment sets it;
- a self-signed certificate for 127.0.0.1 and localhost under var/serve/tls/, made
  with openssl on the first run;
- `check --deploy`, `migrate`, and `collectstatic` into var/serve/static/;
- then, supervised together as `make run`'s two are (config/run_local.py): gunicorn
  with deploy/gunicorn.conf.py on 127.0.0.1:8001, one background worker, and nginx
  (deploy/nginx/serve.conf.template) on https://127.0.0.1:8443 and http://127.0.0.1:8080,
  unprivileged, its pid, temporary files and logs under var/serve/nginx/.

Ctrl-C stops all three. The tests (config/tests/test_serve.py) start the same nginx
configuration in front of gunicorn through `render_nginx_config` and `environment`.
"""

import base64
import os
import secrets
import shutil
import subprocess
import sys
import urllib.parse
from pathlib import Path

from config.run_local import supervise

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
VAR = ROOT / "var"
SERVE = VAR / "serve"
ENV_FILE = VAR / "serve.env"
APP_ADDRESS = "127.0.0.1:8001"
HTTP_PORT, HTTPS_PORT = 8080, 8443
# nginx drops root before its workers read a static file or write a temporary one.
NGINX_WORKER_USER = "www-data"


def nginx_binary():
    """Debian's nginx (`make nginx` installs it); /usr/sbin is not on everyone's PATH."""
    return shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)


# Each secret make serve generates, and how: written to the env file on the first run,
# and added to it when a newer version of make serve needs one the file lacks.
SECRETS = {
    "SECRET_KEY": lambda: secrets.token_urlsafe(64),
    "FIELD_ENCRYPTION_KEY": lambda: base64.urlsafe_b64encode(os.urandom(32)).decode(),
    "CBS_CARD_VERIFICATION_KEY": lambda: secrets.token_urlsafe(48),
}


def _read_env_file(path):
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def read_secrets(path=ENV_FILE):
    """The KEY=VALUE lines of the env file, made with fresh secrets if it is missing,
    and given any secret it lacks."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write("# make serve's secrets, generated on its first run (config/serve.py). Not in git.\n")
    values = _read_env_file(path)
    missing = [name for name in SECRETS if name not in values]
    if missing:
        with path.open("a") as out:
            out.write("".join(f"{name}={SECRETS[name]()}\n" for name in missing))
        values = _read_env_file(path)
    return values


def environment(base, *, file_values, database_url, static_root, app_address, private_root):
    """The production environment of every process: `base` (the caller's environment)
    wins over the env file's values, which win over make serve's defaults."""
    env = {k: v for k, v in base.items() if not k.startswith(("PYTEST", "DJANGO_"))}
    for name, value in file_values.items():
        env.setdefault(name, value)
    defaults = {
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # nginx sets X-Forwarded-For to the address it saw (deploy/nginx/cbs-proxy.conf).
        "TRUSTED_PROXY": "1",
        "STATIC_ROOT": str(static_root),
        "PRIVATE_MEDIA_ROOT": str(private_root),
        "GUNICORN_BIND": app_address,
    }
    for name, value in defaults.items():
        env.setdefault(name, value)
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.production"
    env["DATABASE_URL"] = database_url
    return env


def make_certificate(directory):
    """A self-signed certificate for 127.0.0.1 and localhost, made once."""
    certificate, key = directory / "cert.pem", directory / "key.pem"
    if not (certificate.exists() and key.exists()):
        directory.mkdir(parents=True, exist_ok=True)
        subprocess.run(  # noqa: S603 our own command
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "825",  # noqa: S607 from PATH
             "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
             "-keyout", str(key), "-out", str(certificate)],
            check=True, capture_output=True,
        )
        key.chmod(0o600)
    return certificate, key


def render_nginx_config(prefix, *, http_port, https_port, upstream, root, certificate, certificate_key):
    """deploy/nginx/serve.conf.template made into prefix/nginx.conf, with deploy/nginx/
    linked as prefix/cbs for its includes and the temporary directories made."""
    prefix.mkdir(parents=True, exist_ok=True)
    running_as_root = os.geteuid() == 0
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        temp = prefix / "temp" / name
        temp.mkdir(parents=True, exist_ok=True)
        if running_as_root:
            shutil.chown(temp, user=NGINX_WORKER_USER)
    link = prefix / "cbs"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(DEPLOY / "nginx", target_is_directory=True)
    values = {
        # Unprivileged, nginx ignores `user`; started by root, its workers need one.
        "user": f"user {NGINX_WORKER_USER};" if running_as_root else "",
        "prefix": str(prefix), "http_port": str(http_port), "https_port": str(https_port),
        "upstream": upstream, "root": str(root),
        "certificate": str(certificate), "certificate_key": str(certificate_key),
    }
    text = (DEPLOY / "nginx" / "serve.conf.template").read_text()
    for name, value in values.items():
        text = text.replace(f"@{name}@", value)
    config = prefix / "nginx.conf"
    config.write_text(text)
    return config


def nginx_command(config):
    prefix = config.parent
    return [nginx_binary(), "-p", f"{prefix}/", "-c", str(config), "-e", str(prefix / "error.log")]


def ensure_database(database_url):
    """Create DATABASE_URL's database on its server if it is not there yet."""
    import psycopg
    from psycopg import sql

    parts = urllib.parse.urlsplit(database_url)
    name = urllib.parse.unquote(parts.path.lstrip("/"))
    admin_url = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def main():
    database_url = os.environ.get("DATABASE_URL")
    if not database_url:
        sys.exit("make serve needs DATABASE_URL: the production settings refuse the embedded PostgreSQL.")
    if not nginx_binary():
        sys.exit("nginx is not installed: run `make nginx` (Debian's package).")
    env = environment(
        os.environ, file_values=read_secrets(), database_url=database_url,
        static_root=SERVE / "static", app_address=APP_ADDRESS, private_root=VAR / "private",
    )
    certificate, key = make_certificate(SERVE / "tls")
    ensure_database(database_url)
    manage = [sys.executable, "manage.py"]
    for command in (["check", "--deploy", "--fail-level", "WARNING"], ["migrate", "--noinput"],
                    ["collectstatic", "--noinput", "--verbosity", "0"]):
        subprocess.run([*manage, *command], cwd=ROOT, env=env, check=True)  # noqa: S603 our own commands
    config = render_nginx_config(
        SERVE / "nginx", http_port=HTTP_PORT, https_port=HTTPS_PORT, upstream=env["GUNICORN_BIND"],
        root=SERVE, certificate=certificate, certificate_key=key,
    )
    subprocess.run([*nginx_command(config), "-t", "-q"], cwd=ROOT, check=True)  # noqa: S603 our own command
    print(f"\nCBS (production settings) is on https://127.0.0.1:{HTTPS_PORT}/ "
          f"(http://127.0.0.1:{HTTP_PORT} redirects there), gunicorn on {env['GUNICORN_BIND']}, "
          f"one background worker. Secrets: {ENV_FILE.relative_to(ROOT)}; nginx's logs: "
          f"{(SERVE / 'nginx').relative_to(ROOT)}/. Ctrl-C stops them.\n", flush=True)
    os.environ.clear()
    os.environ.update(env)
    os.chdir(ROOT)
    return supervise([
        [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "config.wsgi:application"],
        [*manage, "run_worker", "--name", "make-serve"],
        nginx_command(config),
    ])


if __name__ == "__main__":
    sys.exit(main())
