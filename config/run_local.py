"""`make run`: the web server and one background worker, started and stopped together.

    python -m config.run_local [--addr 127.0.0.1:8000]

Runs `manage.py runserver ADDR` and `manage.py run_worker` side by side (the
Makefile wraps this launcher in config/embedded_db.py, so both reach the same
database). Each runs in a process group of its own, so that a signal reaches the
whole of it (runserver's autoreloader and the server it restarts):

- Ctrl-C, SIGTERM or SIGHUP to the launcher is passed on to both;
- when one of them ends by itself (a crash), the other is stopped too: a web server
  whose jobs never run, or a worker for a bank nobody can reach, is not left behind;
- a process that has not stopped `GRACE` seconds after being asked is killed.

The launcher exits with the status of the one that ended first (128 + the signal's
number when a signal stopped it). Only the standard library is imported.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time

GRACE = 30


def commands(addr):
    manage = [sys.executable, "manage.py"]
    return [[*manage, "runserver", addr], [*manage, "run_worker", "--name", "make-run"]]


def supervise(command_list, *, grace=GRACE):
    """Run every command of `command_list` at once until the first ends or the
    launcher is signalled; then stop them all. Returns the exit status."""
    children = [subprocess.Popen(command, process_group=0, stdin=subprocess.DEVNULL)  # noqa: S603 our own commands
                for command in command_list]
    received = []

    def on_signal(signum, frame):
        received.append(signum)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, on_signal)
    try:
        first = None
        while first is None and not received:
            first = next((child for child in children if child.poll() is not None), None)
            if first is None:
                time.sleep(0.1)
        stop_signal = received[0] if received else signal.SIGTERM
        for child in children:
            _signal_group(child, stop_signal)
        deadline = time.monotonic() + grace
        for child in children:
            try:
                child.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(child, signal.SIGKILL)
                child.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_DFL)
    if first is None:
        return 128 + received[0]
    status = first.returncode
    return 128 - status if status < 0 else status


def _signal_group(child, signum):
    with contextlib.suppress(ProcessLookupError):  # the whole group has ended already
        os.killpg(child.pid, signum)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    addr = "127.0.0.1:8000"
    if argv[:1] == ["--addr"] and len(argv) == 2:
        addr = argv[1]
    elif argv:
        raise SystemExit("usage: python -m config.run_local [--addr HOST:PORT]")
    return supervise(commands(addr))


if __name__ == "__main__":
    sys.exit(main())
