"""Production settings refuse unsafe values, and `check --deploy` is clean."""

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def safe_env(**overrides):
    env = {k: v for k, v in os.environ.items()
           if k != "CBS_EMBEDDED_DATABASE" and not k.startswith(("DJANGO_", "PYTEST"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY=secrets.token_urlsafe(64),
        FIELD_ENCRYPTION_KEY=base64.urlsafe_b64encode(os.urandom(32)).decode(),
        CBS_CARD_VERIFICATION_KEY=secrets.token_urlsafe(48),
        DATABASE_URL="postgres://cbs@127.0.0.1:5432/cbs",
        REDIS_URL="redis://127.0.0.1:6379/0",
        ALLOWED_HOSTS="bank.example",
        DEBUG="0",
    )
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def manage(*args, **overrides):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=safe_env(**overrides),
        capture_output=True, text=True, timeout=120,
    )


def test_check_deploy_is_clean():
    result = manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    "overrides,complaint",
    [
        ({"DEBUG": "1"}, "DEBUG must be off"),
        ({"SECRET_KEY": "insecure-local-development-key-change-me"}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"DATABASE_URL": "sqlite:///var/prod.sqlite3"}, "PostgreSQL"),
        ({"DATABASE_URL": None}, "DATABASE_URL must be set"),
        # What the embedded server's launcher (config/embedded_db.py) hands its command.
        ({"DATABASE_URL": "postgresql://postgres@%2Fsrv%2Fcbs%2Fvar%2Fpostgres/cbs",
          "CBS_EMBEDDED_DATABASE": "/srv/cbs/var/postgres"}, "embedded"),
        ({"CBS_REQUIRE_STAFF_MFA": "0"}, "CBS_REQUIRE_STAFF_MFA"),
        ({"FIELD_ENCRYPTION_KEY": "bG9jYWwtZGV2ZWxvcG1lbnQta2V5LWNoYW5nZS1tZSE="}, "FIELD_ENCRYPTION_KEY"),
        ({"CBS_CARD_VERIFICATION_KEY": None}, "CBS_CARD_VERIFICATION_KEY"),
        ({"CBS_CARD_VERIFICATION_KEY": "short"}, "CBS_CARD_VERIFICATION_KEY"),
        ({"METRICS_ALLOWED_NETWORKS": "10.0.0.0/8,prometheus.internal"}, "METRICS_ALLOWED_NETWORKS"),
        ({"METRICS_TOKEN": "secret"}, "METRICS_TOKEN"),
    ],
)
def test_production_refuses_unsafe_values(overrides, complaint):
    result = manage("check", **overrides)
    assert result.returncode != 0
    assert "Refusing to start" in result.stderr
    assert complaint in result.stderr


def test_production_sets_the_security_headers():
    code = (
        "from django.conf import settings as s;"
        "print('VALUES', s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE,"
        " s.SECURE_REFERRER_POLICY, s.SECURE_CONTENT_TYPE_NOSNIFF)"
    )
    result = manage("shell", "-c", code)
    assert result.returncode == 0, result.stderr
    values = result.stdout.split("VALUES", 1)[1].split()
    assert values == ["63072000", "True", "True", "same-origin", "True"]
