"""The counter's one-call path (cbs_counter_cash, migration 0004) against its
step-by-step path, on PostgreSQL outside any transaction, as the counter's views
call them: the same rows, the same audit trail (its hashes verify), the same
refusals, and everything the function does not post handed over whole."""

import datetime

import pytest
from django.db import connection  # noqa: F401 - read by the skipif condition below

from banking.approvals.models import ApprovalRequest
from banking.audit.actions import seal_events, verify_trail
from banking.audit.models import AuditEvent
from banking.core.errors import InsufficientFunds, ValidationFailed
from banking.deposits.models import DepositAccount
from banking.ledger.models import JournalEntry, Posting
from banking.testing import run_together

from .. import actions
from ..actions import close_till, find_till, pay_cash_withdrawal, take_cash_deposit
from ..denominations import Denominations
from ..models import CashMovement, CounterTransaction, TransactionStatus
from .factories import OPENING, fresh, funded_branch, key, open_account, supervisor_for, teller_with_open_till
from .test_cash import assert_counts_match_books

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="cbs_counter_cash is PostgreSQL's"),
]

NAME = 'Ramesh "Ram" \\u0000 कुमार, ₹ & <co>'


@pytest.fixture
def counter():
    branch = funded_branch()
    supervisor = supervisor_for(branch)
    teller = teller_with_open_till(branch, supervisor, cash_limit=1_00_000_00)
    account = open_account(branch, teller, supervisor, balance=50_000_00)
    actions._TILLS.pop(teller.pk, None)
    return teller, account


@pytest.fixture
def one_call_only(monkeypatch):
    """Fail the test if the step-by-step path runs."""

    def refuse(*args, **kwargs):
        raise AssertionError("the step-by-step path ran")

    monkeypatch.setattr(actions, "_step_by_step", refuse)


@pytest.fixture
def step_by_step_count(monkeypatch):
    calls = []
    original = actions._step_by_step

    def counting(*args, **kwargs):
        calls.append(kwargs["kind"])
        return original(*args, **kwargs)

    monkeypatch.setattr(actions, "_step_by_step", counting)
    return calls


def deposit(teller, account, amount, token=None, **extra):
    return take_cash_deposit(actor=teller, account=fresh(account), amount=amount,
                             counts=Denominations.largest_first(amount), idempotency_key=token or key(), **extra)


def withdraw(teller, account, amount, counts=None, token=None):
    counts = counts or Denominations.largest_first(amount, find_till(teller).counts)
    return pay_cash_withdrawal(actor=teller, account=fresh(account), amount=amount, counts=counts,
                               idempotency_key=token or key())


def written(txn):
    """What a posted transaction wrote, without the ids and times that differ."""
    txn = CounterTransaction.objects.get(pk=txn.pk)
    entry = JournalEntry.objects.get(pk=txn.entry_id)
    movement = CashMovement.objects.get(entry=entry)
    counter_event = AuditEvent.objects.get(object_type="teller.countertransaction", object_id=str(txn.pk),
                                           action=f"teller.{txn.kind}")
    entry_event = AuditEvent.objects.get(object_type="ledger.journalentry", object_id=str(entry.pk))
    for event in (counter_event, entry_event):
        assert event.compute_hash() == event.content_hash, event.action
    return {
        "txn": {field: getattr(txn, field) for field in (
            "kind", "status", "branch_id", "teller_id", "till_id", "business_date", "account_id", "amount",
            "instrument", "depositor_name", "depositor_mobile", "pan", "narration", "n500", "n200", "n100", "n50",
            "n20", "n10", "coins")},
        "posted": txn.posted_at is not None and txn.created_at is not None,
        "entry": (entry.kind, entry.narration, entry.channel, entry.reference == txn.number, entry.total,
                  entry.maker_id, entry.business_date, entry.idempotency_key == f"counter-{txn.idempotency_key}"),
        "postings": sorted(Posting.objects.filter(entry=entry).values_list("account_id", "side", "amount")),
        "movement": (movement.box_id, movement.kind, movement.amount, movement.counts, movement.created_by_id,
                     movement.business_date),
        "counter_event": (counter_event.object_type, counter_event.object_id == str(txn.pk),
                          counter_event.summary.replace(txn.number, "<number>"),
                          {**counter_event.after, "entry": counter_event.after["entry"] == entry.pk},
                          counter_event.actor_id, counter_event.role),
        "entry_event": (entry_event.summary, entry_event.after["kind"], entry_event.after["total"],
                        entry_event.actor_id),
    }


