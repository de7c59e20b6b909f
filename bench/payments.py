"""`make bench-payments`: a NEFT cycle of 50,000 outward payments, settled and
reconciled, against a plain set-based SQL pass over the same rows.

In one run, in a database of its own (`cbs_bench_payments`), it:
- loads BENCH_PAYMENTS (default 50,000) outward NEFT payments in the sent state,
  set-based, with one aggregated debit entry (share capital → NEFT outward clearing)
  so that the ledger balances as if each customer had been debited;
- (a) times `settle_neft_batch` over them (the claim, the network's answers, the
  cycle's entry, the status UPDATE and events, the settlement file, the audit), and
  a plain pass over the same rows: one UPDATE ... SET status = 'settled' whose
  RETURNING feeds an INSERT ... SELECT of their events. The plain pass runs first
  and is undone (not timed) before the real one;
- (b) times `reconcile_file` over the 50,000-line settlement file the cycle
  produced, and a plain pass: COPY the file into a temporary table and one FULL
  OUTER JOIN against the cycle's payments that finds the matches and mismatches.
  Each side runs BENCH_REPEATS times (default 3); the best time of each counts.

It prints each time and ratio; the last line reads
`bench-payments ratio=<worst of the two> target=5`. Timings on a shared machine are
noisy: only ratios measured in the same run mean anything. Environment:
BENCH_PAYMENTS, BENCH_REPEATS, BENCH_ADMIN_URL (postgres://postgres@127.0.0.1:5432/postgres).
"""

import os
import sys
import time
from urllib.parse import urlparse

ADMIN_URL = os.environ.get("BENCH_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
BENCH_DB = "cbs_bench_payments"
PAYMENTS = int(os.environ.get("BENCH_PAYMENTS", "50000"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))
TARGET = 5


def db_url(name):
    return urlparse(ADMIN_URL)._replace(path=f"/{name}").geturl()


def recreate_database():
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')


def setup_django():
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ["DATABASE_URL"] = db_url(BENCH_DB)
    import django

    django.setup()


def load(count):
    """`count` sent NEFT payments, set-based, and the entry that debited them."""
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.db.models import Sum
    from django.utils import timezone

    from banking.ledger.actions import Line, post_entry
    from banking.ledger.chart import CLEARING, SHARE_CAPITAL, ensure_standard_chart
    from banking.ledger.models import BusinessDate, EntryKind, LedgerAccount
    from banking.payments.models import Payment
    from bench.teller import insert_series

    call_command("migrate", verbosity=0)
    ensure_standard_chart()
    today = BusinessDate.objects.get_or_create(pk=1, defaults={"date": timezone.localdate()})[0].date
    now = timezone.now()
    utr = f"{settings.CBS_IFSC_PREFIX}N{today:%y}{today.timetuple().tm_yday:03d}"
    with transaction.atomic():
        # Amounts from ₹10.01 to about ₹10,000; account numbers end in 1, so the
        # simulator settles every one (its returns are for endings 000, 004, 006).
        insert_series(Payment, count, {
            "number": ("%s || lpad(g::text, 8, '0')", [f"PAYB{today:%y%m%d}"]),
            "direction": ("%s", ["outward"]), "rail": ("%s", ["NEFT"]), "origin": ("%s", ["internet"]),
            "status": ("%s", ["sent"]), "amount": "1001 + (g * 7919) %% 999000",
            "reference": ("%s || lpad(g::text, 6, '0')", [utr]),
            "idempotency_key": "'bench-' || g", "business_date": ("%s", [today]),
            "beneficiary_name": "'Beneficiary ' || g", "beneficiary_account": "'5010' || lpad(g::text, 7, '0') || '1'",
            "beneficiary_ifsc": "'HDFC0001234'", "remitter_name": "'Remitter ' || g",
            "remitter_ifsc": "'CBSB0000001'", "initiated_at": ("%s", [now]), "sent_at": ("%s", [now]),
            "debited_at": ("%s", [now]), "updated_at": ("%s", [now]),
        })
        total = Payment.objects.aggregate(total=Sum("amount"))["total"]
        post_entry(actor=None, lines=[Line.debit(LedgerAccount.objects.get(code=SHARE_CAPITAL), total),
                                      Line.credit(LedgerAccount.objects.get(code=CLEARING["NEFT"][0]), total)],
                   kind=EntryKind.PAYMENT, narration=f"{count} NEFT payments debited (bench load)",
                   idempotency_key="bench-payments-debit")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return total


def plain_settle():
    """The plain pass of (a): returns its time; its work is undone untimed."""
    from django.db import connection, transaction

    from banking.payments.models import Payment, PaymentEvent

    payments, events = Payment._meta.db_table, PaymentEvent._meta.db_table
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"WITH settled AS (UPDATE {payments} SET status = 'settled', settled_at = now(), updated_at = now() "  # noqa: S608
            f"WHERE rail = 'NEFT' AND direction = 'outward' AND status = 'sent' AND batch_id IS NULL RETURNING id) "
            f"INSERT INTO {events} (payment_id, status, at, note) SELECT id, 'settled', now(), 'settled' FROM settled")
    elapsed = time.perf_counter() - started
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {events}")  # noqa: S608
        cursor.execute(f"UPDATE {payments} SET status = 'sent', settled_at = NULL")  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {payments}")
        cursor.execute(f"VACUUM ANALYZE {events}")
    return elapsed


