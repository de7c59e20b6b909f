"""`make bench-teller`: the counter's screens under load, served the way production serves them.

In one run it:
- creates a dedicated database (`cbs_bench_teller`), migrates it and loads, set-based,
  100,000 verified customers with a savings account each (their sub-ledgers under
  2110) and 1,000,000 postings of history (500,000 entries, five credits per account
  against the RBI settlement GL, over the past 100 business dates);
- opens a branch's vault and 8 tellers' tills through the teller actions, and gives
  each teller a signed-in session (MFA passed) and a CSRF token;
- serves the app with gunicorn (sync workers, 2 × cores + 1, persistent database
  connections) on 127.0.0.1;
- drives 8 concurrent HTTP clients (threads with http.client, one per teller,
  loopback only), one endpoint at a time: a trivial view of the same app (/healthz,
  carrying the session cookie so it passes the same middleware), the account look-up
  fragment (a random account of the 100,000), and posting a cash deposit (a fresh
  idempotency token each time, made as the deposit form makes it);
- gives each endpoint BENCH_SECONDS (default 15) or BENCH_REQUESTS per client
  (default 2,000) a round, whichever comes first, in BENCH_SLICES slices (default 5)
  interleaved with the other endpoints' (T L D, D L T, T L D ...), each slice after
  a short warm-up: the machine's speed drifts from minute to minute, and interleaving
  puts every endpoint's samples in the same stretch of time;
- prints p50 and p95 of each and their ratio to the trivial view's p95;
- does all of it in BENCH_ROUNDS rounds (default 3), printing each round's figures
  so that the spread shows.

The last line reads `bench-teller ratio=<worst p95 ÷ trivial p95> target=3`, each p95
over every sample of the run (all rounds). Timings on a shared machine are noisy: only ratios measured side by
side mean anything. Environment: BENCH_SECONDS, BENCH_REQUESTS, BENCH_SLICES, BENCH_ROUNDS,
BENCH_ACCOUNTS (100000), BENCH_POSTINGS (1000000), BENCH_ADMIN_URL
(postgres://postgres@127.0.0.1:5432/postgres).
The load bypasses the ledger's triggers (session_replication_role = replica, as
bench-ledger does) and writes rows exactly as the actions would.
"""

import http.client
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode, urlparse

from banking.core.identifiers import new_token

