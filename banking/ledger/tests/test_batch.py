"""cbs_post_batch, the ledger's set-based batch posting, through its thin caller
`post_batch`: every refusal a single entry gets, in the same words; a batch gives the
result of posting its entries one by one in order (checked against `post_entry`
itself, over random accounts and entries); an idempotent rerun; money conserved; the
audit event and its digest; and a batch racing single postings on the same accounts
from real threads."""

import datetime
import hashlib
import random
import re
import threading
import time
import uuid

import pytest
from django.db import connection, transaction
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from banking.audit.actions import seal_events, verify_trail
from banking.audit.context import audit_context
from banking.audit.models import AuditEvent
from banking.core.errors import (
    AccountNotPostable,
    BankingError,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidAmount,
    ValidationFailed,
)
from banking.ledger.actions import BatchEntry, Line, place_hold, post_batch, post_entry
from banking.ledger.chart import ensure_standard_chart
from banking.ledger.models import AccountStatus, AccountType, EntryKind, Hold, JournalEntry, LedgerAccount, Posting
from banking.testing import make_user

from .helpers import customer_account, key, snapshot
from .test_post_function import _refusals

pytestmark = pytest.mark.django_db


def entry(lines, narration="Batch", idempotency_key=None, reference=""):
    return BatchEntry(key() if idempotency_key is None else idempotency_key, narration, tuple(lines), reference)


def gl(code="2901"):
    return ensure_standard_chart()[code]


def running_balances_hold(account_ids, *, from_zero=True):
    """Every account's postings, in id order, carry the running balance, and the last
    is the account's balance (which, for an account opened at zero, is their sum)."""
    for account in LedgerAccount.objects.filter(pk__in=account_ids):
        postings = list(Posting.objects.filter(account=account).order_by("id"))
        running = 0 if from_zero or not postings else (
            postings[0].balance_after - account.signed(postings[0].side, postings[0].amount))
        for posting in postings:
            running += account.signed(posting.side, posting.amount)
            assert posting.balance_after == running
        assert running == account.balance or (not postings and not from_zero)


# -- refusals -------------------------------------------------------------------------


@pytest.mark.parametrize("make_lines,error,words", _refusals(), ids=lambda value: getattr(value, "__name__", ""))
def test_every_refusal_of_a_single_entry_comes_back_from_the_batch_in_the_same_words(make_lines, error, words):
    lines = make_lines()
    good_from, good_to = customer_account(5_000), customer_account()
    before_single = snapshot()
    with pytest.raises(error, match=words):
        post_entry(actor=None, lines=lines, kind=EntryKind.TRANSFER, narration="Refused", idempotency_key=key())
    assert snapshot() == before_single

    outcomes = post_batch(actor=None, kind=EntryKind.TRANSFER, entries=[
        entry(lines), entry([Line.debit(good_from, 1_000), Line.credit(good_to, 1_000)])])
    refused, posted = outcomes
    assert type(refused.error) is error and not refused.posted and refused.entry_id is None
    assert re.search(words, str(refused.error))
    assert posted.posted and posted.posted_now  # one refusal stops no other entry
    good_from.refresh_from_db()
    assert good_from.balance == 4_000
    assert JournalEntry.objects.count() == before_single[0] + 1


