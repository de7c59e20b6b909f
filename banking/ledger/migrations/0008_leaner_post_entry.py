"""`cbs_post_entry` with less to set up per call: the same decisions, less work.

The function of migration 0005 ran three sub-queries in its first statement besides
locking the accounts: two looked the idempotency key up (one for the id, one for the
content hash) and one counted the distinct accounts of the lines. Its four arrays
were each aggregated in a sort of their own. Setting those up on every call was a
measurable share of the database's time per entry.

- The key is now looked up once, by the entry's own insert: `ON CONFLICT
  (idempotency_key) DO NOTHING` writes nothing when the key was used, and the
  function then returns 'exists' with that entry's id and content hash, as before.
  A key reused when the accounts would now refuse the entry comes back 'refused'
  instead, and the step-by-step path in actions.py finds the first entry under its
  own locks and returns it (or raises IdempotencyConflict), as it does for any key.
- The distinct accounts of the usual two lines are counted without a query.
- The arrays are aggregated without sorts: they come from one pass over the same
  rows, so their positions agree, and the accounts are still locked in id order.
- Each posting's balance after it is worked out in a loop over the lines, not by a
  window function over a join of the lines with the accounts; the accounts' new
  balances are where that loop ends.

Everything else is unchanged: the locks and their order, the rules, the rows
written and the audit event's hash.

The function's source now lives in banking/ledger/sql/post_entry.sql (migration
0010); this migration installs that file as it is when the migration runs.
"""

from pathlib import Path

from django.db import migrations

POST_ENTRY = Path(__file__).resolve().parents[1] / "sql" / "post_entry.sql"


def forward(apps, schema_editor):
    schema_editor.execute(POST_ENTRY.read_text(), params=None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0007_room_for_balance_updates")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop, elidable=False)]
