"""Database helpers: the hottest statements, retrying a transaction PostgreSQL gave
up on, and jobs that must not run twice at once."""

import functools
import random
import time
from contextlib import nullcontext
from enum import IntEnum

from django.db import DEFAULT_DB_ALIAS, OperationalError, connections, transaction

RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock detected
MAX_ATTEMPTS = 8


def execute_prepared(sql, params):
    """Run `sql` as a prepared statement with server-side parameters, so it is
    parsed and planned once per connection rather than on every call, and return its
    rows (None for a statement that returns none).

    Django's own cursors bind parameters on the client and send a fresh statement
    each time; this goes to the psycopg connection underneath, in the same
    transaction. Only for statements the hot paths run many times a second (the
    posting action, the counter): anything else reads better through the ORM."""
    # The connection looked up once: each `django.db.connection.<name>` looks it up again.
    connection = connections[DEFAULT_DB_ALIAS]
    from psycopg.pq import ExecStatus, TransactionStatus

    if connection.connection is None:
        connection.ensure_connection()
    raw = connection.connection
    cursor = _cursor(connection, raw)
    # The first statement of a transaction goes in one round trip with its BEGIN
    # (psycopg otherwise waits for the BEGIN's answer before sending it).
    starts_transaction = not raw.autocommit and raw.info.transaction_status == TransactionStatus.IDLE
    # Errors come out as Django's (IntegrityError, OperationalError ...), as from any query.
    with connection.wrap_database_errors:
        with raw.pipeline() if starts_transaction else nullcontext():
            cursor.execute(sql, params, prepare=True)
        # Checked on the raw result: `cursor.description` would build an object per column.
        return cursor.fetchall() if cursor.pgresult.status == ExecStatus.TUPLES_OK else None


def _cursor(connection, raw):
    """The psycopg cursor these statements use on `raw`, made once per database
    connection and kept on Django's connection object (one per thread). A fresh
    cursor per statement would also work out afresh how to send each parameter,
    which the cursor otherwise remembers; each call reads all its rows before it
    returns, so nothing is left on the cursor for the next one. A new connection
    (Django reconnects after CONN_MAX_AGE, or after an error) gets a new cursor."""
    cursor = connection.__dict__.get("cbs_prepared_cursor")
    if cursor is None or cursor.connection is not raw or cursor.closed:
        cursor = connection.__dict__["cbs_prepared_cursor"] = _cursor_class()(raw)
    return cursor


@functools.cache
def _cursor_class():
    """A psycopg cursor that converts each statement's text (its %s to $n) once per
    process. psycopg caches that conversion only for statements under 4 kB with at
    most 50 parameters; a posting with its riders is longer, and converting it again
    on every call cost more than a round trip. These statements are few and fixed,
    so caching them all is safe. (psycopg 3.3's own query class, as its ClientCursor
    swaps in another one.)"""
    import psycopg
    from psycopg._queries import PostgresQuery, _query2pg

    class ConvertedOnce(PostgresQuery):
        def convert(self, query, vars):
            self.query, self._want_formats, self._order, self._parts = _query2pg(
                self._ensure_bytes(query), self._tx.encoding)
            self.dump(vars)

    class Cursor(psycopg.Cursor):
        _query_cls = ConvertedOnce

    return Cursor


# -- statements that ride with a posting ---------------------------------------------------
#
# A posting and what its caller writes with it (the till's count, the counter
# transaction, the audit event) go to the database as one statement: one round trip
# at the counter instead of one per row. A rider is (sql, params): a statement of the
# caller's own app, written against the CTE `posted` (columns entry_id, entry_date:
# one row when the entry was posted, none when it was refused), returning a row per
# row it writes (RETURNING 1, or a SELECT). Each app writes only its own tables in its
# riders; the posting engine's SQL stays the ledger's.


def ride(head, riders):
    """`WITH <head>, r0 AS (...), r1 AS (...)`, the SQL counting the riders' rows
    (which makes a SELECT rider run), and the riders' parameters in order. `head`
    defines the CTE `posted` and anything it needs before it."""
    ctes = "".join(f", r{i} AS ({sql})" for i, (sql, _) in enumerate(riders))
    ran = " + ".join(f"(SELECT count(*) FROM r{i})" for i in range(len(riders))) or "0"  # noqa: S608 names
    return f"WITH {head}{ctes}", ran, [value for _, params in riders for value in params]