def test_refusals_that_need_no_account_come_back_too():
    a, b = customer_account(5_000), customer_account()
    used = key()
    post_entry(actor=None, lines=[Line.debit(a, 100), Line.credit(b, 100)], kind=EntryKind.TRANSFER,
               narration="First", idempotency_key=used)
    before = snapshot()
    outcomes = post_batch(actor=None, kind=EntryKind.TRANSFER, entries=[
        entry([Line.debit(a, 0), Line.credit(b, 0)]),
        entry([Line.debit(a, 100), Line.credit(999_999_999, 100)]),
        entry([Line.debit(a, 200), Line.credit(b, 200)], idempotency_key=used),
        entry([Line.debit(a, 100), Line.credit(b, 100)], idempotency_key=used),
        entry([Line.debit(a, 100), Line.credit(b, 100)], narration="  "),
        entry([Line.debit(a, 100), Line.credit(b, 100)], idempotency_key=""),
    ])
    assert isinstance(outcomes[0].error, InvalidAmount)
    assert isinstance(outcomes[1].error, AccountNotPostable) and "999999999" in str(outcomes[1].error)
    assert isinstance(outcomes[2].error, IdempotencyConflict)
    assert outcomes[3].posted and not outcomes[3].posted_now  # the same content: the first entry
    assert outcomes[3].entry_id == JournalEntry.objects.get(idempotency_key=used).pk
    assert isinstance(outcomes[4].error, ValidationFailed) and "narration" in str(outcomes[4].error)
    assert isinstance(outcomes[5].error, ValidationFailed) and "idempotency key" in str(outcomes[5].error)
    assert snapshot() == before
    with pytest.raises(ValidationFailed, match="Unknown entry kind"):
        post_batch(actor=None, kind="gift", entries=[entry([Line.debit(a, 1), Line.credit(b, 1)])])


def test_narrations_keys_and_references_reach_the_journal_as_written():
    a, b = customer_account(5_000), customer_account()
    narration = 'Rent "May" ₹ \\ {x,y} नमस्ते, \'quoted\''
    (outcome,) = post_batch(actor=None, kind=EntryKind.TRANSFER, entries=[
        entry([Line.debit(a, 100), Line.credit(b, 100)], narration=narration, idempotency_key='k "1" \\ {,}',
              reference='ref "2" {x}')])
    posted = JournalEntry.objects.get(pk=outcome.entry_id)
    assert (posted.narration, posted.idempotency_key, posted.reference) == (narration, 'k "1" \\ {,}',
                                                                            'ref "2" {x}')


def test_expired_holds_that_alone_stand_in_the_way_are_released_as_for_a_single_entry():
    user = make_user()
    a, b = customer_account(10_000), customer_account()
    expired = place_hold(actor=user, account=a, amount=3_000, reason="Cheque in clearing",
                         expires_at=timezone.now() + datetime.timedelta(minutes=1))
    Hold.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    (outcome,) = post_batch(actor=None, kind=EntryKind.FEE, entries=[
        entry([Line.debit(a, 9_000), Line.credit(b, 9_000)])])
    assert outcome.posted_now
    expired.refresh_from_db(), a.refresh_from_db()
    assert expired.released_at is not None and (a.balance, a.held) == (1_000, 0)
    assert AuditEvent.objects.filter(action="ledger.hold_released", object_id=str(expired.pk)).exists()


# -- the batch is the entries posted in order -------------------------------------------

account_states = st.fixed_dictionaries({
    "type": st.sampled_from([AccountType.LIABILITY, AccountType.ASSET]),
    "status": st.sampled_from([AccountStatus.ACTIVE] * 8 + [AccountStatus.DEBIT_FROZEN] * 2
                              + [AccountStatus.FROZEN, AccountStatus.CLOSED]),
    "balance": st.integers(-3_000, 20_000),
    "held": st.sampled_from([0, 0, 2_500]),
    "overdraft_limit": st.sampled_from([0, 0, 1_500]),
    "min_balance": st.sampled_from([0, 0, 1_000]),
    "enforce_balance": st.booleans(),
})
# An entry: (debited account, credited account, amount, reuse an earlier entry's key?)
entry_draws = st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4), st.integers(1, 12_000), st.booleans()),
                       min_size=1, max_size=8)


def _accounts(states):
    chart = ensure_standard_chart()
    made = []
    for state in states:
        normal = "D" if state["type"] == AccountType.ASSET else "C"
        made.append(LedgerAccount.objects.create(code=f"B-{key()[:16]}", name="Batch parity", parent=chart["2110"],
                                                 normal_side=normal, **state))
    return made


