import psycopg.errors
import pytest
from django.db import DEFAULT_DB_ALIAS, DataError, OperationalError, connection, connections, transaction

from banking.core.db import Job, execute_prepared, one_at_a_time, retrying


def _cursor():
    return connections[DEFAULT_DB_ALIAS].__dict__.get("cbs_prepared_cursor")


@pytest.mark.django_db(transaction=True)
def test_statements_share_one_cursor_per_connection_and_survive_errors_and_reconnects():
    assert execute_prepared("SELECT %s::int + 1, %s::text", [41, "₹"]) == [(42, "₹")]
    first = _cursor()
    assert first is not None
    assert execute_prepared("SELECT %s::int * 2", [21]) == [(42,)]
    assert _cursor() is first
    assert execute_prepared("CREATE TEMPORARY TABLE cbs_scratch (n int)", []) is None

    with pytest.raises(DataError), transaction.atomic():  # comes out as Django's error
        execute_prepared("SELECT 1 / %s::int", [0])
    assert execute_prepared("SELECT %s::int", [7]) == [(7,)]
    assert _cursor() is first

    connection.close()
    assert execute_prepared("SELECT %s::int", [8]) == [(8,)]
    assert _cursor() is not first and _cursor().connection is connection.connection


@pytest.mark.django_db(transaction=True)
def test_a_job_is_held_until_its_transaction_ends_and_only_inside_one():
    def held_elsewhere(*key):
        # A second connection: try the job's lock without waiting.
        other = connection.copy()
        try:
            with other.cursor() as cursor:
                if len(key) == 1:
                    cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", key)
                else:
                    cursor.execute("SELECT pg_try_advisory_xact_lock(%s, hashtext(%s))", key)
                return not cursor.fetchone()[0]
        finally:
            other.close()

    with pytest.raises(RuntimeError, match="inside one"):
        one_at_a_time(Job.NEFT_CYCLE)
    with transaction.atomic():
        one_at_a_time(Job.NEFT_CYCLE)
        one_at_a_time(Job.INBOUND_MESSAGE, "inward-IMPS-633112345678")
        assert held_elsewhere(int(Job.NEFT_CYCLE))
        assert held_elsewhere(int(Job.INBOUND_MESSAGE), "inward-IMPS-633112345678")
        assert not held_elsewhere(int(Job.INBOUND_MESSAGE), "inward-IMPS-633112345679")
        assert not held_elsewhere(int(Job.AUDIT_SEALER))
    assert not held_elsewhere(int(Job.NEFT_CYCLE))
    assert not held_elsewhere(int(Job.INBOUND_MESSAGE), "inward-IMPS-633112345678")


def _failing(sqlstate, times):
    """An operation that fails its first `times` calls as PostgreSQL fails a
    transaction with `sqlstate`, then answers how many calls it took."""
    calls = []

    def operation():
        calls.append(connection.in_atomic_block)
        if len(calls) <= times:
            with connection.wrap_database_errors:
                raise psycopg.errors.lookup(sqlstate)("failed on purpose")
        return len(calls)

    return operation, calls


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("sqlstate", ["40P01", "40001"])  # deadlock, serialization failure
def test_retrying_runs_a_deadlocked_operation_again_in_a_transaction_of_its_own(sqlstate):
    operation, calls = _failing(sqlstate, 2)
    assert retrying(operation) == 3
    assert calls == [True, True, True]


@pytest.mark.django_db(transaction=True)
def test_retrying_gives_up_on_other_errors_and_after_its_attempts():
    operation, calls = _failing("57014", 1)  # query cancelled: not the caller's to retry
    with pytest.raises(OperationalError):
        retrying(operation)
    assert len(calls) == 1
    operation, calls = _failing("40P01", 100)
    with pytest.raises(OperationalError):
        retrying(operation)
    assert len(calls) == 8


@pytest.mark.django_db(transaction=True)
def test_inside_a_callers_transaction_retrying_runs_once_and_leaves_the_retry_to_the_caller():
    operation, calls = _failing("40P01", 1)
    with pytest.raises(OperationalError), transaction.atomic():
        retrying(operation)
    assert len(calls) == 1