def test_a_deposit_in_one_call_writes_what_the_step_by_step_path_writes(counter, step_by_step_count):
    teller, account = counter
    till_before = find_till(teller).counts
    first = deposit(teller, account, 2_500_00, depositor_name=NAME, depositor_mobile="9876543210")
    assert step_by_step_count == ["cash_deposit"]  # the worker learns the teller's till
    second = deposit(teller, account, 2_500_00, depositor_name=NAME, depositor_mobile="9876543210")
    assert step_by_step_count == ["cash_deposit"]  # the second went in one call
    assert second.status == TransactionStatus.POSTED and second.pk and second.entry_id
    assert written(second) == written(first)
    assert CounterTransaction.objects.get(pk=second.pk).depositor_name == NAME
    assert fresh(account).balance == 55_000_00
    notes = Denominations.largest_first(2_500_00)
    assert find_till(teller).counts == till_before + notes + notes
    assert DepositAccount.objects.get(pk=account.pk).last_customer_activity_on == second.business_date
    assert_counts_match_books()
    seal_events()
    assert verify_trail() is None


def test_a_slip_withdrawal_in_one_call_writes_what_the_step_by_step_path_writes(counter, step_by_step_count):
    teller, account = counter
    first = withdraw(teller, account, 1_200_00)
    second = withdraw(teller, account, 1_200_00)
    assert step_by_step_count == ["cash_withdrawal"]
    assert written(second) == written(first)
    assert fresh(account).balance == 50_000_00 - 2_400_00
    assert_counts_match_books()
    seal_events()
    assert verify_trail() is None


def test_a_deposit_goes_in_one_call_once_the_till_is_known(counter, one_call_only):
    teller, account = counter
    actions._learn_till(find_till(teller))
    txn = deposit(teller, account, 700_00)
    assert CounterTransaction.objects.get(pk=txn.pk).entry_id == txn.entry_id


def test_a_reused_token_gives_back_the_first_transaction(counter, step_by_step_count):
    teller, account = counter
    token = key()
    first = deposit(teller, account, 900_00, token=token)
    again = deposit(teller, account, 900_00, token=token)
    assert again.pk == first.pk
    assert CounterTransaction.objects.filter(idempotency_key=token).count() == 1
    assert fresh(account).balance == 50_900_00


def test_above_the_tellers_limit_the_work_waits_for_a_supervisor(counter):
    teller, account = counter
    deposit(teller, account, 100_00)  # learns the till
    txn = deposit(teller, account, 1_00_000_00 + 500_00, pan="ABCDE1234F")
    assert txn.status == TransactionStatus.PENDING and txn.entry_id is None
    assert ApprovalRequest.objects.filter(pk=txn.approval_id, status="pending").exists()
    assert fresh(account).balance == 50_100_00


def test_exactly_the_default_limit_posts_in_one_call_and_a_rupee_more_waits(step_by_step_count):
    branch = funded_branch()
    supervisor = supervisor_for(branch)
    teller = teller_with_open_till(branch, supervisor)  # the default limit, ₹2,00,000
    account = open_account(branch, teller, supervisor)
    deposit(teller, account, 100_00)  # learns the till
    del step_by_step_count[:]
    at_limit = deposit(teller, account, 2_00_000_00, pan="ABCDE1234F")
    assert at_limit.status == TransactionStatus.POSTED and step_by_step_count == []
    above = deposit(teller, account, 2_00_001_00, pan="ABCDE1234F")
    assert above.status == TransactionStatus.PENDING and above.entry_id is None
    assert step_by_step_count == ["cash_deposit"]  # the function handed it over to be queued
    assert fresh(account).balance == 2_00_100_00


def test_notes_the_till_does_not_hold_are_refused_in_the_tellers_words(counter):
    teller, account = counter
    deposit(teller, account, 100_00)
    entries, movements = JournalEntry.objects.count(), CashMovement.objects.count()
    with pytest.raises(InsufficientFunds, match="Your till does not hold"):
        withdraw(teller, account, 500_00 * (OPENING.n500 + 1), counts=Denominations(n500=OPENING.n500 + 1))
    assert (JournalEntry.objects.count(), CashMovement.objects.count()) == (entries, movements)


