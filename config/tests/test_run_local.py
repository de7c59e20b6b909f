"""`make run` starts the web server and one background worker together
(config/run_local.py), and stopping it stops both: Ctrl-C (SIGINT), SIGTERM, or
one of the two ending by itself."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url():
    settings = connection.settings_dict
    return (f"postgres://{settings['USER'] or 'postgres'}@{settings['HOST'] or '127.0.0.1'}:"
            f"{settings['PORT'] or 5432}/{settings['NAME']}")


def registered_workers():
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM procrastinate_workers")
        return cursor.fetchone()[0]


def wait_for(condition, what, launch, timeout=90):
    deadline = time.monotonic() + timeout
    while not condition():
        assert launch.poll() is None, f"the launcher ended before {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def serving(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture
def launched(transactional_db):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
    env.update(DATABASE_URL=database_url(), DJANGO_SETTINGS_MODULE="config.settings.local")
    launch = subprocess.Popen([sys.executable, "-m", "config.run_local", "--addr", f"127.0.0.1:{port}"], cwd=ROOT,
                              env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: serving(port), "the web server to answer", launch)
        wait_for(lambda: registered_workers() == 1, "the worker to start", launch)
        processes = psutil.Process(launch.pid).children(recursive=True)
        commands = [" ".join(process.cmdline()) for process in processes]
        assert any("runserver" in command for command in commands)
        assert any("run_worker" in command for command in commands)
        yield launch, processes, port
    finally:
        if launch.poll() is None:
            launch.kill()
            launch.wait(timeout=10)
        for process in psutil.Process().children(recursive=True):
            if "config.run_local" in " ".join(process.cmdline()) or "manage.py" in " ".join(process.cmdline()):
                process.kill()


def all_gone(processes):
    deadline = time.monotonic() + 30
    while any(process.is_running() and process.status() != psutil.STATUS_ZOMBIE for process in processes):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_make_run_starts_the_web_server_and_a_worker_and_stopping_it_stops_both(launched, signum):
    launch, processes, port = launched
    launch.send_signal(signum)
    assert launch.wait(timeout=60) == 128 + signum
    assert all_gone(processes), "a process of make run outlived it"
    assert not serving(port)
    assert registered_workers() == 0  # the worker stopped cleanly and signed off


def test_when_the_worker_dies_the_web_server_is_stopped_too(launched):
    launch, processes, port = launched
    [worker] = [process for process in processes if "run_worker" in " ".join(process.cmdline())]
    worker.kill()
    assert launch.wait(timeout=60) == 128 + signal.SIGKILL
    assert all_gone(processes)
    assert not serving(port)
