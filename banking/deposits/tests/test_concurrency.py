"""Account actions racing each other on PostgreSQL, with real threads."""

import threading

import pytest
from django.db import connection, connections, transaction

from banking.approvals.models import ApprovalRequest
from banking.core.errors import ValidationFailed
from banking.deposits import actions, internet_banking
from banking.deposits.models import DepositAccount
from banking.testing import run_together

from .factories import make_customer

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


def test_one_opening_form_sent_twice_at_once_opens_one_account(bank):
    for form in ("form-1", "form-2", "form-3"):
        accounts, errors = run_together(*(
            lambda: actions.request_account_opening(actor=bank.teller, customer=bank.customer, product="SB",
                                                    idempotency_key=form)
            for _ in range(2)))
        assert errors == []
        assert accounts[0].pk == accounts[1].pk
    assert DepositAccount.objects.filter(customer=bank.customer).count() == 3
    assert ApprovalRequest.objects.count() == 3


def test_an_account_being_changed_holds_up_nothing_but_itself(bank):
    """Freezing one account leaves its product, its customer and its branch free:
    other accounts of the product, and other work at the branch, go on meanwhile."""
    account = bank.open_account()
    locked, release = threading.Event(), threading.Event()

    def hold_the_account():
        try:
            with transaction.atomic():
                actions._locked(account)
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_account)
    holder.start()
    try:
        assert locked.wait(timeout=30)
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                for table, pk in (("deposits_product", account.product_id), ("customers_customer", account.customer_id),
                                  ("users_branch", account.branch_id), ("deposits_depositaccount", account.pk)):
                    cursor.execute(f"SELECT count(*) FROM (SELECT 1 FROM {table} WHERE id = %s "  # noqa: S608
                                   "FOR UPDATE SKIP LOCKED) free", [pk])
                    free = cursor.fetchone()[0] == 1
                    assert free == (table != "deposits_depositaccount"), table
        finally:
            other.close()
    finally:
        release.set()
        holder.join()


def test_two_customers_sharing_an_email_enabled_at_once_one_gets_the_login(bank):
    """A couple with one email address, each set up at a different counter at the
    same moment: the second teller is told the address belongs to another login."""
    couple = [make_customer(branch=bank.branch, created_by=bank.teller, email="family@example.in") for _ in range(2)]
    users, errors = run_together(*(
        lambda c=c: internet_banking.enable_internet_banking(actor=bank.teller, customer=c, link_for=str)
        for c in couple))
    assert len(users) == 1 and users[0].email == "family@example.in"
    assert len(errors) == 1 and isinstance(errors[0], ValidationFailed)
    assert "belongs to another login" in str(errors[0])
