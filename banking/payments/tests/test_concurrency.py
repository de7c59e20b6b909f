"""Payments racing each other on PostgreSQL, with real threads."""

import threading

import pytest
from django.db import connection

from banking.core.errors import InsufficientFunds
from banking.ledger.chart import CLEARING
from banking.ledger.models import LedgerAccount

from ..actions import make_payment, record_return
from ..batches import settle_neft_batch
from ..models import NeftBatch, Payment, PaymentStatus, Rail
from ..reconciliation import run_neft_cycle
from .factories import fresh, key, make_bank, payee

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


def run_together(*calls):
    """Run each call in its own thread and connection, released at the same moment;
    return (results, errors)."""
    barrier = threading.Barrier(len(calls))
    results, errors = [], []

    def run(call):
        try:
            barrier.wait()
            results.append(call())
        except Exception as error:  # noqa: BLE001 - collected for the assertions
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


def test_two_payments_draining_one_account_at_once_one_is_refused():
    bank = make_bank()
    account = bank.account(balance=10_000_00)
    to = payee(account)

    def pay(rail):
        return lambda: make_payment(actor=None, customer=account.customer, debit_account=account, amount=7_000_00,
                                    idempotency_key=key(), rail=rail, payee=to)

    for _ in range(3):
        results, errors = run_together(pay(Rail.NEFT), pay(Rail.IMPS))
        assert len(results) == 1, errors
        assert len(errors) == 1 and isinstance(errors[0], InsufficientFunds)
        assert fresh(account).balance == 3_000_00 and fresh(account).available >= 0
        # Put the money back for the next round, by returning the payment that went.
        record_return(payment=results[0], code="AC01", reason="test")
        assert fresh(account).balance == 10_000_00
    assert Payment.objects.count() == 3


def test_a_return_racing_the_neft_batch_gives_the_money_back_once():
    bank = make_bank()
    account = bank.account(balance=50_000_00)
    to = payee(account)
    payments = [make_payment(actor=None, customer=account.customer, debit_account=account, amount=1_000_00,
                             idempotency_key=key(), rail=Rail.NEFT, payee=to)
                for _ in range(10)]
    returns = [lambda p=p: record_return(payment=p, code="AC04", reason="closed") for p in payments[:5]]
    _, errors = run_together(settle_neft_batch, *returns, *returns)
    assert errors == []
    statuses = sorted(Payment.objects.values_list("status", flat=True))
    assert statuses.count(PaymentStatus.REVERSED) == 5 and statuses.count(PaymentStatus.SETTLED) == 5
    assert fresh(account).balance == 50_000_00 - 5 * 1_000_00
    assert LedgerAccount.objects.get(code=CLEARING["NEFT"][0]).balance == 0


def test_two_neft_runs_at_once_settle_each_payment_in_one_cycle():
    """A half-hourly run that overlaps a slow one (or an operator's manual run)
    waits for it and finds nothing left, instead of failing on the cycle."""
    bank = make_bank()
    account = bank.account(balance=50_000_00)
    to = payee(account)
    for _ in range(6):
        make_payment(actor=None, customer=account.customer, debit_account=account, amount=1_000_00,
                     idempotency_key=key(), rail=Rail.NEFT, payee=to)
    results, errors = run_together(lambda: run_neft_cycle(actor=None), lambda: run_neft_cycle(actor=None))
    assert errors == []
    batches = [batch for batch, _ in results if batch is not None]
    assert len(batches) == 1 and batches[0].payments_count == 6
    assert NeftBatch.objects.count() == 1
    assert set(Payment.objects.values_list("batch", flat=True)) == {batches[0].pk}
    assert LedgerAccount.objects.get(code=CLEARING["NEFT"][0]).balance == 0
