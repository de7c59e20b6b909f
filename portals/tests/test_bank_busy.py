"""A request the database gives up on (a lock held past lock_timeout by another
connection, a statement past statement_timeout) gets "the bank is busy, try again",
never a server error, and leaves nothing half-written."""

import json

import psycopg
import pytest
from django.db import connection
from django.urls import reverse

from banking.approvals.models import ApprovalRequest
from banking.ledger.chart import ensure_standard_chart
from banking.ledger.models import JournalEntry, LedgerAccount
from banking.testing import make_branch, make_user
from banking.users.roles import Role

from .test_ops_ledger import journal_data

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def pending_journal(client):
    """A manual journal waiting for a supervisor, who is signed in to approve it."""
    chart = ensure_standard_chart()
    client.force_login(make_user(Role.OPERATIONS))
    client.post(reverse("ops:journal-new"),
                journal_data("Capital infusion", [(chart["1901"], "D", "2,500"), (chart["3100"], "C", "2500")]))
    client.force_login(make_user(Role.SUPERVISOR, branch=make_branch(), approval_limit=10_00_000_00))
    return ApprovalRequest.objects.get()


@pytest.fixture
def short_limits():
    """The web limits, made short so the test does not wait seconds for them."""
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '200ms'")
        cursor.execute("SET statement_timeout = '500ms'")
    yield
    with connection.cursor() as cursor:
        cursor.execute("RESET lock_timeout")
        cursor.execute("RESET statement_timeout")


def _another_connection():
    params = dict(connection.get_connection_params())
    for key in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(key, None)
    return psycopg.connect(**params)


def _nothing_posted(approval):
    approval.refresh_from_db()
    assert approval.status == "pending"
    assert not JournalEntry.objects.filter(kind="manual").exists()
    assert LedgerAccount.objects.get(code="1901").balance == 0


@pytest.mark.parametrize("htmx", [False, True])
def test_an_account_locked_past_the_limit_asks_to_try_again(client, pending_journal, short_limits, htmx):
    headers = {"HX-Request": "true"} if htmx else {}
    with _another_connection() as other:
        other.execute("SELECT 1 FROM ledger_ledgeraccount WHERE code = '1901' FOR UPDATE")
        response = client.post(reverse("supervisor:request-approve", args=[pending_journal.pk]), headers=headers)

    assert response.status_code == 503
    assert response["Retry-After"]
    if htmx:
        shown = json.loads(response["HX-Trigger"])["showMessage"]
        assert "The bank is busy" in shown["value"] and "nothing was saved" in shown["value"]
        assert response["HX-Reswap"] == "none"
    else:
        assert "The bank is busy" in response.text and "nothing was saved" in response.text
        assert "Error 500" not in response.text
    _nothing_posted(pending_journal)

    # Once the lock is gone, trying again works.
    response = client.post(reverse("supervisor:request-approve", args=[pending_journal.pk]))
    assert response.status_code == 302
    pending_journal.refresh_from_db()
    assert pending_journal.status == "approved"
    assert LedgerAccount.objects.get(code="1901").balance == 2_500_00


def test_a_statement_past_the_limit_asks_to_try_again(client, pending_journal, short_limits, monkeypatch):
    from banking.ledger import actions

    real = actions.execute_prepared

    def slow(sql, params):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(2)")
        return real(sql, params)

    monkeypatch.setattr(actions, "execute_prepared", slow)
    response = client.post(reverse("supervisor:request-approve", args=[pending_journal.pk]))

    assert response.status_code == 503
    assert "The bank is busy" in response.text
    _nothing_posted(pending_journal)
