"""`make bench-atm`: the ATM switch under load, served as production serves it.

It follows bench-teller's conventions (bench/teller.py, whose loader, server and
summaries it reuses): a database of its own (`cbs_bench_atm`) loaded set-based with
BENCH_ACCOUNTS customers and accounts (default 20,000) and BENCH_POSTINGS postings
(default 200,000); BENCH_CARDS of those accounts (default 64) get a debit card with a
PIN, through the card actions; 16 terminals are registered and stocked (from capital,
as the switch's tests stock them); gunicorn serves the app (sync workers, 2 × cores + 1) on 127.0.0.1.

16 concurrent clients, one per terminal, each sign their messages with their own
terminal's key (HMAC-SHA256 of the body) and send, to POST /api/v1/atm/messages/, a
mix per message: 60% withdrawals of ₹100 to ₹500 (a new STAN each), 25% balance
enquiries, 15% duplicates (a withdrawal the terminal sent before, sent again byte for
byte: the switch must give the first answer and post nothing), on a random card. In
the same run, taking turns with the ATM mix slice by slice, the same 16 clients time a
trivial view (/healthz, through the same middleware). Over BENCH_ROUNDS rounds of
BENCH_SLICES slices of BENCH_SECONDS ÷ BENCH_SLICES seconds each, as bench-teller.

It prints the authorisation p50 and p95 of each kind of message, the messages a second
the switch answered while the mix ran, and the trivial view's p95. The last line is
`bench-atm ratio=<withdrawal p95 ÷ trivial p95> target=3`, each p95 over every sample of
the run. Only ratios measured side by side mean anything on a shared machine.
Environment: BENCH_SECONDS, BENCH_REQUESTS, BENCH_SLICES, BENCH_ROUNDS, BENCH_ACCOUNTS,
BENCH_POSTINGS, BENCH_CARDS, BENCH_ADMIN_URL, as bench-teller.
"""

import datetime
import hashlib
import hmac
import http.client
import json
import os
import random
import signal
import sys
import threading
import time
from zoneinfo import ZoneInfo

from bench import teller

teller.BENCH_DB = "cbs_bench_atm"
ACCOUNTS = int(os.environ.get("BENCH_ACCOUNTS", "20000"))
POSTINGS = int(os.environ.get("BENCH_POSTINGS", "200000"))
CARDS = int(os.environ.get("BENCH_CARDS", "64"))
TERMINALS = 16
PIN = "4826"
TRIVIAL = "trivial view (/healthz)"
KINDS = ("withdrawal", "balance enquiry", "duplicate withdrawal")
MIX = (0.60, 0.25, 0.15)
IST = ZoneInfo("Asia/Kolkata")


