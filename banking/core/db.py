"""Database helpers for the bank's hottest statements."""

from contextlib import nullcontext

from django.db import DEFAULT_DB_ALIAS, connections


def execute_prepared(sql, params):
    """Run `sql` on PostgreSQL as a prepared statement with server-side parameters,
    so it is parsed and planned once per connection rather than on every call, and
    return its rows (None for a statement that returns none). Elsewhere (SQLite on a
    developer's machine) it runs through Django's cursor.

    Django's own cursors bind parameters on the client and send a fresh statement
    each time; this goes to the psycopg connection underneath, in the same
    transaction. Only for statements the hot paths run many times a second (the
    posting action, the counter): anything else reads better through the ORM."""
    # The connection looked up once: each `django.db.connection.<name>` looks it up again.
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if cursor.description else None

    import psycopg
    from psycopg.pq import ExecStatus, TransactionStatus

    connection.ensure_connection()
    raw = connection.connection
    # The first statement of a transaction goes in one round trip with its BEGIN
    # (psycopg otherwise waits for the BEGIN's answer before sending it).
    starts_transaction = not raw.autocommit and raw.info.transaction_status == TransactionStatus.IDLE
    # Errors come out as Django's (IntegrityError, OperationalError ...), as from any query.
    with connection.wrap_database_errors, psycopg.Cursor(raw) as cursor:
        with raw.pipeline() if starts_transaction else nullcontext():
            cursor.execute(sql, params, prepare=True)
        # Checked on the raw result: `cursor.description` would build an object per column.
        return cursor.fetchall() if cursor.pgresult.status == ExecStatus.TUPLES_OK else None
