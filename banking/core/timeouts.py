"""How long the database waits, and what a person hears when it stops waiting.

Limits (set on every connection, in config/settings/base.py, from the environment)
- `lock_timeout`: a statement waiting longer for a row or table lock gives up. A
  client paused while holding a lock then stalls others for this long, not forever.
- `statement_timeout`: a statement running longer is cancelled.
- `idle_in_transaction_session_timeout`: a session that opened a transaction and
  then went quiet (a dead or paused client) is closed, which rolls the transaction
  back and frees its locks.
Processes that serve web requests (config/wsgi.py, config/asgi.py and
`manage.py runserver`) get short limits, because a person is waiting and a worker
is held. Everything else gets longer ones: management commands and background work,
which read and write much more at a time. `DB_LIMITS=web` or `DB_LIMITS=batch` in
the environment chooses for any process.

When a limit is reached the statement fails and its transaction is rolled back:
nothing is half-written. `is_busy` recognises those failures, and the deadlocks
and serialization failures that `retrying` could not get past, so the portals can
ask the person to try again (portals.busy) instead of showing a server error.
"""

BUSY_MESSAGE = "The bank is busy just now and nothing was saved. Please try again in a moment."

BUSY_SQLSTATES = {
    "55P03": "lock_not_available",  # lock_timeout
    "57014": "query_canceled",  # statement_timeout
    "25P03": "idle_in_transaction_session_timeout",
    "40001": "serialization_failure",  # still failing after retrying's attempts
    "40P01": "deadlock_detected",
}


def sqlstate(error):
    """The SQLSTATE of a database error as Django raises it (psycopg's underneath), or None."""
    return getattr(error, "sqlstate", None) or getattr(getattr(error, "__cause__", None), "sqlstate", None)


def is_busy(error):
    """Whether `error` means the database was too busy to finish, so that the same
    request, sent again, can succeed."""
    from django.db import OperationalError

    return isinstance(error, OperationalError) and sqlstate(error) in BUSY_SQLSTATES
