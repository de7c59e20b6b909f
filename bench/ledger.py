"""`make bench-ledger`: the posting action against pgbench, on the same PostgreSQL.

In one run it measures:
- internal transfers per second through `post_entry`, with 1 and 8 worker
  processes, among 1,000 funded accounts;
- pgbench's built-in TPC-B-like script with 1 and 8 clients (scale 8);
- reading one account's balance (now and as of a date) and a 100-line statement
  page, for an account with 1,000 postings and one with 1,000,000 postings.

The 8-worker comparison runs in BENCH_ROUNDS rounds (default 3), each measuring
transfers and pgbench back to back, in alternating order. The last line reads
`bench-ledger ratio=<median over the rounds of transfers at 8 / pgbench at 8> target=0.5`.
Timings on a shared machine are noisy and drift: only ratios measured side by side
mean anything. Environment: BENCH_SECONDS (default 15), BENCH_ROUNDS (3),
BENCH_POSTINGS (1000000), BENCH_ADMIN_URL (default
postgres://postgres@127.0.0.1:5432/postgres).
"""

import os
import random
import re
import statistics
import subprocess
import sys
import time
import uuid
from multiprocessing import get_context
from urllib.parse import urlparse

ADMIN_URL = os.environ.get("BENCH_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
BENCH_DB = "cbs_bench"
PGBENCH_DB = "cbs_pgbench"
SECONDS = int(os.environ.get("BENCH_SECONDS", "15"))
BIG = int(os.environ.get("BENCH_POSTINGS", "1000000"))
ACCOUNTS = 1000
WORKERS = 8
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
GROWTH_LIMIT = 2  # the most a read may slow down between 1,000 and BIG postings


def db_url(name):
    parsed = urlparse(ADMIN_URL)
    return parsed._replace(path=f"/{name}").geturl()


def recreate(name):
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def setup_django():
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ["DATABASE_URL"] = db_url(BENCH_DB)
    import django

    django.setup()


def prepare():
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from banking.ledger.actions import Line, post_entry
    from banking.ledger.chart import SHARE_CAPITAL, ensure_standard_chart
    from banking.ledger.models import AccountType, EntryKind, LedgerAccount

    chart = ensure_standard_chart()
    accounts = LedgerAccount.objects.bulk_create(
        LedgerAccount(code=f"2110-B{i:06d}", name=f"Bench {i}", type=AccountType.LIABILITY, normal_side="C",
                      parent=chart["2110"], is_subledger=True)
        for i in range(ACCOUNTS)
    )
    capital = LedgerAccount.objects.get(code=SHARE_CAPITAL)
    for account in accounts:
        post_entry(actor=None, lines=[Line.debit(capital, 10_00_000_00), Line.credit(account, 10_00_000_00)],
                   kind=EntryKind.OPENING, narration="Opening", idempotency_key=uuid.uuid4().hex)
    return [a.pk for a in accounts]


def worker(ids, seconds, start, results):
    setup_django()
    from banking.core.errors import BankingError
    from banking.core.identifiers import new_token
    from banking.ledger.actions import Line, post_entry
    from banking.ledger.models import EntryKind

    rng = random.Random()
    done = refused = 0
    start.wait()
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        source, target = rng.sample(ids, 2)
        try:
            amount = rng.randint(1, 5000_00)
            post_entry(actor=None, lines=[Line.debit(source, amount), Line.credit(target, amount)],
                       kind=EntryKind.TRANSFER, narration="Bench transfer", idempotency_key=new_token())
            done += 1
        except BankingError:
            refused += 1
    results.put((done, refused))


def transfers_per_second(ids, workers):
    ctx = get_context("spawn")
    start = ctx.Event()
    results = ctx.Queue()
    procs = [ctx.Process(target=worker, args=(ids, SECONDS, start, results)) for _ in range(workers)]
    for proc in procs:
        proc.start()
    time.sleep(3)  # let every worker import Django before the clock starts
    start.set()
    totals = [results.get() for _ in procs]
    for proc in procs:
        proc.join()
    done = sum(t[0] for t in totals)
    return done / SECONDS, sum(t[1] for t in totals)


def pgbench(clients):
    # The database as a URI, which libpq takes in place of a name: the embedded
    # server is reached through a socket directory given as `?host=`, not a host and port.
    out = subprocess.run(
        ["pgbench", "-c", str(clients), "-j", str(min(clients, os.cpu_count() or 1)), "-T", str(SECONDS),
         "-n", db_url(PGBENCH_DB)],
        capture_output=True, text=True, check=True,
    ).stdout
    return float(re.search(r"tps = ([0-9.]+)", out).group(1))


def pgbench_init():
    recreate(PGBENCH_DB)
    subprocess.run(["pgbench", "-i", "-q", "-s", str(WORKERS), db_url(PGBENCH_DB)], capture_output=True, check=True)


def load_postings(account_id, count):
    """Give one account `count` postings, set-based (the posting action would take
    hours here). Triggers are bypassed for the load only; the rows are what
    post_entry would have written: balanced pairs with running balances. The
    account's running balances are worked out again over all its postings (the
    throughput runs' included), each signed by the account's normal side."""
    from django.db import connection

    from banking.ledger.chart import SHARE_CAPITAL
    from banking.ledger.models import BusinessDate, LedgerAccount

    capital = LedgerAccount.objects.get(code=SHARE_CAPITAL).pk
    today = BusinessDate.objects.current()
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(
            """
            WITH e AS (
              INSERT INTO ledger_journalentry (business_date, booked_at, kind, narration, channel, reference,
                  idempotency_key, content_hash, total, currency)
              SELECT %s::date - ((%s - g) / 2000)::int, now(), 'transfer', 'Bench history', 'system', '',
                  'bench-' || %s || '-' || g, '', 100, 'INR'
              FROM generate_series(1, %s) g
              RETURNING id, business_date
            )
            INSERT INTO ledger_posting (entry_id, account_id, side, amount, balance_after, business_date)
            SELECT id, %s, 'C', 100, 0, business_date FROM e
            UNION ALL
            SELECT id, %s, 'D', 100, 0, business_date FROM e
            """,
            [today, count, account_id, count, account_id, capital],
        )
        cursor.execute(
            """
            UPDATE ledger_posting p SET balance_after = r.running FROM (
              SELECT q.id, SUM(CASE WHEN q.side = a.normal_side THEN q.amount ELSE -q.amount END)
                           OVER (ORDER BY q.business_date, q.id) AS running
              FROM ledger_posting q JOIN ledger_ledgeraccount a ON a.id = q.account_id
              WHERE q.account_id = %s
            ) r WHERE p.id = r.id AND p.account_id = %s
            """,
            [account_id, account_id],
        )
        cursor.execute(
            "UPDATE ledger_ledgeraccount SET balance = (SELECT balance_after FROM ledger_posting"
            " WHERE account_id = %s ORDER BY business_date DESC, id DESC LIMIT 1) WHERE id = %s",
            [account_id, account_id],
        )
        cursor.execute("SET session_replication_role = DEFAULT")
        cursor.execute("ANALYZE ledger_posting")
        cursor.execute(
            "SELECT a.balance = sum(CASE WHEN p.side = a.normal_side THEN p.amount ELSE -p.amount END)"
            " FROM ledger_ledgeraccount a JOIN ledger_posting p ON p.account_id = a.id WHERE a.id = %s"
            " GROUP BY a.balance", [account_id])
        if not cursor.fetchone()[0]:
            raise RuntimeError("the loaded account's balance is not the sum of its postings")


def time_reads(account_id, repeats=300):
    import datetime

    from banking.ledger.models import BusinessDate, LedgerAccount, Posting
    from banking.ledger.queries import statement

    today = BusinessDate.objects.current()
    first = Posting.objects.filter(account_id=account_id).order_by("business_date", "id").first()
    start = first.business_date if first else today
    middle_date = start + (today - start) / 2
    samples = {"balance": [], "balance_as_of": [], "statement_page": []}
    for _ in range(repeats):
        t = time.perf_counter()
        assert LedgerAccount.objects.only("spendable", "held").get(pk=account_id).available >= 0
        samples["balance"].append(time.perf_counter() - t)
        t = time.perf_counter()
        LedgerAccount(pk=account_id).balance_as_of(middle_date)
        samples["balance_as_of"].append(time.perf_counter() - t)
        t = time.perf_counter()
        page = statement(LedgerAccount.objects.get(pk=account_id), middle_date,
                         middle_date + datetime.timedelta(days=30), limit=100)
        assert len(page.lines) == 100, "a statement page of the loaded history holds 100 lines"
        samples["statement_page"].append(time.perf_counter() - t)
    return {name: statistics.median(values) * 1000 for name, values in samples.items()}


def main():
    print(f"bench-ledger: {SECONDS}s per measurement, {ACCOUNTS} accounts, {WORKERS} workers, {os.cpu_count()} cores")
    recreate(BENCH_DB)
    setup_django()
    ids = prepare()
    from django.db import connection, connections

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # as after any bulk load (pgbench -i does the same)
    connections.close_all()

    pgbench_init()
    one, _ = transfers_per_second(ids, 1)
    pg_one = pgbench(1)
    print(f"1 worker:   transfers/s through post_entry {one:8.1f}   pgbench TPC-B-like tps {pg_one:8.1f}"
          f"   ratio {one / pg_one:.3f}")
    # The machine's speed drifts from minute to minute: each round measures both
    # sides back to back (in alternating order) and the rounds' median ratio counts.
    ratios = []
    for n in range(ROUNDS):
        if n % 2:
            pg_eight = pgbench(WORKERS)
            eight, refused = transfers_per_second(ids, WORKERS)
        else:
            eight, refused = transfers_per_second(ids, WORKERS)
            pg_eight = pgbench(WORKERS)
        ratios.append(eight / pg_eight)
        print(f"{WORKERS} workers, round {n + 1}: transfers/s {eight:8.1f} (refused for funds: {refused})"
              f"   pgbench tps {pg_eight:8.1f}   ratio {eight / pg_eight:.3f}")
    ratio = statistics.median(ratios)

    small, big = ids[0], ids[1]
    load_postings(small, 1000)
    load_postings(big, BIG)
    small_t, big_t = time_reads(small), time_reads(big)
    for name in small_t:
        print(f"{name:>15}: {small_t[name]:6.2f} ms with 1,000 postings   {big_t[name]:6.2f} ms with {BIG:,} postings"
              f"   growth x{big_t[name] / small_t[name]:.2f}")
    balance_met = big_t["balance"] < 5 and big_t["balance_as_of"] < 5
    # "Not growing": a thousand times the postings may not double any read's time
    # (on this machine a read's time moves by a quarter from minute to minute).
    flat = all(big_t[name] < GROWTH_LIMIT * small_t[name] for name in small_t)
    print(f"read targets: balance < 5 ms ({'met' if balance_met else 'MISSED'}),"
          f" 100-line statement page < 20 ms ({'met' if big_t['statement_page'] < 20 else 'MISSED'}),"
          f" not growing with the postings, each read under x{GROWTH_LIMIT} ({'met' if flat else 'MISSED'})")
    connections.close_all()
    print(f"bench-ledger ratio={ratio:.3f} target=0.5")


if __name__ == "__main__":
    sys.exit(main())