def run_riders(riders, *, entry_id, entry_date):
    """Run `riders` for an entry posted before (or none: entry_id None), in one statement."""
    with_sql, ran, params = ride("posted AS (SELECT %s::bigint AS entry_id, %s::date AS entry_date)", riders)
    return execute_prepared(f"{with_sql} SELECT {ran}", [entry_id, entry_date, *params])[0][0]


def columns_of(model, alias):
    """`alias.column, ...` for every concrete field of `model`, in field order: the
    select list of a prepared statement whose rows `from_row` reads back."""
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    return ", ".join(f"{alias}.{quote(field.column)}" for field in model._meta.concrete_fields)


def from_row(row, *models):
    """Instances of `models` read off the front of `row` (selected with `columns_of`),
    in order, then the rest of the row."""
    found, at = [], 0
    for model in models:
        fields = model._meta.concrete_fields
        found.append(model.from_db(DEFAULT_DB_ALIAS, [field.attname for field in fields], row[at:at + len(fields)]))
        at += len(fields)
    return *found, *row[at:]


def insert_rider(instance, **from_posted):
    """A rider inserting `instance` (an unsaved model instance; its primary key given
    or left to the database) once the entry is posted. `from_posted` names columns
    whose value is SQL over `posted` (entry_id="posted.entry_id")."""
    connection = connections[DEFAULT_DB_ALIAS]
    with_pk = instance.pk is not None
    sql, fields = _insert_statement(type(instance), with_pk, tuple(sorted(from_posted.items())))
    return sql, [field.get_db_prep_save(field.pre_save(instance, add=True), connection) for field in fields]


@functools.cache
def _insert_statement(model, with_pk, from_posted):
    """`insert_rider`'s SQL for `model`, and the fields whose values it takes, in order.
    Each value is cast to its column's type: a prepared statement cannot infer it from
    an INSERT ... SELECT."""
    connection = connections[DEFAULT_DB_ALIAS]
    from_posted = dict(from_posted)
    columns, values, fields = [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key and not with_pk:
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.column in from_posted:
            values.append(from_posted[field.column])
        else:
            values.append(f"%s::{field.cast_db_type(connection)}")
            fields.append(field)
    sql = (f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({', '.join(columns)}) "  # noqa: S608 names
           f"SELECT {', '.join(values)} FROM posted RETURNING 1")
    return sql, fields


def retrying(operation, *, own_transaction=True, savepoint=True):
    """Run `operation` in its own transaction, retrying deadlocks and serialization
    failures from the top (its reads included, so it must not rely on rows read
    before it). Inside a caller's transaction it runs once, in a savepoint unless the
    operation raises nothing the caller could want to recover from (savepoint=False),
    and the caller, who owns the transaction, retries the whole of it. An operation
    that is one statement (own_transaction=False) needs no transaction of its own:
    the statement is one."""
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.in_atomic_block:
        if not savepoint:
            return operation()
        with transaction.atomic():
            return operation()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            if not own_transaction:
                return operation()
            with transaction.atomic():
                return operation()
        except OperationalError as error:
            sqlstate = getattr(getattr(error, "__cause__", None), "sqlstate", None)
            if sqlstate not in RETRYABLE_SQLSTATES or attempt == MAX_ATTEMPTS:
                raise
            time.sleep(random.uniform(0.002, 0.02) * attempt)
    raise AssertionError("unreachable")


class Job(IntEnum):
    """The jobs that run one at a time, each with its own advisory lock key."""

    AUDIT_SEALER = 7_411_001
    NEFT_CYCLE = 7_411_002
    # One message from the clearing network, by its reference: the same message
    # delivered twice at once is taken once.
    INBOUND_MESSAGE = 7_411_003


def one_at_a_time(job, name=None):
    """Wait until no other transaction runs `job` (a Job), or `job` for `name` when
    one is given, then hold it until this transaction ends: a job that must not
    overlap itself calls this first inside its transaction, and a second run finds
    what the first one left. A PostgreSQL advisory lock (two names that hash alike
    only wait for each other)."""
    connection = connections[DEFAULT_DB_ALIAS]
    if not connection.in_atomic_block:
        raise RuntimeError("one_at_a_time() holds its lock until the transaction ends; call it inside one")
    with connection.cursor() as cursor:
        if name is None:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int(job)])
        else:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [int(job), str(name)])
