"""The audit trail's SQL runs as it is written in banking/audit/sql/: the append-only
rule, which the audit trail's tables and the ledger's use, and the one way an event is
recorded and hashed, which the posting function uses too."""

from pathlib import Path

import pytest
from django.db import connection

from banking.core.tests.sql_files import installed_and_file_definitions

SQL = Path(__file__).resolve().parents[1] / "sql"

pytestmark = pytest.mark.django_db


def test_the_installed_cbs_reject_change_is_the_file():
    installed, from_file = installed_and_file_definitions("cbs_reject_change", SQL / "reject_change.sql")
    assert installed == from_file


@pytest.mark.parametrize(("function", "file"), [
    ("cbs_record_event", "record_event.sql"), ("cbs_event_hash", "record_event.sql")])
def test_the_installed_event_functions_are_the_file(function, file):
    installed, from_file = installed_and_file_definitions(function, SQL / file)
    assert installed == from_file


def test_every_append_only_table_uses_the_one_function():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, p.proname, p.pronamespace::regnamespace::text FROM pg_trigger t"
            " JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid"
            " WHERE t.tgname LIKE '%%_append_only' ORDER BY c.relname"
        )
        triggers = cursor.fetchall()
        cursor.execute("SELECT count(*) FROM pg_proc WHERE proname = 'cbs_reject_change'")
        definitions = cursor.fetchone()[0]
    assert {table for table, _, _ in triggers} >= {
        "audit_auditevent", "audit_auditseal", "ledger_journalentry", "ledger_posting"}
    assert {(function, schema) for _, function, schema in triggers} == {("cbs_reject_change", "public")}
    assert definitions == 1