ADMIN_URL = os.environ.get("BENCH_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
BENCH_DB = "cbs_bench_teller"
SECONDS = float(os.environ.get("BENCH_SECONDS", "15"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "2000"))
ACCOUNTS = int(os.environ.get("BENCH_ACCOUNTS", "100000"))
POSTINGS = int(os.environ.get("BENCH_POSTINGS", "1000000"))
CLIENTS = 8
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
SLICES = int(os.environ.get("BENCH_SLICES", "5"))
TRIVIAL = "trivial view (/healthz)"
WARMUP = 0.5  # seconds of each slice whose samples are dropped
ROOT = Path(__file__).resolve().parents[1]
BRANCH_CODE = "000777"


def db_url(name):
    return urlparse(ADMIN_URL)._replace(path=f"/{name}").geturl()


def server_env():
    """The app as production runs it, minus TLS: DEBUG off, MFA required, persistent
    database connections. The local settings take all of it from the environment."""
    env = dict(os.environ)
    env.update({
        "DJANGO_SETTINGS_MODULE": "config.settings.local", "DATABASE_URL": db_url(BENCH_DB), "DEBUG": "0",
        "CBS_REQUIRE_STAFF_MFA": "1", "DB_CONN_MAX_AGE": "600", "LOG_LEVEL": "WARNING",
        # WhiteNoise warns that collectstatic has not run; the bench serves no static files.
        "PYTHONWARNINGS": "ignore:No directory at",
    })
    return env


def recreate_database():
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')


def setup_django():
    os.environ.update(server_env())
    import django

    django.setup()


# -- loading ------------------------------------------------------------------------------


def insert_series(model, count, expressions):
    """INSERT `count` rows into `model`'s table in one statement over generate_series
    (g = 1..count). `expressions` maps a column to SQL over g, or to (SQL, [parameters]);
    every other column gets its model default, as a Django save would. Columns the
    model does not have are left out, so the load follows the models as they change."""
    from django.db import connection

    columns, values, args = [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(field.column)
        given = expressions.get(field.column)
        if given is not None:
            sql, params = given if isinstance(given, tuple) else (given, [])
            values.append(sql)
            args += params
        else:
            default = field.get_default()  # "" for text, None where null is allowed
            if default is None and not field.null:
                raise ValueError(f"{model.__name__}.{field.name} needs a value")
            values.append("%s")
            args.append(field.get_db_prep_save(default, connection))
    sql = (f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "  # noqa: S608 names come from the model
           f"SELECT {', '.join(values)} FROM generate_series(1, %s) AS g")
    with connection.cursor() as cursor:
        cursor.execute(sql, [*args, count])


def load(accounts=ACCOUNTS, postings=POSTINGS):
    """The bank's history, set-based. Returns (branch, tellers, account numbers)."""
    import datetime

    from django.db import connection, transaction
    from django.utils import timezone

    from banking.approvals.actions import approve_request
    from banking.core.identifiers import with_check_digit
    from banking.customers.models import Customer
    from banking.deposits.models import DepositAccount, Product
    from banking.ledger.chart import RBI_SETTLEMENT, ensure_standard_chart
    from banking.ledger.models import BusinessDate, LedgerAccount
    from banking.teller.actions import fund_vault, open_till, request_cash_from_vault
    from banking.teller.denominations import Denominations
    from banking.users.models import Branch, StaffProfile, User
    from banking.users.roles import Role, sync_roles

    started = time.perf_counter()
    sync_roles()
    today = BusinessDate.objects.get_or_create(pk=1, defaults={"date": timezone.localdate()})[0].date
    branch = Branch.objects.create(code=BRANCH_CODE, name="Bench Branch, Pune", ifsc=f"CBSB0{BRANCH_CODE}",
                                   address="1 Bench Road", city="Pune", state="Maharashtra", pincode="411001")
    chart = ensure_standard_chart([(branch.code, branch.name)])

    def staff(username, role, employee_id, limit=0):
        from django.contrib.auth.models import Group

        user = User.objects.create_user(username=username, password=uuid.uuid4().hex, first_name=username.title())
        user.groups.add(Group.objects.get(name=role))
        StaffProfile.objects.create(user=user, employee_id=employee_id, branch=branch, approval_limit=limit)
        return user

    supervisor = staff("bench.supervisor", Role.SUPERVISOR, "B9000", limit=10_00_00_000_00)
    tellers = [staff(f"bench.teller{i}", Role.TELLER, f"B{i:04d}") for i in range(1, CLIENTS + 1)]

    # History: `postings` postings, half on customers' accounts (each account's own
    # running balance) and half on the RBI settlement GL.
    entries = postings // 2
    amount = 1_000_00

    # Customers, their savings accounts and sub-ledgers, in three statements. Each
    # sub-ledger is inserted with the balance its history (below) leaves it, as years
    # of postings would: updating every row afterwards would leave a table half dead
    # space, which a bank's table, updated in place a page at a time, is not.
    numbers = [with_check_digit(f"{BRANCH_CODE}10{i:06d}") for i in range(1, accounts + 1)]
    cifs = [with_check_digit(f"{700_000_000 + i:09d}") for i in range(1, accounts + 1)]
    savings = Product.objects.get(code="SB")
    now = timezone.now()
    with transaction.atomic():
        insert_series(Customer, accounts, {
            "cif": ("(%s::text[])[g]", [cifs]), "first_name": "'Bench'", "last_name": "'Customer ' || g",
            "date_of_birth": "DATE '1985-01-01' + (g %% 9000)", "mobile": "'98' || lpad(g::text, 8, '0')",
            "home_branch_id": ("%s", [branch.pk]), "created_by_id": ("%s", [supervisor.pk]),
            "kyc_status": "'verified'", "kyc_verified_at": ("%s", [now]),
            "rekyc_due_on": ("%s", [today + datetime.timedelta(days=3650)]), "declared_at": ("%s", [now]),
        })
        first_customer = Customer.objects.order_by("pk").values_list("pk", flat=True).first() - 1
        insert_series(LedgerAccount, accounts, {
            "code": ("'2110-' || (%s::text[])[g]", [numbers]), "name": "'SB Bench Customer ' || g",
            "type": "'liability'", "normal_side": "'C'", "parent_id": ("%s", [chart["2110"].pk]),
            "is_subledger": "TRUE", "branch_code": ("%s", [branch.code]), "enforce_balance": "TRUE",
            # Account g gets the history's credits number g, g + accounts, g + 2 × accounts ...
            "balance": ("%s * (%s / %s + (g <= %s %% %s)::int)", [amount, entries, accounts, entries, accounts]),
        })
        first_ledger = LedgerAccount.objects.filter(code=f"2110-{numbers[0]}").values_list("pk", flat=True).get() - 1
        insert_series(DepositAccount, accounts, {
            "number": ("(%s::text[])[g]", [numbers]), "product_id": ("%s", [savings.pk]),
            "customer_id": ("%s + g", [first_customer]), "branch_id": ("%s", [branch.pk]), "status": "'active'",
            "ledger_account_id": ("%s + g", [first_ledger]),
            "opened_on": ("%s", [today - datetime.timedelta(days=120)]), "created_by_id": ("%s", [supervisor.pk]),
        })

    rbi = LedgerAccount.objects.get(code=RBI_SETTLEMENT).pk
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(
            """
            WITH e AS (
              INSERT INTO ledger_journalentry (business_date, booked_at, kind, narration, channel, reference,
                  idempotency_key, content_hash, total, currency)
              SELECT %(today)s::date - 100 + (g * 100 / %(entries)s)::int, now(), 'transfer', 'Bench history',
                  'system', '', 'bench-history-' || g, '', %(amount)s, 'INR'
              FROM generate_series(1, %(entries)s) g
              RETURNING id, business_date
            ), numbered AS (
              SELECT id, business_date, row_number() OVER (ORDER BY id) AS n FROM e
            )
            INSERT INTO ledger_posting (entry_id, account_id, side, amount, balance_after, business_date)
            SELECT id, %(first_ledger)s + 1 + ((n - 1) %% %(accounts)s), 'C', %(amount)s,
                   %(amount)s * ((n - 1) / %(accounts)s + 1), business_date FROM numbered
            UNION ALL
            SELECT id, %(rbi)s, 'D', %(amount)s, %(amount)s * n, business_date FROM numbered
            """,
            {"today": today, "entries": entries, "amount": amount, "first_ledger": first_ledger,
             "accounts": accounts, "rbi": rbi},
        )
        cursor.execute("UPDATE ledger_ledgeraccount SET balance = %s WHERE id = %s", [amount * entries, rbi])
        # Every balance is its last posting's running balance, as the posting action leaves it.
        cursor.execute(
            "SELECT count(*) FROM ledger_ledgeraccount a JOIN ("
            " SELECT account_id, max(balance_after) AS balance FROM ledger_posting GROUP BY account_id) p"
            " ON p.account_id = a.id WHERE a.balance <> p.balance"
        )
        if cursor.fetchone()[0]:
            raise RuntimeError("the loaded balances do not match their postings' running balances")
    # A bank's database is vacuumed and checkpointed; without this, autovacuum and
    # the checkpointer work through the fresh million rows during the timed runs.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("CHECKPOINT")
    loaded = time.perf_counter() - started

    # The branch's cash, through the actions: a funded vault, eight open tills.
    fund_vault(actor=None, branch=branch, counts=Denominations(n500=200_000, n200=50_000, n100=100_000),
               idempotency_key="bench-vault")
    issued = Denominations(n500=2_000, n200=1_000, n100=2_000)
    for teller in tellers:
        approve_request(actor=supervisor, request_id=request_cash_from_vault(actor=teller, counts=issued).pk)
        open_till(actor=teller, counted=issued)
    print(f"loaded {accounts:,} customers and accounts and {entries * 2:,} postings in {loaded:.0f}s")
    return branch, tellers, numbers


def sessions(tellers):
    """A signed-in session (MFA passed) and a CSRF secret for each teller."""
    import time as clock

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.middleware.csrf import _get_new_csrf_string

    from portals.middleware import MFA_OK_KEY, SESSION_AUTH_AT, SESSION_LAST_SEEN

    result = []
    for teller in tellers:
        store = SessionStore()
        store[SESSION_KEY] = str(teller.pk)
        store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        store[HASH_SESSION_KEY] = teller.get_session_auth_hash()
        store[SESSION_AUTH_AT] = store[SESSION_LAST_SEEN] = int(clock.time())
        store[MFA_OK_KEY] = True
        store.create()
        result.append((store.session_key, _get_new_csrf_string()))
    return result


# -- serving and driving ------------------------------------------------------------------------


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(port):
    workers = 2 * (os.cpu_count() or 1) + 1
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--worker-class", "sync", "--log-level", "warning", "--timeout", "60"],
        cwd=ROOT, env=server_env(), start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return process, workers
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError("gunicorn did not start within 60 seconds")


def send(connection, method, path, body, headers):
    """One timed request on a keep-alive connection: (response, payload, seconds).
    When the connection fails it is closed (the next request opens it again) and the
    answer is (None, the error, None)."""
    started = time.perf_counter()
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        payload = response.read()
    except (OSError, http.client.HTTPException) as error:
        connection.close()
        return None, repr(error), None
    elapsed = time.perf_counter() - started
    if response.getheader("Connection", "").lower() == "close":
        connection.close()
    return response, payload, elapsed


class Client(threading.Thread):
    """One teller at a counter: a keep-alive connection where the server allows it."""

    def __init__(self, port, session_key, csrf, numbers, make_request, stop_at, start, cap):
        super().__init__(daemon=True)
        self.port, self.numbers, self.make_request = port, numbers, make_request
        self.stop_at, self.start_event, self.cap = stop_at, start, cap
        self.cookie = f"sessionid={session_key}; csrftoken={csrf}"
        self.csrf = csrf
        self.samples, self.errors = [], []
        self.rng = random.Random()

    def run(self):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        self.start_event.wait()
        warm_until = time.monotonic() + WARMUP
        while time.monotonic() < self.stop_at[0] and len(self.samples) < self.cap:
            method, path, body, headers, expect = self.make_request(self)
            headers = {"Cookie": self.cookie, "Host": "127.0.0.1", **headers}
            response, payload, elapsed = send(connection, method, path, body, headers)
            if response is None:
                self.errors.append(payload)
                continue
            if not expect(response, payload):
                self.errors.append(f"{method} {path}: {response.status} {payload[:200]!r}")
            elif time.monotonic() >= warm_until:
                self.samples.append(elapsed)
        connection.close()


def trivial(client):
    return "GET", "/healthz", None, {}, lambda r, body: r.status == 200


def lookup(client):
    number = client.rng.choice(client.numbers)
    query = urlencode({"purpose": "deposit", "account": number})
    return ("GET", f"/teller/lookup/?{query}", None, {"HX-Request": "true"},
            lambda r, body: r.status == 200 and b"Bench Customer" in body)


def deposit(client):
    number = client.rng.choice(client.numbers)
    body = urlencode({"account": number, "amount": "500", "n500": "1", "idempotency_key": new_token(),
                      "csrfmiddlewaretoken": client.csrf})
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-CSRFToken": client.csrf}
    return ("POST", "/teller/deposit/", body, headers,
            lambda r, body: r.status == 302 and "/teller/transactions/" in (r.getheader("Location") or ""))


def measure(port, keys, numbers, make_request, seconds, cap):
    """One slice: the 8 clients at one endpoint for `seconds` after the warm-up.
    Returns (response times, errors)."""
    start = threading.Event()
    stop_at = [time.monotonic() + WARMUP + seconds + 3600]
    clients = [Client(port, session, csrf, numbers, make_request, stop_at, start, cap) for session, csrf in keys]
    for client in clients:
        client.start()
    stop_at[0] = time.monotonic() + WARMUP + seconds
    start.set()
    for client in clients:
        client.join(timeout=WARMUP + seconds + 120)
    return [s for client in clients for s in client.samples], [e for client in clients for e in client.errors]


def summarise(samples, errors):
    if not samples:
        raise RuntimeError(f"no successful requests; first errors: {errors[:3]}")
    samples = sorted(samples)
    p50 = statistics.median(samples) * 1000
    p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))] * 1000
    return {"count": len(samples), "errors": errors, "p50": p50, "p95": p95, "rate": len(samples) / SECONDS}


