import pytest
from django.db import DEFAULT_DB_ALIAS, DataError, connection, connections, transaction

from banking.core.db import Job, execute_prepared, one_at_a_time

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's")


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
