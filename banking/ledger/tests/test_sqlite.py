"""The posting path a developer's machine takes: SQLite (make run), not PostgreSQL."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

SCRIPT = """
from banking.core.errors import InsufficientFunds, IdempotencyConflict, AlreadyReversed
from banking.ledger.actions import reverse_entry
from banking.ledger.models import LedgerAccount, Posting
from banking.ledger.queries import latest_postings, trial_balance
from banking.ledger.tests.helpers import customer_account, transfer
a, b = customer_account(10_000), customer_account(0)
e = transfer(a, b, 4_000, idempotency_key="k1")
assert transfer(a, b, 4_000, idempotency_key="k1").pk == e.pk
for bad, error in [(lambda: transfer(a, b, 6_001), InsufficientFunds),
                   (lambda: transfer(a, b, 5, idempotency_key="k1"), IdempotencyConflict)]:
    try:
        bad()
    except error:
        pass
    else:
        raise SystemExit("not refused")
a.refresh_from_db(); b.refresh_from_db()
assert (a.balance, b.balance) == (6_000, 4_000), (a.balance, b.balance)
r = reverse_entry(actor=None, entry=e, idempotency_key="r1")
try:
    reverse_entry(actor=None, entry=e, idempotency_key="r2")
except AlreadyReversed:
    pass
a.refresh_from_db()
assert a.balance == 10_000
assert [p.balance_after for p in Posting.objects.filter(account=a).order_by("id")] == [10_000, 6_000, 10_000]
assert trial_balance().difference == 0
latest = latest_postings([a.pk, b.pk], 2)
assert [p.balance_after for p in latest[a.pk]] == [10_000, 6_000] and len(latest[b.pk]) == 2
print("SQLITE-OK")
"""


def test_posting_on_sqlite(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.local", DATABASE_URL=f"sqlite:///{tmp_path / 'cbs.sqlite3'}")
    migrate = subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=300)
    assert migrate.returncode == 0, migrate.stderr
    run = subprocess.run([sys.executable, "manage.py", "shell", "-c", SCRIPT], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    assert "SQLITE-OK" in run.stdout, run.stdout + run.stderr