def _state(accounts):
    """Each account's balance, held and version, and its postings' (side, amount,
    balance after) in order: for enforcing accounts, whose order the batch keeps."""
    rows = []
    for account in LedgerAccount.objects.filter(pk__in=[a.pk for a in accounts]).order_by("pk"):
        postings = Posting.objects.filter(account=account).order_by("id").values_list("side", "amount",
                                                                                     "balance_after")
        rows.append((account.balance, account.held, account.version,
                     list(postings) if account.enforce_balance else sorted(p[:2] for p in postings)))
    return rows


def _words(outcome):
    if isinstance(outcome, BankingError):
        return type(outcome).__name__, str(outcome)
    return "posted"


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(states=st.lists(account_states, min_size=5, max_size=5), draws=entry_draws)
def test_a_batch_posts_what_its_entries_posted_one_by_one_in_order_would(states, draws):
    keys = []
    batch = []
    for debit, credit, amount, reuse in draws:
        k = random.choice(keys) if reuse and keys else key()
        keys.append(k)
        batch.append((debit, credit, amount, k))

    with transaction.atomic():
        accounts = _accounts(states)
        lines = [[Line.debit(accounts[d], m), Line.credit(accounts[c], m)] for d, c, m, _ in batch]
        one_by_one = []
        with transaction.atomic():
            for entry_lines, (_, _, _, k) in zip(lines, batch, strict=True):
                try:
                    post_entry(actor=None, lines=entry_lines, kind=EntryKind.TRANSFER, narration="Parity",
                               idempotency_key=k)
                    one_by_one.append("posted")
                except BankingError as error:
                    one_by_one.append(_words(error))
            expected = _state(accounts)
            transaction.set_rollback(True)
        for account in accounts:
            account.refresh_from_db()

        outcomes = post_batch(actor=None, kind=EntryKind.TRANSFER, entries=[
            entry(entry_lines, narration="Parity", idempotency_key=k)
            for entry_lines, (_, _, _, k) in zip(lines, batch, strict=True)])
        assert [("posted" if o.posted else _words(o.error)) for o in outcomes] == one_by_one
        assert _state(accounts) == expected
        running_balances_hold([a.pk for a in accounts], from_zero=False)
        with connection.cursor() as cursor:  # every entry balances (the deferred trigger, as at commit)
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        transaction.set_rollback(True)


# -- rerun, conservation, audit -----------------------------------------------------------


def _credits(accounts, payable, amount):
    return [entry([Line.debit(payable, amount + i), Line.credit(account, amount + i)],
                  narration="Interest credited", idempotency_key=f"test-credit-{account.pk}")
            for i, account in enumerate(accounts)]


def test_a_rerun_of_the_same_batch_changes_nothing_and_finds_every_entry():
    payable = gl()
    accounts = [customer_account(100) for _ in range(30)]
    first = post_batch(actor=None, kind=EntryKind.INTEREST, entries=_credits(accounts, payable, 1_000))
    assert all(o.posted_now for o in first)
    before = snapshot()
    events = AuditEvent.objects.count()
    again = post_batch(actor=None, kind=EntryKind.INTEREST, entries=_credits(accounts, payable, 1_000))
    assert [o.entry_id for o in again] == [o.entry_id for o in first]
    assert not any(o.posted_now for o in again)
    assert snapshot() == before
    assert AuditEvent.objects.count() == events  # nothing posted, nothing to record


