"""Payments racing each other on PostgreSQL, with real threads."""

import pytest

from banking.core.errors import InsufficientFunds, ValidationFailed
from banking.ledger.chart import CLEARING
from banking.ledger.models import BusinessDate, LedgerAccount
from banking.testing import run_together

from ..actions import make_payment, receive_collect_request, receive_inbound_payment, record_return
from ..batches import settle_neft_batch
from ..models import CollectRequest, NeftBatch, Payment, PaymentStatus, Rail, StandingInstruction
from ..reconciliation import run_neft_cycle
from ..references import next_in_series
from ..standing import create_standing_instruction
from .factories import fresh, key, make_bank, payee, vpa
from .test_remittance import remit

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


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


def test_a_remittance_form_sent_twice_at_once_sends_once():
    """Enter pressed again (or the page resubmitted) while the first press is still
    with the network: the second waits for the first and gives back its payment."""
    bank = make_bank()
    account = bank.account(balance=50_000_00)
    for _ in range(3):
        form = key()
        payments, errors = run_together(*(lambda: remit(bank.maker, 10_000_00, rail=Rail.NEFT, debit_account=account,
                                                        idempotency_key=form) for _ in range(2)))
        assert errors == []
        assert payments[0].pk == payments[1].pk
    assert Payment.objects.count() == 3
    assert fresh(account).balance == 50_000_00 - 3 * 10_000_00


def test_a_standing_instruction_form_sent_twice_at_once_sets_up_one():
    bank = make_bank()
    account = bank.account(balance=50_000_00)
    to = payee(account)
    for _ in range(3):
        form = key()
        made, errors = run_together(*(
            lambda: create_standing_instruction(
                actor=bank.maker, customer=account.customer, debit_account=account, payee=to, rail=Rail.NEFT,
                amount=1_000_00, frequency="monthly", start_on=BusinessDate.objects.current(), idempotency_key=form)
            for _ in range(2)))
        assert errors == []
        assert made[0].pk == made[1].pk
    assert StandingInstruction.objects.count() == 3


def test_numbers_taken_at_once_outside_a_transaction_are_all_different():
    """The inbound simulator takes its reference before its transaction starts."""
    day = BusinessDate.objects.current()
    taken = []
    for _ in range(5):
        numbers, errors = run_together(*(lambda: next_in_series("NEFT", day) for _ in range(8)))
        assert errors == []
        taken += numbers
    assert sorted(taken) == list(range(1, 41))


def test_two_customers_choosing_one_upi_id_at_once_one_gets_it():
    bank = make_bank()
    accounts = [bank.account(), bank.account()]
    made, errors = run_together(*(lambda a=a: vpa(a, "asha") for a in accounts))
    assert len(made) == 1 and made[0].address.startswith("asha@")
    assert len(errors) == 1 and isinstance(errors[0], ValidationFailed) and "is taken" in str(errors[0])


def test_one_network_message_delivered_twice_at_once_credits_once():
    bank = make_bank()
    account = bank.account(balance=0)
    payer = vpa(account, "payer")
    for n in range(3):
        reference = f"63311234567{n}"
        credits, errors = run_together(*(lambda: receive_inbound_payment(
            rail=Rail.IMPS, amount=1_000_00, reference=reference, remitter_name="Sneha Rao",
            remitter_account="50100012345678", remitter_ifsc="HDFC0001234", beneficiary_account=account.number)
            for _ in range(2)))
        assert errors == []
        assert credits[0].pk == credits[1].pk
        asks, errors = run_together(*(lambda: receive_collect_request(
            payer_vpa=payer.address, merchant_vpa="tatapower@okicici", merchant_name="Tata Power", amount=500_00,
            is_merchant=True, reference=f"UPICOL{reference}") for _ in range(2)))
        assert errors == []
        assert asks[0].pk == asks[1].pk
    assert fresh(account).balance == 3 * 1_000_00
    assert Payment.objects.count() == 3 and CollectRequest.objects.count() == 3
