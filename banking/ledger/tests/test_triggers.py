"""The database refuses what the application must never do, even through raw SQL."""

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from .helpers import customer_account, transfer

pytestmark = pytest.mark.django_db


def raw(sql, params=()):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_an_unbalanced_entry_fails_at_commit():
    a, b = customer_account(10_000), customer_account(0)
    entry = transfer(a, b, 100)
    with pytest.raises(IntegrityError, match="unbalanced"):
        raw(
            "INSERT INTO ledger_journalentry (business_date, booked_at, kind, narration, channel, reference,"
            " idempotency_key, content_hash, total, currency) VALUES (CURRENT_DATE, now(), 'manual', 'x', 'system',"
            " '', 'raw-1', '', 100, 'INR') RETURNING id"
            "; INSERT INTO ledger_posting (entry_id, account_id, side, amount, balance_after, business_date)"
            " VALUES (currval('ledger_journalentry_id_seq'), %s, 'D', 100, 0, CURRENT_DATE)",
            [a.pk],
        )
    assert entry.postings.count() == 2


def test_an_entry_without_postings_fails_at_commit():
    with pytest.raises(IntegrityError, match="no postings"):
        raw(
            "INSERT INTO ledger_journalentry (business_date, booked_at, kind, narration, channel, reference,"
            " idempotency_key, content_hash, total, currency) VALUES (CURRENT_DATE, now(), 'manual', 'x', 'system',"
            " '', 'raw-2', '', 100, 'INR')"
        )


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE ledger_posting SET amount = amount + 1",
        "DELETE FROM ledger_posting",
        "UPDATE ledger_journalentry SET narration = 'edited'",
        "DELETE FROM ledger_journalentry",
    ],
)
def test_entries_and_postings_cannot_be_edited_or_deleted(sql):
    a, b = customer_account(10_000), customer_account(0)
    transfer(a, b, 100)
    with pytest.raises(DatabaseError, match="append-only"):
        raw(sql)


def test_amounts_must_be_above_zero_in_the_database():
    a = customer_account(10_000)
    entry = transfer(a, customer_account(0), 100)
    with pytest.raises(IntegrityError, match="posting_amount_positive"):
        raw(
            "INSERT INTO ledger_posting (entry_id, account_id, side, amount, balance_after, business_date)"
            " VALUES (%s, %s, 'D', 0, 0, CURRENT_DATE)",
            [entry.pk, a.pk],
        )
