"""`cbs_counter_cash` looks the form's token up with a plan made for the table as it is.

PL/pgSQL keeps the plan of each statement for the life of the connection. The
function's check that the form's token is new (`EXISTS (SELECT FROM
teller_countertransaction t WHERE t.idempotency_key = p_key)`) was planned once per
connection; a connection opened while the table was small (a new bank, a new
database) kept a sequential scan, and every deposit then read every counter
transaction so far. `make bench-teller`, which starts from an empty table, showed
it: its deposits slowed from round to round, and `pg_stat_user_tables` counted
12,444 sequential scans of the table reading 76 million rows in one run.

The check now runs through EXECUTE, which plans it for each call with the token and
the table's size at that moment: an index look-up on the unique key once the table
has more than a few pages. Planning it costs a few tens of microseconds. Everything
else is unchanged; the till's day is read in the same statement as before, and
EXECUTE, being a statement of its own, sees what committed while the call waited
for the till, as the combined SELECT did.
"""

import importlib

from django.db import migrations

previous = importlib.import_module("banking.teller.migrations.0004_counter_cash_function")

OLD = """    SELECT (SELECT d.status FROM teller_tillday d WHERE d.till_id = p_till AND d.business_date = txn_date),
           EXISTS (SELECT FROM teller_countertransaction t WHERE t.idempotency_key = p_key)
      INTO v_day, v_key_used;
"""
NEW = """    SELECT d.status INTO v_day FROM teller_tillday d WHERE d.till_id = p_till AND d.business_date = txn_date;
    EXECUTE 'SELECT EXISTS (SELECT FROM teller_countertransaction t WHERE t.idempotency_key = $1)'
       INTO v_key_used USING p_key;
"""
if previous.COUNTER_CASH.count(OLD) != 1:
    raise RuntimeError("cbs_counter_cash of migration 0004 no longer holds the statement this migration replaces")
COUNTER_CASH = previous.COUNTER_CASH.replace(OLD, NEW)


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(COUNTER_CASH, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(previous.COUNTER_CASH, params=None)


class Migration(migrations.Migration):
    dependencies = [("teller", "0004_counter_cash_function")]
    operations = [migrations.RunPython(forward, backward, elidable=False)]
