"""The hot statements: converted once per process, prepared once per connection."""

import pytest
from psycopg._queries import _query2pg

from banking.core.db import execute_prepared

pytestmark = pytest.mark.django_db


def test_a_long_statement_with_many_parameters_is_converted_once():
    # Longer than 4 kB and with more than 50 parameters: psycopg's own cursor would
    # convert it again on every call.
    columns = ", ".join(f"%s::int AS c{i}" for i in range(60))
    sql = f"SELECT {columns} /* {'x' * 4096} */"
    assert execute_prepared(sql, list(range(60))) == [tuple(range(60))]
    before = _query2pg.cache_info()
    assert execute_prepared(sql, list(range(1, 61))) == [tuple(range(1, 61))]
    after = _query2pg.cache_info()
    assert (after.hits - before.hits, after.misses - before.misses) == (1, 0)
