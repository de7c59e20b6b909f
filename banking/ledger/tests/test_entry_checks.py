"""The balanced-entry check (sql/entry_checks.sql): per statement over the rows it
wrote, and at commit for the entries a statement left unbalanced. Whatever the
statements, a transaction commits only with every entry it touched balanced."""

from pathlib import Path

import pytest
from django.db import IntegrityError, connection, transaction

from banking.core.tests.sql_files import installed_and_file_definitions

from .helpers import customer_account, transfer

pytestmark = pytest.mark.django_db

SQL = Path(__file__).resolve().parents[1] / "sql"

ENTRY = ("INSERT INTO ledger_journalentry (business_date, booked_at, kind, narration, channel, reference,"
         " idempotency_key, content_hash, total, currency) VALUES (CURRENT_DATE, now(), 'manual', 'x', 'system',"
         " '', %s, '', 100, 'INR') RETURNING id")
POSTING = ("INSERT INTO ledger_posting (entry_id, account_id, side, amount, balance_after, business_date)"
           " VALUES (%s, %s, %s, %s, 0, CURRENT_DATE)")


def statements(*steps):
    """Run each (sql, params) as its own statement in one transaction, then the
    commit's deferred checks; returns the first statement's row."""
    first = None
    with transaction.atomic(), connection.cursor() as cursor:
        for sql, params in steps:
            cursor.execute(sql, params)
            if first is None and cursor.description:
                first = cursor.fetchone()
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    return first


def pending():
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM ledger_entrycheck")
        return cursor.fetchone()[0]


def test_an_entry_balanced_over_several_statements_commits_and_leaves_nothing_to_check():
    a, b = customer_account(10_000), customer_account(0)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(ENTRY, ["split-1"])
        entry_id = cursor.fetchone()[0]
        cursor.execute(POSTING, [entry_id, a.pk, "D", 100])
        cursor.execute(POSTING, [entry_id, b.pk, "C", 100])
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        assert pending() == 0
    assert pending() == 0


def test_a_posting_added_later_to_a_balanced_entry_is_refused_at_commit():
    a, b = customer_account(10_000), customer_account(0)
    entry = transfer(a, b, 100)
    with pytest.raises(IntegrityError, match=f"journal entry {entry.pk} is unbalanced"):
        statements((POSTING, [entry.pk, a.pk, "D", 50]))
    assert entry.postings.count() == 2


def test_an_entry_left_with_one_posting_is_refused_though_another_entry_balances():
    a, b = customer_account(10_000), customer_account(0)
    with (pytest.raises(IntegrityError, match="unbalanced: debits 100 credits 0 in 1 posting"),
          transaction.atomic(), connection.cursor() as cursor):
        cursor.execute(ENTRY, ["one-line"])
        lonely = cursor.fetchone()[0]
        cursor.execute(ENTRY, ["two-lines"])
        whole = cursor.fetchone()[0]
        cursor.execute(POSTING + ", (%s, %s, %s, %s, 0, CURRENT_DATE), (%s, %s, %s, %s, 0, CURRENT_DATE)",
                       [lonely, a.pk, "D", 100, whole, a.pk, "D", 100, whole, b.pk, "C", 100])
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_an_entry_and_its_postings_in_one_statement_are_checked_when_it_ends():
    a, b = customer_account(10_000), customer_account(0)
    sql = ("WITH e AS (" + ENTRY + ") INSERT INTO ledger_posting (entry_id, account_id, side, amount, balance_after,"
           " business_date) SELECT e.id, x.account, x.side, 100, 0, CURRENT_DATE FROM e,"
           " (VALUES (%s::bigint, 'D'), (%s::bigint, 'C')) AS x(account, side)")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, ["one-statement", a.pk, b.pk])
        assert pending() == 0  # nothing waits for the commit


@pytest.mark.parametrize("function", ["cbs_postings_inserted", "cbs_entries_inserted", "cbs_check_entry"])
def test_the_installed_checks_are_the_file(function):
    installed, from_file = installed_and_file_definitions(function, SQL / "entry_checks.sql")
    assert installed == from_file