def cards_and_terminals(numbers):
    """CARDS cards with a PIN on bench accounts, and 16 stocked terminals with their keys.
    Returns ([card numbers], [(terminal id, key)]): kept in memory, never printed."""
    from banking.cards.actions import issue_card, load_terminal, register_terminal
    from banking.deposits.models import DepositAccount
    from banking.ledger.chart import SHARE_CAPITAL
    from banking.ledger.models import LedgerAccount
    from banking.users.models import Branch, User

    branch = Branch.objects.get(code=teller.BRANCH_CODE)
    supervisor = User.objects.get(username="bench.supervisor")
    # Loaded from capital, as the switch's tests load them: replenishment from the
    # vault, counted by denomination, is not what this bench measures.
    capital = LedgerAccount.objects.get(code=SHARE_CAPITAL)
    cards = []
    for number in numbers[:: max(1, len(numbers) // CARDS)][:CARDS]:
        card = issue_card(actor=supervisor, account=DepositAccount.objects.get(number=number))
        card.set_pin(PIN)
        card.save()
        cards.append(card.number)
    terminals = []
    for i in range(1, TERMINALS + 1):
        terminal = register_terminal(actor=supervisor, branch=branch, terminal_id=f"BENCH{i:03d}",
                                     location=f"Bench Road ATM {i}")
        load_terminal(actor=None, terminal=terminal, notes={500: 2_000, 200: 2_000, 100: 2_000}, source=capital,
                      idempotency_key=f"bench-atm-load-{i}", narration=f"ATM {terminal.terminal_id} loaded")
        terminals.append((terminal.terminal_id, terminal.key))
    return cards, terminals


class Terminal(threading.Thread):
    """One ATM: a keep-alive connection, its own STANs, the withdrawals it sent."""

    def __init__(self, port, terminal_id, key, cards, stop_at, start, cap, mix, stans):
        super().__init__(daemon=True)
        self.port, self.terminal_id, self.key, self.cards = port, terminal_id, key.encode(), cards
        self.stop_at, self.start_event, self.cap, self.mix = stop_at, start, cap, mix
        self.stans = stans  # shared across slices: a STAN is never reused for another message
        self.samples = {kind: [] for kind in (*KINDS, TRIVIAL)}
        self.errors = []
        self.rng = random.Random()

    def next_stan(self):
        self.stans["n"] += 1
        return f"{self.stans['n'] % 1_000_000:06d}"

    def message(self):
        from banking.cards.numbers import pin_block

        if not self.mix:
            return TRIVIAL, "GET", "/healthz", None, {}
        kind = self.rng.choices(KINDS, MIX)[0]
        if kind == KINDS[2] and self.stans["sent"]:
            body, first = self.rng.choice(self.stans["sent"])
            return kind, "POST", "/api/v1/atm/messages/", body, {"first": first}
        number = self.rng.choice(self.cards)
        message = {"mti": "0200", "processing_code": "01", "stan": self.next_stan(), "terminal_id": self.terminal_id,
                   "card_number": number, "pin_block": pin_block(PIN, number),
                   "local_time": datetime.datetime.now(IST).isoformat(timespec="seconds")}
        if kind == KINDS[1]:
            message["processing_code"] = "31"
        else:
            kind = KINDS[0]
            message["amount"] = f"{self.rng.randint(1, 5) * 100}.00"
        return kind, "POST", "/api/v1/atm/messages/", json.dumps(message).encode(), {}

    def run(self):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        self.start_event.wait()
        warm_until = time.monotonic() + teller.WARMUP
        while time.monotonic() < self.stop_at[0] and sum(map(len, self.samples.values())) < self.cap:
            kind, method, path, body, extra = self.message()
            headers = {"Host": "127.0.0.1"}
            if body is not None:
                headers.update({"Content-Type": "application/json", "X-Terminal-Id": self.terminal_id,
                                "X-Signature": hmac.new(self.key, body, hashlib.sha256).hexdigest()})
            response, payload, elapsed = teller.send(connection, method, path, body, headers)
            if response is None:
                self.errors.append(payload)
                continue
            problem = self.check(kind, response, payload, body, extra)
            if problem:
                self.errors.append(f"{kind}: {problem}")
            elif time.monotonic() >= warm_until:
                self.samples[kind].append(elapsed)
        connection.close()

    def check(self, kind, response, payload, body, extra):
        if response.status != 200:
            return f"{response.status} {payload[:200]!r}"
        if kind == TRIVIAL:
            return None
        answer = json.loads(payload)
        code = answer.get("response_code")
        if kind == KINDS[0]:
            if code == "00":
                self.stans["sent"].append((body, answer.get("auth_code")))
                return None
            # 51 or 61: a bench account ran dry or hit its daily limit; any other answer is a failure.
            return None if code in ("51", "61") else f"answered {code}: {answer.get('message')}"
        if kind == KINDS[2]:
            return None if code == "00" and answer.get("auth_code") == extra["first"] else (
                f"a duplicate answered {code} with another auth code")
        return None if code == "00" else f"answered {code}: {answer.get('message')}"


def measure(port, terminals, cards, mix, seconds, cap, stans):
    start = threading.Event()
    stop_at = [time.monotonic() + teller.WARMUP + seconds + 3600]
    clients = [Terminal(port, terminal_id, key, cards, stop_at, start, cap, mix, stans[terminal_id])
               for terminal_id, key in terminals]
    for client in clients:
        client.start()
    began = time.monotonic()
    stop_at[0] = began + teller.WARMUP + seconds
    start.set()
    for client in clients:
        client.join(timeout=teller.WARMUP + seconds + 180)
    took = time.monotonic() - began - teller.WARMUP
    samples = {kind: [s for c in clients for s in c.samples[kind]] for kind in (*KINDS, TRIVIAL)}
    return samples, [e for c in clients for e in c.errors], took


def posted_once(stans):
    """The ledger has one entry per approved withdrawal: the duplicates posted nothing."""
    from banking.ledger.models import JournalEntry

    approved = len({body for s in stans.values() for body, _ in s["sent"]})
    entries = JournalEntry.objects.filter(narration__startswith="ATM WDL BENCH").count()
    return approved, entries


def main():
    print(f"bench-atm: {ACCOUNTS:,} accounts, {POSTINGS:,} postings, {CARDS} cards, {TERMINALS} terminals, "
          f"{teller.SECONDS:.0f}s per side a round in {teller.SLICES} interleaved slices, {os.cpu_count()} cores")
    teller.recreate_database()
    teller.setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    _, _, numbers = teller.load(accounts=ACCOUNTS, postings=POSTINGS)
    cards, terminals = cards_and_terminals(numbers)
    from django.db import connections

    connections.close_all()
    port = teller.free_port()
    server, workers = teller.serve(port)
    print(f"gunicorn: {workers} sync workers on 127.0.0.1:{port}")
    stans = {terminal_id: {"n": 0, "sent": []} for terminal_id, _ in terminals}
    run = {kind: [] for kind in (*KINDS, TRIVIAL)}
    failed, mix_messages, mix_seconds = 0, 0, 0.0
    cap = -(-teller.REQUESTS // teller.SLICES)
    try:
        for n in range(teller.ROUNDS):
            pooled = {kind: [] for kind in (*KINDS, TRIVIAL)}
            errors = []
            for s in range(teller.SLICES):
                for mix in ((False, True) if (n * teller.SLICES + s) % 2 == 0 else (True, False)):
                    samples, slice_errors, took = measure(port, terminals, cards, mix,
                                                          teller.SECONDS / teller.SLICES, cap, stans)
                    errors += slice_errors
                    for kind, values in samples.items():
                        pooled[kind] += values
                    if mix:
                        mix_messages += sum(len(samples[kind]) for kind in KINDS)
                        mix_seconds += took
            failed += len(errors)
            print(f"round {n + 1}:")
            for kind in (*KINDS, TRIVIAL):
                if pooled[kind]:
                    result = teller.summarise(pooled[kind], [])
                    print(f"{kind:>24}: p50 {result['p50']:7.2f} ms   p95 {result['p95']:7.2f} ms   "
                          f"{result['count']:6d} messages")
                run[kind] += pooled[kind]
            for error in errors[:3]:
                print(f"{'':>26}{error}")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    approved, entries = posted_once(stans)
    print(f"approved withdrawals {approved}, ATM WDL entries in the ledger {entries}"
          f"{'' if approved == entries else '  MISMATCH'}")
    if failed:
        print(f"{failed} messages failed")
    whole = {kind: teller.summarise(samples, []) for kind, samples in run.items() if samples}
    for kind, result in whole.items():
        print(f"{kind:>24}: p50 {result['p50']:7.2f} ms   p95 {result['p95']:7.2f} ms   over the whole run "
              f"({result['count']} messages)")
    print(f"the switch answered {mix_messages / mix_seconds:.1f} messages a second ({TERMINALS} terminals)")
    print(f"bench-atm ratio={whole[KINDS[0]]['p95'] / whole[TRIVIAL]['p95']:.2f} target=3")
    return 1 if failed or approved != entries else 0


if __name__ == "__main__":
    sys.exit(main())
