"""A payment's status moves only as Payment.pipeline allows (README "Statuses"),
each step stamped on the row and in its timeline; the NEFT cycle's set-based
settlement takes its from-statuses from the same table."""

import datetime
import itertools
import uuid

import pytest
from django.utils import timezone

from banking.core.errors import ValidationFailed

from ..batches import settle_neft_batch
from ..models import Direction, Origin, Payment, PaymentEvent, PaymentStatus, Rail
from .factories import key, payee
from .test_payments import pay

pytestmark = pytest.mark.django_db

S = PaymentStatus
ALLOWED = {
    (S.INITIATED, S.AWAITING_APPROVAL), (S.INITIATED, S.DEBITED),
    (S.INITIATED, S.SETTLED),   # within the bank, or an inbound payment credited
    (S.INITIATED, S.RETURNED),  # an inbound payment sent back to the remitter
    (S.AWAITING_APPROVAL, S.DEBITED), (S.AWAITING_APPROVAL, S.REJECTED),
    (S.DEBITED, S.SENT),
    (S.SENT, S.SETTLED), (S.SENT, S.RETURNED), (S.SENT, S.FAILED),
    (S.SETTLED, S.RETURNED),    # returned after settlement
    (S.RETURNED, S.REVERSED), (S.FAILED, S.REVERSED),
}
STAMPS = {S.DEBITED: "debited_at", S.SENT: "sent_at", S.SETTLED: "settled_at", S.RETURNED: "returned_at",
          S.FAILED: "failed_at", S.REVERSED: "reversed_at"}


def a_payment(status):
    return Payment.objects.create(
        number=f"PAYT{uuid.uuid4().hex[:12]}", direction=Direction.OUTWARD, rail=Rail.NEFT, origin=Origin.INTERNET,
        amount=1_000_00, idempotency_key=key(), business_date=datetime.date(2025, 1, 6), status=status)


@pytest.mark.parametrize(("source", "target"), list(itertools.product(S, S)))
def test_every_allowed_transition_works_and_every_other_raises(source, target):
    payment = a_payment(source)
    at = timezone.now()
    if (source, target) in ALLOWED:
        left = payment.move_to(target, note="the next step", at=at)
        assert left == source
        payment.refresh_from_db()
        assert payment.status == target and payment.updated_at == at
        if target in STAMPS:
            assert getattr(payment, STAMPS[target]) == at
        event = PaymentEvent.objects.get(payment=payment)
        assert (event.status, event.at, event.note) == (target, at, "the next step")
    else:
        with pytest.raises(ValidationFailed, match=f"is {source.label.lower()}"):
            payment.move_to(target, at=at)
        payment.refresh_from_db()
        assert payment.status == source and payment.updated_at != at
        assert not PaymentEvent.objects.filter(payment=payment).exists()


def test_the_table_is_the_readmes_statuses():
    assert set(Payment.pipeline) == set(S)
    assert {(source, target) for source, targets in Payment.pipeline.items() for target in targets} == ALLOWED
    assert set(Payment.sources_of(S.SETTLED)) == {S.INITIATED, S.SENT}
    assert set(Payment.sources_of(S.REVERSED)) == {S.RETURNED, S.FAILED}
    assert Payment.sources_of(S.INITIATED) == ()
    assert Payment.move_to.alters_data is True


def test_the_neft_cycle_settles_only_what_the_table_lets_settle(bank, monkeypatch):
    account = bank.account(balance=5_000_00)
    payment = pay(account, 1_200_00, payee=payee(account))
    assert payment.status == S.SENT
    without_sent = {**Payment.pipeline, S.SENT: (S.RETURNED, S.FAILED)}
    monkeypatch.setattr(Payment, "pipeline", without_sent)
    settle_neft_batch()
    payment.refresh_from_db()
    assert payment.status == S.SENT and payment.settled_at is None
    assert not payment.events.filter(status=S.SETTLED).exists()