def real_settle():
    from banking.payments.batches import settle_neft_batch

    started = time.perf_counter()
    batch = settle_neft_batch(actor=None)
    return time.perf_counter() - started, batch


def plain_reconcile(batch):
    """The plain pass of (b): COPY the file into a temporary table, one FULL OUTER JOIN."""
    from django.db import connection, transaction

    from banking.payments.models import Payment

    payments = Payment._meta.db_table
    content = batch.settlement_file.content
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE settlement_lines (utr text, settlement_date date, cycle int, "
                       "sender_ifsc text, beneficiary_ifsc text, beneficiary_account text, amount numeric(15, 2), "
                       "status text, return_code text) ON COMMIT DROP")
        with cursor.cursor.copy("COPY settlement_lines FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
            copy.write(content)
        cursor.execute(
            f"SELECT count(*) FILTER (WHERE ours.id IS NOT NULL AND theirs.utr IS NOT NULL "  # noqa: S608
            f"  AND ours.amount = theirs.amount * 100 AND (ours.status = 'settled') = (theirs.status = 'SETTLED')), "
            f"count(*) FILTER (WHERE ours.id IS NULL OR theirs.utr IS NULL "
            f"  OR ours.amount <> theirs.amount * 100 OR (ours.status = 'settled') <> (theirs.status = 'SETTLED')) "
            f"FROM settlement_lines theirs FULL OUTER JOIN (SELECT id, reference, amount, status FROM {payments} "
            f"WHERE batch_id = %s) ours ON ours.reference = theirs.utr", [batch.pk])
        matched, exceptions = cursor.fetchone()
    return time.perf_counter() - started, matched, exceptions


def real_reconcile(batch):
    from banking.payments.reconciliation import reconcile_file

    started = time.perf_counter()
    reconciliation = reconcile_file(actor=None, settlement_file=batch.settlement_file)
    return time.perf_counter() - started, reconciliation


def main():
    print(f"bench-payments: {PAYMENTS:,} outward NEFT payments, {os.cpu_count()} cores")
    recreate_database()
    setup_django()
    from django.db import connections

    from banking.core.money import format_money

    started = time.perf_counter()
    total = load(PAYMENTS)
    print(f"loaded {PAYMENTS:,} sent payments ({format_money(total)}) in {time.perf_counter() - started:.1f}s")

    plain_a = plain_settle()
    real_a, batch = real_settle()
    assert batch.settled_count == PAYMENTS, batch.settled_count
    ratio_a = real_a / plain_a
    print(f"(a) settle the NEFT cycle:   settle_neft_batch {real_a:7.3f}s   plain SQL {plain_a:7.3f}s   "
          f"ratio {ratio_a:.2f}")

    plain_b, real_b = [], []
    for _ in range(REPEATS):
        elapsed, matched, exceptions = plain_reconcile(batch)
        assert (matched, exceptions) == (PAYMENTS, 0), (matched, exceptions)
        plain_b.append(elapsed)
        elapsed, reconciliation = real_reconcile(batch)
        assert (reconciliation.matched, reconciliation.exceptions) == (PAYMENTS, 0)
        real_b.append(elapsed)
    ratio_b = min(real_b) / min(plain_b)
    print(f"(b) reconcile its file:      reconcile_file    {min(real_b):7.3f}s   plain SQL {min(plain_b):7.3f}s   "
          f"ratio {ratio_b:.2f}   (best of {REPEATS})")
    connections.close_all()
    print(f"bench-payments ratio={max(ratio_a, ratio_b):.2f} target={TARGET}")


if __name__ == "__main__":
    sys.exit(main())