def test_money_is_conserved_and_each_account_keeps_its_running_balance():
    payable, fees = gl("2901"), gl("4201")
    accounts = [customer_account(random.randint(0, 5_000)) for _ in range(40)]
    ids = [a.pk for a in accounts] + [payable.pk, fees.pk]

    def net():
        rows = LedgerAccount.objects.filter(pk__in=ids).values_list("normal_side", "balance")
        return sum(balance if side == "C" else -balance for side, balance in rows)

    before = net()
    entries = _credits(accounts, payable, 500)
    entries += [entry([Line.debit(a, 2_000), Line.credit(fees, 2_000)], narration="Charge") for a in accounts]
    outcomes = post_batch(actor=None, kind=EntryKind.FEE, entries=entries)
    # Each charge is judged after that account's credit (the account is named twice).
    for account, charge in zip(accounts, outcomes[len(accounts):], strict=True):
        account.refresh_from_db()
        if charge.posted:
            assert account.balance >= 0
        else:
            assert isinstance(charge.error, InsufficientFunds)
    assert any(o.posted for o in outcomes[len(accounts):]) and any(not o.posted for o in outcomes[len(accounts):])
    assert net() == before  # credit-normal minus debit-normal: every entry moved as much in as out
    running_balances_hold(ids)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_one_audit_event_per_batch_whose_digest_an_auditor_recomputes():
    payable = gl()
    accounts = [customer_account() for _ in range(12)]
    with audit_context(channel="batch", actor_username="deposits.interest_credit"):
        outcomes = post_batch(actor=None, kind=EntryKind.INTEREST, entries=_credits(accounts, payable, 700))
    events = list(AuditEvent.objects.filter(action="ledger.batch_posted"))
    assert len(events) == 1
    event = events[0]
    ids = sorted(o.entry_id for o in outcomes)
    assert event.channel == "batch" and event.actor_username == "deposits.interest_credit"
    assert event.object_id == f"{ids[0]}-{ids[-1]}"
    assert event.after["entries"] == 12 and event.after["total"] == sum(700 + i for i in range(12))
    entries = JournalEntry.objects.filter(pk__in=ids).order_by("id")
    text = ",".join(f"{e.pk}:{e.content_hash}" for e in entries)
    assert event.after["digest"] == hashlib.sha256(text.encode()).hexdigest()
    assert not AuditEvent.objects.filter(action="ledger.entry_posted", object_id__in=[str(i) for i in ids]).exists()
    seal_events()
    assert verify_trail() is None


def test_the_batch_is_one_statement_however_many_entries():
    payable = gl()
    accounts = [customer_account() for _ in range(200)]
    entries = _credits(accounts, payable, 100)
    with CaptureQueriesContext(connection) as queries:  # the function's call goes to psycopg itself, once
        outcomes = post_batch(actor=None, kind=EntryKind.INTEREST, entries=entries)
    # Inside the test's transaction the batch is a savepoint: that is all Django sees.
    assert [q["sql"].split()[0] for q in queries.captured_queries] == ["SAVEPOINT", "RELEASE"]
    assert all(o.posted_now for o in outcomes)
    payable.refresh_from_db()
    assert payable.balance == -sum(100 + i for i in range(200))  # a liability GL debited


