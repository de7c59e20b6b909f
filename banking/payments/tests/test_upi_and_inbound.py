"""UPI IDs, merchants' collect requests, and inbound credits the bank cannot take."""

import datetime

import pytest
from django.utils import timezone

from banking.core.errors import LimitExceeded, NotPermitted, ValidationFailed
from banking.ledger.chart import CLEARING, RBI_SETTLEMENT
from banking.ledger.models import LedgerAccount

from ..actions import (
    approve_collect_request,
    create_vpa,
    decline_collect_request,
    make_payment,
    receive_collect_request,
    receive_inbound_payment,
)
from ..models import CollectStatus, Direction, PaymentStatus, Rail
from .factories import fresh, key, set_status, vpa

pytestmark = pytest.mark.django_db


def collect(address, amount=499_00, **overrides):
    fields = {"payer_vpa": address, "merchant_vpa": "tatapower@okicici", "merchant_name": "Tata Power",
              "amount": amount, "is_merchant": True, "reference": key(), "note": "Bill"}
    return receive_collect_request(**{**fields, **overrides})


def test_a_upi_id_is_unique_and_must_look_like_one(bank):
    account, other = bank.account(), bank.account()
    created = create_vpa(actor=None, customer=account.customer, account=account, name="Priya.S")
    assert created.address == "priya.s@cbsb"
    with pytest.raises(ValidationFailed, match="taken"):
        create_vpa(actor=None, customer=other.customer, account=other, name="priya.s")
    with pytest.raises(ValidationFailed, match="2 to 50"):
        create_vpa(actor=None, customer=other.customer, account=other, name="a b")
    with pytest.raises(NotPermitted):
        create_vpa(actor=None, customer=other.customer, account=account, name="notmine")


def test_paying_a_upi_id_of_this_bank_stays_in_the_bank(bank):
    payer, payee_account = bank.account(balance=5_000_00), bank.account(balance=0)
    address = vpa(payee_account).address
    payment = make_payment(actor=None, customer=payer.customer, debit_account=payer, amount=1_250_00,
                           idempotency_key=key(), rail=Rail.UPI, vpa=address)
    assert payment.status == PaymentStatus.SETTLED and payment.direction == Direction.INTERNAL
    assert len(payment.reference) == 12
    assert fresh(payee_account).balance == 1_250_00
    assert LedgerAccount.objects.get(code=CLEARING["UPI"][0]).balance == 0


def test_an_unknown_upi_id_of_this_bank_is_refused(bank):
    payer = bank.account()
    with pytest.raises(ValidationFailed, match="not a UPI ID of this bank"):
        make_payment(actor=None, customer=payer.customer, debit_account=payer, amount=100_00,
                     idempotency_key=key(), rail=Rail.UPI, vpa="nobody@cbsb")


def test_a_merchants_collect_request_is_paid_once_when_approved(bank):
    account = bank.account(balance=10_000_00)
    request = collect(vpa(account).address)
    token = key()
    approved = approve_collect_request(actor=None, customer=account.customer, request_id=request.pk,
                                       idempotency_key=token)
    assert approved.status == CollectStatus.APPROVED
    assert approved.payment.status == PaymentStatus.SETTLED and approved.payment.beneficiary_name == "Tata Power"
    assert fresh(account).balance == 10_000_00 - 499_00
    with pytest.raises(ValidationFailed, match="already paid"):
        approve_collect_request(actor=None, customer=account.customer, request_id=request.pk, idempotency_key=token)
    assert fresh(account).balance == 10_000_00 - 499_00


def test_collect_requests_from_persons_are_refused(bank):
    account = bank.account()
    with pytest.raises(NotPermitted, match="only merchants"):
        collect(vpa(account).address, is_merchant=False)


def test_a_collect_request_above_the_upi_limit_is_refused(bank):
    account = bank.account()
    with pytest.raises(LimitExceeded):
        collect(vpa(account).address, amount=1_00_000_01)


def test_an_expired_collect_request_cannot_be_approved(bank):
    account = bank.account(balance=10_000_00)
    request = collect(vpa(account).address, expires_at=timezone.now() + datetime.timedelta(seconds=1))
    request.expires_at = timezone.now() - datetime.timedelta(seconds=1)
    request.save()
    with pytest.raises(ValidationFailed, match="expired"):
        approve_collect_request(actor=None, customer=account.customer, request_id=request.pk, idempotency_key=key())
    assert fresh(account).balance == 10_000_00


def test_another_customer_cannot_decide_my_collect_request(bank):
    mine, theirs = bank.account(), bank.account()
    request = collect(vpa(mine).address)
    with pytest.raises(NotPermitted):
        decline_collect_request(actor=None, customer=theirs.customer, request_id=request.pk)
    declined = decline_collect_request(actor=None, customer=mine.customer, request_id=request.pk)
    assert declined.status == CollectStatus.DECLINED


@pytest.mark.parametrize(("status", "code"), [("closed", "AC04"), ("frozen", "AC06")])
def test_inbound_credit_to_a_closed_or_frozen_account_goes_back_to_the_sender(bank, status, code):
    account = set_status(bank.account(balance=0), status, bank.checker)
    rbi = LedgerAccount.objects.get(code=RBI_SETTLEMENT).balance
    payment = receive_inbound_payment(rail=Rail.RTGS, amount=3_00_000_00, reference="HDFCRC2026112800000001",
                                      remitter_name="Acme", beneficiary_account=account.number)
    assert payment.status == PaymentStatus.RETURNED and payment.return_code == code
    assert fresh(account).balance == 0
    assert LedgerAccount.objects.get(code=RBI_SETTLEMENT).balance == rbi
    assert LedgerAccount.objects.get(code=CLEARING["RTGS"][1]).balance == 0


def test_inbound_credit_to_a_debit_frozen_account_is_taken(bank):
    account = set_status(bank.account(balance=0), "debit_frozen", bank.checker)
    payment = receive_inbound_payment(rail=Rail.UPI, amount=500_00, reference="612345678901", remitter_name="Asha",
                                      beneficiary_account=account.number)
    assert payment.status == PaymentStatus.SETTLED and fresh(account).balance == 500_00
