"""Without DATABASE_URL, `make run` and `make test` run on the embedded PostgreSQL
(config/embedded_db.py): the launcher starts it on a Unix socket in its data
directory, runs the command there, and stops it when the command ends, however it
ends. With DATABASE_URL set, nothing is embedded."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from config.embedded_db import MARKER

ROOT = Path(__file__).resolve().parents[2]

SHOW_DATABASE = (
    "from django.db import connection\n"
    "with connection.cursor() as cursor:\n"
    "    cursor.execute('SHOW server_version')\n"
    "    version = cursor.fetchone()[0]\n"
    "print('HOST', connection.get_connection_params()['host'])\n"
    "print('NAME', connection.settings_dict['NAME'])\n"
    "print('VERSION', version)\n"
)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("embedded") / "pg"


def clean_env(**overrides):
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", MARKER) and not k.startswith(("DJANGO_", "PYTEST"))}
    env.update(overrides)
    return env


def launcher(data_dir, *command):
    return [sys.executable, "-m", "config.embedded_db", "--data-dir", str(data_dir), "--database", "cbs_launch",
            *command]


def server_is_gone(data_dir):
    """No postmaster.pid and no live server process on the data directory (one that
    has exited but is not yet reaped by its parent is gone too)."""
    import psutil

    if (data_dir / "postmaster.pid").exists():
        return False
    for process in psutil.process_iter(["name", "cmdline", "status"]):
        cmdline = process.info["cmdline"] or []
        if process.info["status"] != psutil.STATUS_ZOMBIE and str(data_dir) in " ".join(cmdline):
            return False
    return True


def read(output, label):
    return [line.split(" ", 1)[1] for line in output.splitlines() if line.startswith(label + " ")][0]


def test_without_database_url_the_command_runs_on_the_embedded_postgresql_18_which_then_stops(data_dir):
    result = subprocess.run(launcher(data_dir, sys.executable, "manage.py", "shell", "-c", SHOW_DATABASE),
                            cwd=ROOT, env=clean_env(), capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stdout + result.stderr
    assert Path(read(result.stdout, "HOST")) == data_dir.resolve()  # the Unix socket's folder, no TCP
    assert read(result.stdout, "NAME") == "cbs_launch"
    assert read(result.stdout, "VERSION").startswith("18.")
    assert (data_dir / "PG_VERSION").read_text().strip() == "18"
    assert "Embedded PostgreSQL 18" in result.stderr
    assert server_is_gone(data_dir)


def test_with_database_url_set_nothing_is_embedded(tmp_path):
    url = "postgres://someone@db.example/bank"
    show = "import os; print('URL', os.environ['DATABASE_URL']); print('MARK', os.environ.get('CBS_EMBEDDED_DATABASE'))"
    result = subprocess.run(launcher(tmp_path / "pg", sys.executable, "-c", show), cwd=ROOT,
                            env=clean_env(DATABASE_URL=url), capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stdout + result.stderr
    assert read(result.stdout, "URL") == url
    assert read(result.stdout, "MARK") == "None"
    assert not (tmp_path / "pg").exists()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_stopping_the_launcher_stops_the_command_then_the_server(data_dir, signum):
    wait = "import signal, sys, time; print('ready', flush=True); time.sleep(60); sys.exit(3)"
    launch = subprocess.Popen(launcher(data_dir, sys.executable, "-c", wait), cwd=ROOT, env=clean_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    try:
        assert launch.stdout.readline().strip() == "ready"
        assert (data_dir / "postmaster.pid").exists()
        launch.send_signal(signum)
        status = launch.wait(timeout=30)
    finally:
        if launch.poll() is None:
            launch.kill()
    assert status == 128 + signum  # the command was stopped by the same signal, not left to sleep
    deadline = time.monotonic() + 10
    while not server_is_gone(data_dir):
        assert time.monotonic() < deadline, "the embedded server outlived its launcher"
        time.sleep(0.1)


def test_commands_started_together_share_one_server_and_one_database(data_dir):
    """`make run` and `make test` started at the same moment on a fresh database: each
    finds the database (one creates it), and the last to finish stops the server."""
    show = "import os; print(os.environ['DATABASE_URL'])"
    command = [*launcher(data_dir, sys.executable, "-c", show)]
    command[command.index("cbs_launch")] = "cbs_together"
    launches = [subprocess.Popen(command, cwd=ROOT, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 stdin=subprocess.DEVNULL, text=True) for _ in range(3)]
    outputs = [launch.communicate(timeout=60) for launch in launches]

    assert [launch.returncode for launch in launches] == [0, 0, 0], outputs
    socket = str(data_dir).replace("/", "%2F")
    assert {out.strip() for out, _ in outputs} == {f"postgresql://postgres@{socket}/cbs_together"}
    assert server_is_gone(data_dir)
