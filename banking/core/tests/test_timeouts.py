"""The database's limits on a client: short for the processes that serve web
requests, longer for batch work (management commands, background jobs)."""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from django.db import connection

from banking.core.timeouts import BUSY_MESSAGE, is_busy

ROOT = Path(__file__).resolve().parents[3]
SHOW = (
    "from django.db import connection\n"
    "with connection.cursor() as c:\n"
    "    for name in ('lock_timeout', 'statement_timeout', 'idle_in_transaction_session_timeout'):\n"
    "        c.execute('SHOW ' + name); print(name, c.fetchone()[0])\n"
)
WEB = {"lock_timeout": "5s", "statement_timeout": "30s", "idle_in_transaction_session_timeout": "30s"}
BATCH = {"lock_timeout": "1min", "statement_timeout": "30min", "idle_in_transaction_session_timeout": "10min"}


def _limits_seen_by(code, **env):
    """Run `code` in a fresh Python on this database; the limits its connection has."""
    params = connection.settings_dict
    # The host may be the embedded server's socket folder: percent-encoded, as the launcher writes it.
    port = f":{params['PORT']}" if params.get("PORT") else ""
    url = f"postgres://{params['USER']}@{quote(params['HOST'] or '', safe='')}{port}/{params['NAME']}"
    environ = {key: value for key, value in os.environ.items() if not key.startswith("DB_")}
    environ.update(DATABASE_URL=url, DJANGO_SETTINGS_MODULE="config.settings.test", **env)
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return dict(line.split(" ", 1) for line in result.stdout.splitlines() if line.split(" ", 1)[0] in WEB)


@pytest.mark.django_db
def test_a_management_command_gets_the_batch_limits():
    code = (
        "import sys; sys.argv = ['manage.py', 'shell', '-c', " + repr(SHOW) + "]\n"
        "from django.core.management import execute_from_command_line\n"
        "execute_from_command_line(sys.argv)\n"
    )
    assert _limits_seen_by(code) == BATCH


@pytest.mark.django_db
def test_the_wsgi_application_gets_the_web_limits():
    assert _limits_seen_by("import config.wsgi\n" + SHOW) == WEB


@pytest.mark.django_db
def test_the_development_server_gets_the_web_limits():
    code = "import sys; sys.argv = ['manage.py', 'runserver']\nimport django; django.setup()\n" + SHOW
    assert _limits_seen_by(code) == WEB


@pytest.mark.django_db
def test_each_limit_can_be_set_from_the_environment():
    seen = _limits_seen_by("import config.wsgi\n" + SHOW, DB_LOCK_TIMEOUT="2s", DB_STATEMENT_TIMEOUT="45s",
                           DB_IDLE_IN_TRANSACTION_TIMEOUT="1min")
    assert seen == {"lock_timeout": "2s", "statement_timeout": "45s", "idle_in_transaction_session_timeout": "1min"}


@pytest.mark.django_db(transaction=True)
def test_a_lock_wait_past_the_limit_is_a_busy_bank_and_other_errors_are_not():
    """What the portals turn into "try again": the limits' own errors, and the
    deadlocks and serialization failures that retrying could not get past."""
    from django.db import DatabaseError, IntegrityError, OperationalError

    from banking.users.models import User

    params = dict(connection.get_connection_params())
    for key in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(key, None)
    user = User.objects.create(username="held")
    with psycopg.connect(**params) as other:
        other.execute("SELECT 1 FROM users_user WHERE id = %s FOR UPDATE", [user.pk])
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '50ms'")
            try:
                with pytest.raises(OperationalError) as waited:
                    cursor.execute("UPDATE users_user SET first_name = 'x' WHERE id = %s", [user.pk])
            finally:
                cursor.execute("RESET lock_timeout")
    assert is_busy(waited.value)
    assert not is_busy(IntegrityError("duplicate key"))
    assert not is_busy(DatabaseError("something else"))
    assert "nothing was saved" in BUSY_MESSAGE
