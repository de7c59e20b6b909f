import pytest

from banking.core.errors import IdempotencyConflict, NotPermitted
from banking.payments.models import Payment, PaymentStatus

from ..actions import authorise_payout, create_webhook, submit_payout
from ..models import BatchStatus, ItemStatus, WebhookEvent


def item(reference, amount=1_000_00, **fields):
    return {"reference": reference, "to_account": "50100012345678", "ifsc": "HDFC0001234", "name": "Ravi Kumar",
            "amount": amount, "rail": "IMPS", **fields}


def test_a_batch_within_the_threshold_is_paid_and_refusals_have_codes(pb, run_jobs, settings):
    settings.CBS_WEBHOOKS_ALLOW_LOCAL = True
    key, _token = pb.partner(threshold=10_00_000_00)
    create_webhook(actor=None, partner=key.partner, url="http://127.0.0.1:9/x",
                   events=["payment.settled", "payout.item_failed"])
    inside = pb.bank.account()
    items = [item("INV-1"), item("INV-2", to_account=inside.number, ifsc="CBSB0000001", rail="INTERNAL"),
             item("INV-3", ifsc="XXXX"), item("INV-1"), item("INV-4", rail="RTGS"),
             item("INV-5", amount=4_99_500_00), item("INV-6", amount=6_00_000_00)]
    batch, replayed = submit_payout(partner=key.partner, key=key, idempotency_key="k1", items=items)
    assert not replayed
    assert batch.response["accepted"] == 3
    assert batch.response["rejected"] == [{"reference": "INV-3", "code": "invalid_ifsc"},
                                          {"reference": "INV-1", "code": "duplicate_reference"},
                                          {"reference": "INV-4", "code": "limit_exceeded"},
                                          {"reference": "INV-6", "code": "limit_exceeded"}]
    run_jobs()
    batch.refresh_from_db()
    assert batch.status == BatchStatus.COMPLETED
    statuses = dict(batch.items.values_list("reference", "status"))
    assert statuses["INV-2"] == ItemStatus.SETTLED
    assert statuses["INV-5"] == ItemStatus.FAILED  # over the day's IMPS limit once INV-1 is paid
    assert batch.items.get(reference="INV-5").code == "limit_exceeded"
    paid = batch.items.get(reference="INV-2").payment
    assert paid.status == PaymentStatus.SETTLED and paid.amount == 1_000_00
    assert WebhookEvent.objects.filter(type="payout.item_failed", data__reference="INV-5").exists()
    assert WebhookEvent.objects.filter(type="payment.settled", data__reference="INV-2").exists()


def test_the_same_key_replays_and_another_body_is_refused(pb):
    key, _token = pb.partner()
    first, _ = submit_payout(partner=key.partner, key=key, idempotency_key="k2", items=[item("A")])
    again, replayed = submit_payout(partner=key.partner, key=key, idempotency_key="k2", items=[item("A")])
    assert replayed and again.pk == first.pk and again.response == first.response
    with pytest.raises(IdempotencyConflict):
        submit_payout(partner=key.partner, key=key, idempotency_key="k2", items=[item("B")])


def test_a_batch_above_the_threshold_waits_for_the_customers_authoriser(pb, run_jobs):
    key, _token = pb.partner(threshold=1_500_00)
    batch, _ = submit_payout(partner=key.partner, key=key, idempotency_key="k3", items=[item("A"), item("B")])
    assert batch.status == BatchStatus.AWAITING_AUTHORISATION
    run_jobs()
    assert not Payment.objects.filter(payout_item__batch=batch).exists()
    authoriser = pb.bank.customer_login(pb.account)
    other = pb.bank.account()
    stranger = pb.bank.customer_login(other)
    with pytest.raises(NotPermitted):
        authorise_payout(actor=stranger, customer=other.customer, batch_id=batch.pk, approve=True)
    authorise_payout(actor=authoriser, customer=pb.customer, batch_id=batch.pk, approve=True)
    run_jobs()
    batch.refresh_from_db()
    assert batch.status == BatchStatus.COMPLETED
    assert Payment.objects.filter(payout_item__batch=batch).count() == 2


def test_a_declined_batch_pays_nothing(pb, run_jobs):
    key, _token = pb.partner(threshold=0)
    batch, _ = submit_payout(partner=key.partner, key=key, idempotency_key="k4", items=[item("A")])
    authorise_payout(actor=pb.bank.customer_login(pb.account), customer=pb.customer, batch_id=batch.pk,
                     approve=False)
    run_jobs()
    assert batch.items.get().status == ItemStatus.DECLINED
    assert not Payment.objects.filter(payout_item__batch=batch).exists()


def test_a_returned_payout_raises_payment_returned_and_moves_its_item(pb, run_jobs, settings):
    from banking.payments.actions import record_return

    settings.CBS_WEBHOOKS_ALLOW_LOCAL = True
    key, _token = pb.partner()
    create_webhook(actor=None, partner=key.partner, url="http://127.0.0.1:9/x", events=["payment.returned"])
    batch, _ = submit_payout(partner=key.partner, key=key, idempotency_key="k5",
                             items=[item("R-1", rail="NEFT")])
    run_jobs()
    payout = batch.items.get()
    assert payout.status == ItemStatus.SENT
    record_return(payment=payout.payment, code="R03", reason="Account does not exist")
    payout.refresh_from_db()
    assert payout.status == ItemStatus.RETURNED
    event = WebhookEvent.objects.get(type="payment.returned")
    assert event.data["reference"] == "R-1" and event.data["return_code"] == "R03"
    assert event.data["amount"] == "1000.00" and event.data["rail"] == "neft"
