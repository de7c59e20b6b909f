"""The posting action's common case in one statement: `cbs_post_entry`.

`actions.post_entry` on PostgreSQL calls this function once per entry instead of
locking, reading and writing in separate round trips, which is what kept the ledger
at a third of pgbench's TPC-B rate (see bench.py). It does what the step-by-step
path in actions.py does, in the same order:

1. locks the entry's ledger accounts FOR UPDATE in ascending id order;
2. returns 'exists' with the entry's id and content hash when the idempotency key
   was already used (actions.py tells a retry from a conflict);
3. returns 'refused' when any rule would refuse the entry: a missing or header
   account, another currency, a closed or frozen account, a debit on a
   debit-frozen one, or an available balance taken below its minimum. It writes
   nothing then, and actions.py posts through the step-by-step path, which says
   why in the teller's words or, when expired holds are all that stand in the way,
   releases them and posts;
4. writes the entry, its postings with the balance after each (in line order), the
   accounts' new balances and versions, and the audit event, and returns 'posted'.

The audit event's content hash covers its object id, the entry's id, which only
exists here: actions.py sends the canonical JSON the hash is taken over, with a
placeholder for the id (a NUL character, which JSON always escapes, so it cannot
come from any text), and the function puts the id in and hashes it. verify_audit
recomputes the same hash from the stored row.

The function's source now lives in banking/ledger/sql/post_entry.sql, where it is
the ledger's one posting engine (migration 0010); this migration installs that file
as it is when the migration runs.
"""

from pathlib import Path

from django.db import migrations

POST_ENTRY = Path(__file__).resolve().parents[1] / "sql" / "post_entry.sql"


def forward(apps, schema_editor):
    schema_editor.execute(POST_ENTRY.read_text(), params=None)


def backward(apps, schema_editor):
    schema_editor.execute("DROP FUNCTION IF EXISTS cbs_post_entry", params=None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0004_leaner_indexes"), ("audit", "0002_append_only_triggers")]
    operations = [migrations.RunPython(forward, backward, elidable=False)]
