"""`make bench-api`: the customer API under load, served as production serves it.

It follows bench-teller's conventions (bench/teller.py, whose loader and client it
reuses): a database of its own (`cbs_bench_api`) loaded set-based with BENCH_ACCOUNTS
customers and accounts (default 20,000) and BENCH_POSTINGS postings (default 200,000);
8 of those customers get an internet-banking login, a JWT access token and a payee (an
account of another bench customer, past its cooling period); gunicorn serves the app
(sync workers, 2 × cores + 1) on 127.0.0.1 with bench/api_settings.py, which lifts the
per-customer rate limit; 8 concurrent clients, one per customer, drive one endpoint at a
time in interleaved slices, after a warm-up, over BENCH_ROUNDS rounds:
- a trivial DRF view: GET /api/v1/ping/ (same authentication, policy and throttle);
- GET /api/v1/accounts/;
- POST /api/v1/payments/, internal rail, ₹1.00 to the payee, a fresh Idempotency-Key
  each time (so every request makes a payment through make_payment).

The last line is `bench-api ratio=<worst p95 ÷ trivial p95> target=3`, each p95 over
every sample of the run. Only ratios measured side by side mean anything on a shared
machine. Environment: BENCH_SECONDS, BENCH_REQUESTS, BENCH_SLICES, BENCH_ROUNDS,
BENCH_ACCOUNTS, BENCH_POSTINGS, BENCH_ADMIN_URL, as bench-teller.
"""

import datetime
import json
import os
import signal
import sys
import uuid

from bench import teller

teller.BENCH_DB = "cbs_bench_api"
ACCOUNTS = int(os.environ.get("BENCH_ACCOUNTS", "20000"))
POSTINGS = int(os.environ.get("BENCH_POSTINGS", "200000"))
TRIVIAL = "trivial DRF view (/api/v1/ping/)"


_teller_env = teller.server_env


def server_env():
    env = _teller_env()
    env["DJANGO_SETTINGS_MODULE"] = "bench.api_settings"
    return env


teller.server_env = server_env


def customers(numbers):
    """8 customers with a login, a token valid for the whole run, their account and a payee."""
    from django.contrib.auth.models import Group
    from django.utils import timezone
    from rest_framework_simplejwt.tokens import AccessToken

    from banking.deposits.models import DepositAccount
    from banking.payments.actions import add_payee
    from banking.users.models import User
    from banking.users.roles import Role

    group = Group.objects.get(name=Role.CUSTOMER)
    people = []
    for i in range(teller.CLIENTS):
        account = DepositAccount.objects.select_related("customer").get(number=numbers[i * 7])
        user = User.objects.create_user(username=f"bench.customer{i}", password=uuid.uuid4().hex)
        user.groups.add(group)
        account.customer.user = user
        account.customer.save(update_fields=["user"])
        payee = add_payee(actor=user, customer=account.customer, kind="internal", name="Bench Payee",
                          account_number=numbers[-(i + 1)], ifsc=f"CBSB0{teller.BRANCH_CODE}")
        payee.created_at = timezone.now() - datetime.timedelta(days=2)
        payee.save(update_fields=["created_at"])
        token = AccessToken.for_user(user)
        token.set_exp(lifetime=datetime.timedelta(hours=6))
        people.append({"token": str(token), "account": account.number, "payee": payee.pk})
    return people


def requests_for(people):
    def headers(client):
        person = people[client.index]
        return person, {"Authorization": f"Bearer {person['token']}"}

    def ping(client):
        _, h = headers(client)
        return "GET", "/api/v1/ping/", None, h, lambda r, body: r.status == 200 and b'"ok":true' in body

    def accounts(client):
        person, h = headers(client)
        return ("GET", "/api/v1/accounts/", None, h,
                lambda r, body: r.status == 200 and person["account"].encode() in body)

    def payment(client):
        person, h = headers(client)
        body = json.dumps({"from_account": person["account"], "rail": "internal", "amount": "1.00",
                           "payee_id": person["payee"], "narration": "Bench"})
        h = {**h, "Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex}
        return "POST", "/api/v1/payments/", body, h, lambda r, body: r.status == 201 and b'"settled"' in body

    return [(TRIVIAL, ping), ("GET /api/v1/accounts/", accounts), ("POST /api/v1/payments/ (internal)", payment)]


def main():
    print(f"bench-api: {ACCOUNTS:,} accounts, {POSTINGS:,} postings, {teller.CLIENTS} clients, "
          f"{teller.SECONDS:.0f}s per endpoint a round in {teller.SLICES} interleaved slices, {os.cpu_count()} cores")
    teller.recreate_database()
    teller.setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    _, _, numbers = teller.load(accounts=ACCOUNTS, postings=POSTINGS)
    people = customers(numbers)
    from django.db import connections

    connections.close_all()
    # teller.Client is a teller with a session cookie; here each client is customer
    # number `index` (the order measure() makes them in), with no cookie: the token
    # rides in each request.
    index = iter(range(teller.CLIENTS))
    original_init = teller.Client.__init__

    def init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        self.index, self.cookie = next(index), ""

    teller.Client.__init__ = init
    keys = [("none", "none")] * teller.CLIENTS
    endpoints = requests_for(people)

    port = teller.free_port()
    server, workers = teller.serve(port)
    print(f"gunicorn: {workers} sync workers on 127.0.0.1:{port}")
    failed, ratios = 0, []
    run = {name: [] for name, _ in endpoints}
    try:
        cap = -(-teller.REQUESTS // teller.SLICES)
        for n in range(teller.ROUNDS):
            print(f"round {n + 1}:")
            pooled = {name: ([], []) for name, _ in endpoints}
            for s in range(teller.SLICES):
                for name, make_request in (endpoints if (n * teller.SLICES + s) % 2 == 0 else endpoints[::-1]):
                    index = iter(range(teller.CLIENTS))  # noqa: F841 - read by init() above
                    samples, errors = teller.measure(port, keys, numbers, make_request,
                                                     teller.SECONDS / teller.SLICES, cap)
                    pooled[name][0].extend(samples)
                    pooled[name][1].extend(errors)
            results = {}
            for name, _ in endpoints:
                results[name] = result = teller.summarise(*pooled[name])
                failed += len(result["errors"])
                print(f"{name:>36}: p50 {result['p50']:7.2f} ms   p95 {result['p95']:7.2f} ms   "
                      f"{result['count']:6d} requests   errors {len(result['errors'])}")
                for error in result["errors"][:3]:
                    print(f"{'':>38}{error}")
            base = results[TRIVIAL]["p95"]
            ratios.append(max(r["p95"] for name, r in results.items() if name != TRIVIAL) / base)
            for name, _ in endpoints:
                run[name].extend(pooled[name][0])
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    if failed:
        print(f"{failed} requests failed")
    print(f"worst p95 ÷ trivial p95 by round: {', '.join(f'{r:.2f}' for r in ratios)}")
    whole = {name: teller.summarise(samples, []) for name, samples in run.items()}
    for name, result in whole.items():
        print(f"{name:>36}: p50 {result['p50']:7.2f} ms   p95 {result['p95']:7.2f} ms   over the whole run "
              f"({result['count']} requests)")
    worst = max(result["p95"] for name, result in whole.items() if name != TRIVIAL)
    print(f"bench-api ratio={worst / whole[TRIVIAL]['p95']:.2f} target=3")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
