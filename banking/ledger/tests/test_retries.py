"""Deadlocks and serialization failures are retried inside the posting action,
never shown to the caller: the first attempt fails as PostgreSQL fails a deadlock's
victim, and the entry is still posted exactly once.

Transactional tests: a test wrapped in a transaction would put the action inside
a caller's transaction, where it runs once and leaves retrying to the caller."""

import pytest
from django.db import OperationalError, transaction

from banking.audit.models import AuditEvent
from banking.ledger.actions import Line, post_entry
from banking.ledger.models import JournalEntry, Posting

from .helpers import customer_account, deadlock_once, key

pytestmark = pytest.mark.django_db(transaction=True)


def post(a, b, amount, idempotency_key):
    return post_entry(actor=None, lines=[Line.debit(a, amount), Line.credit(b, amount)], kind="transfer",
                      narration="Retried transfer", idempotency_key=idempotency_key)


def assert_posted_once(entry, a, b):
    assert JournalEntry.objects.filter(narration="Retried transfer").count() == 1
    assert Posting.objects.filter(entry_id=entry.pk).count() == 2
    assert AuditEvent.objects.filter(action="ledger.entry_posted", object_id=str(entry.pk)).count() == 1
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.balance, b.balance) == (6_000, 4_000)
    assert (a.version, b.version) == (2, 1)


@pytest.mark.parametrize("sqlstate", ["40P01", "40001"])
def test_a_deadlocked_posting_is_retried_and_posts_once(monkeypatch, sqlstate):
    a, b = customer_account(10_000), customer_account(0)
    calls = deadlock_once(monkeypatch, "banking.ledger.actions.execute_prepared", sqlstate)

    entry = post(a, b, 4_000, key())

    assert len(calls) == 2
    assert_posted_once(entry, a, b)


def test_other_database_errors_are_not_retried(monkeypatch):
    a, b = customer_account(10_000), customer_account(0)
    calls = deadlock_once(monkeypatch, "banking.ledger.actions.execute_prepared", "57014")  # query cancelled

    with pytest.raises(OperationalError):
        post(a, b, 4_000, key())

    assert len(calls) == 1
    assert not JournalEntry.objects.filter(narration="Retried transfer").exists()


def test_inside_a_callers_transaction_the_caller_retries(monkeypatch):
    a, b = customer_account(10_000), customer_account(0)
    calls = deadlock_once(monkeypatch, "banking.ledger.actions.execute_prepared")

    with pytest.raises(OperationalError), transaction.atomic():
        post(a, b, 4_000, key())

    assert len(calls) == 1
    assert not JournalEntry.objects.filter(narration="Retried transfer").exists()