def main():
    print(f"bench-teller: {ACCOUNTS:,} accounts, {POSTINGS:,} postings, {CLIENTS} clients, {SECONDS:.0f}s per "
          f"endpoint a round in {SLICES} interleaved slices, {os.cpu_count()} cores")
    recreate_database()
    setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    _, tellers, numbers = load()
    keys = sessions(tellers)
    from django.db import connections

    connections.close_all()

    port = free_port()
    server, workers = serve(port)
    print(f"gunicorn: {workers} sync workers on 127.0.0.1:{port}")
    endpoints = [(TRIVIAL, trivial), ("account look-up fragment", lookup), ("posting a cash deposit", deposit)]
    ratios, failed = [], 0
    try:
        # The machine's speed drifts from minute to minute: within a round the
        # endpoints take turns, slice by slice, in alternating order, so that each
        # one's samples come from the same stretch of time; the rounds' median counts.
        cap = -(-REQUESTS // SLICES)
        run = {name: [] for name, _ in endpoints}
        for n in range(ROUNDS):
            print(f"round {n + 1}:")
            pooled = {name: ([], []) for name, _ in endpoints}
            for s in range(SLICES):
                for name, make_request in (endpoints if (n * SLICES + s) % 2 == 0 else endpoints[::-1]):
                    samples, errors = measure(port, keys, numbers, make_request, SECONDS / SLICES, cap)
                    pooled[name][0].extend(samples)
                    pooled[name][1].extend(errors)
            results = {}
            for name, _ in endpoints:
                results[name] = result = summarise(*pooled[name])
                failed += len(result["errors"])
                print(f"{name:>26}: p50 {result['p50']:7.2f} ms   p95 {result['p95']:7.2f} ms   "
                      f"{result['count']:6d} requests ({result['rate']:6.1f}/s)   errors {len(result['errors'])}")
                for error in result["errors"][:3]:
                    print(f"{'':>28}{error}")
            base = results[TRIVIAL]["p95"]
            for name, result in results.items():
                if name != TRIVIAL:
                    print(f"{name:>26}: p95 is {result['p95'] / base:.2f} × the trivial view's")
            ratios.append(max(r["p95"] for name, r in results.items() if name != TRIVIAL) / base)
            for name, _ in endpoints:
                run[name].extend(pooled[name][0])
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    if failed:
        print(f"{failed} requests failed")
    print(f"worst p95 ÷ trivial p95 by round: {', '.join(f'{r:.2f}' for r in ratios)}")
    whole = {name: summarise(samples, []) for name, samples in run.items()}
    for name, result in whole.items():
        print(f"{name:>26}: p50 {result['p50']:7.2f} ms   p95 {result['p95']:7.2f} ms   over the whole run "
              f"({result['count']} requests)")
    worst = max(result["p95"] for name, result in whole.items() if name != TRIVIAL)
    print(f"bench-teller ratio={worst / whole[TRIVIAL]['p95']:.2f} target=3")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