# -- concurrency ---------------------------------------------------------------------------


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_batches_and_single_postings_on_the_same_accounts_neither_deadlock_nor_lose_money():
    """Four threads post single transfers among the accounts while two others post
    batches over all of them (a credit from a GL to each, and a charge from each), in
    shuffled order: every call ends posted or refused for funds, never with a deadlock,
    and the money adds up."""
    payable, fees = gl("2901"), gl("4201")
    accounts = [customer_account(random.randint(0, 20_000)) for _ in range(15)]
    ids = [a.pk for a in accounts]
    everything = ids + [payable.pk, fees.pk]

    def net():
        rows = LedgerAccount.objects.filter(pk__in=everything).values_list("normal_side", "balance")
        return sum(balance if side == "C" else -balance for side, balance in rows)

    before = net()
    unexpected, counts = [], {"single": 0, "batch": 0}

    def singles(seed):
        rng = random.Random(seed)
        try:
            for _ in range(120):
                source, target = rng.sample(ids, 2)
                try:
                    amount = rng.randint(1, 3_000)
                    post_entry(actor=None, lines=[Line.debit(source, amount), Line.credit(target, amount)],
                               kind=EntryKind.TRANSFER, narration="Single", idempotency_key=uuid.uuid4().hex)
                    counts["single"] += 1
                except InsufficientFunds:
                    pass
        except Exception as error:  # deadlocks, serialization failures: none expected
            unexpected.append(repr(error))
        finally:
            connection.close()

    def batches(seed):
        rng = random.Random(seed)
        try:
            for _ in range(15):
                order = rng.sample(accounts, len(accounts))
                entries = [entry([Line.debit(payable, 300), Line.credit(a, 300)], narration="Credit") for a in order]
                entries += [entry([Line.debit(a, 900), Line.credit(fees, 900)], narration="Charge") for a in order]
                for outcome in post_batch(actor=None, kind=EntryKind.FEE, entries=entries):
                    if outcome.posted:
                        counts["batch"] += 1
                    elif not isinstance(outcome.error, InsufficientFunds):
                        unexpected.append(repr(outcome.error))
        except Exception as error:
            unexpected.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=singles, args=(s,)) for s in range(4)]
    threads += [threading.Thread(target=batches, args=(100 + s,)) for s in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert unexpected == []
    assert counts["single"] and counts["batch"]
    assert net() == before
    for account in LedgerAccount.objects.filter(pk__in=ids):
        assert account.available >= account.min_balance
    running_balances_hold(everything)
    assert LedgerAccount.objects.filter(pk__in=ids).aggregate(s=Sum("version"))["s"] > 0


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_the_same_batch_sent_twice_at_once_posts_once():
    payable = gl()
    accounts = [customer_account() for _ in range(50)]
    start = threading.Barrier(3)
    results, unexpected = [], []

    def send():
        try:
            start.wait()
            results.append(post_batch(actor=None, kind=EntryKind.INTEREST, entries=_credits(accounts, payable, 100)))
        except Exception as error:
            unexpected.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert unexpected == []
    assert len({tuple(o.entry_id for o in r) for r in results}) == 1
    assert sum(o.posted_now for r in results for o in r) == 50
    assert Posting.objects.filter(account__in=accounts).count() == 50


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_a_key_taken_by_another_transaction_while_the_batch_waited_is_answered_by_that_entry():
    """Batch B names a key that batch A, not yet committed, has just used for other
    accounts: B waits on the key, and once A commits gets A's entry back as a reused
    key (different content), its other entries posted."""
    a1, a2, b1, b2, b3, b4 = (customer_account(10_000) for _ in range(6))
    shared = key()
    a_posted, b_waiting, results, unexpected = threading.Event(), threading.Event(), {}, []

    def batch_a():
        try:
            with transaction.atomic():
                results["a"] = post_batch(actor=None, kind=EntryKind.TRANSFER, entries=[
                    entry([Line.debit(a1, 100), Line.credit(a2, 100)], idempotency_key=shared)])
                a_posted.set()
                assert b_waiting.wait(30)
        except Exception as error:
            unexpected.append(repr(error))
        finally:
            connection.close()

    def batch_b():
        try:
            assert a_posted.wait(30)
            results["b"] = post_batch(actor=None, kind=EntryKind.TRANSFER, entries=[
                entry([Line.debit(b1, 200), Line.credit(b2, 200)], idempotency_key=shared),
                entry([Line.debit(b3, 300), Line.credit(b4, 300)])])
        except Exception as error:
            unexpected.append(repr(error))
        finally:
            connection.close()

    def waiting_on_a_lock():
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                           " AND wait_event_type = 'Lock'")
            return cursor.fetchone()[0]

    threads = [threading.Thread(target=batch_a), threading.Thread(target=batch_b)]
    for thread in threads:
        thread.start()
    assert a_posted.wait(30)
    deadline = time.monotonic() + 30
    while not waiting_on_a_lock() and time.monotonic() < deadline:
        time.sleep(0.05)
    b_waiting.set()
    for thread in threads:
        thread.join()
    assert unexpected == []
    (first,) = results["a"]
    reused, other = results["b"]
    assert first.posted_now
    assert isinstance(reused.error, IdempotencyConflict)
    assert other.posted_now
    b1.refresh_from_db()
    assert b1.balance == 10_000  # nothing of the refused entry was written
    assert Posting.objects.filter(entry_id=first.entry_id).count() == 2