def test_a_refused_entry_leaves_nothing_behind_not_even_the_activity_note(counter):
    """The function notes the account's activity before posting; when the entry is
    refused (here: the balance went since the teller's look-up), the statement is
    rolled back and the refusal comes in the teller's words."""
    teller, account = counter
    deposit(teller, account, 100_00)
    looked_up = fresh(account)  # shows ₹50,100 available
    withdraw(teller, account, 50_000_00)  # another withdrawal takes most of it meanwhile
    old = datetime.date(2020, 1, 1)
    DepositAccount.objects.filter(pk=account.pk).update(last_customer_activity_on=old)
    entries = JournalEntry.objects.count()
    with pytest.raises(InsufficientFunds, match="available"):
        pay_cash_withdrawal(actor=teller, account=looked_up, amount=1_000_00,
                            counts=Denominations.largest_first(1_000_00, find_till(teller).counts),
                            idempotency_key=key())
    assert JournalEntry.objects.count() == entries
    assert DepositAccount.objects.get(pk=account.pk).last_customer_activity_on == old


def test_a_closed_till_is_refused(counter):
    teller, account = counter
    deposit(teller, account, 100_00)
    close_till(actor=teller, counted=find_till(teller).counts, idempotency_key=key())
    with pytest.raises(ValidationFailed, match="closed"):
        deposit(teller, account, 100_00)


def test_a_stale_till_is_relearnt(counter, step_by_step_count):
    teller, account = counter
    till = find_till(teller)
    actions._TILLS[teller.pk] = (till.pk, till.ledger_account_id + 1, till.branch_id)
    deposit(teller, account, 100_00)
    assert step_by_step_count == ["cash_deposit"]
    assert actions._TILLS[teller.pk] == (till.pk, till.ledger_account_id, till.branch_id)
    deposit(teller, account, 100_00)
    assert step_by_step_count == ["cash_deposit"]


@pytest.mark.concurrency
def test_enter_pressed_twice_at_once_posts_once(counter):
    teller, account = counter
    deposit(teller, account, 100_00)
    token = key()
    results, errors = run_together(*(lambda: deposit(teller, account, 1_000_00, token=token).pk for _ in range(4)))
    assert errors == []
    assert len(set(results)) == 1 and len(results) == 4
    assert fresh(account).balance == 50_000_00 + 100_00 + 1_000_00
    assert_counts_match_books()


def sequential_scans_of_counter_transactions():
    """How many times the table has been read from end to end, as of now: this
    connection's pending statistics flushed first (PostgreSQL 15 and newer)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT seq_scan FROM pg_stat_user_tables WHERE relname = 'teller_countertransaction'")
        return cursor.fetchone()[0]


def test_a_connection_opened_on_a_small_table_still_finds_the_token_by_its_index(counter, step_by_step_count):
    """PL/pgSQL keeps a statement's plan for the connection's life. A plan made
    while the table held a few rows read the whole table for every deposit once
    it had grown (migration teller/0005)."""
    teller, account = counter
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE teller_countertransaction")  # as a new bank's nightly maintenance leaves it: empty
    # The first deposit teaches the worker the teller's till; the next ones are one call
    # each, past the five after which PL/pgSQL may settle on a plan of its own.
    for _ in range(8):
        deposit(teller, account, 100_00)
    assert len(step_by_step_count) == 1
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO teller_countertransaction (kind, status, branch_id, teller_id, till_id, business_date,"
            " account_id, amount, instrument, depositor_name, depositor_mobile, pan, narration, idempotency_key,"
            " created_at, n500, n200, n100, n50, n20, n10, coins)"
            " SELECT kind, 'pending', branch_id, teller_id, till_id, business_date, account_id, amount, instrument,"
            " '', '', '', '', 'grown-' || g, created_at, n500, n200, n100, n50, n20, n10, coins"
            " FROM teller_countertransaction, generate_series(1, 20000) g"
            " WHERE id = (SELECT min(id) FROM teller_countertransaction)")
        # No ANALYZE: new statistics would make every connection plan afresh, and
        # between two runs of autovacuum a connection goes on with the plan it has.
    before = sequential_scans_of_counter_transactions()
    for _ in range(3):
        deposit(teller, account, 100_00)
    assert len(step_by_step_count) == 1
    assert sequential_scans_of_counter_transactions() == before
