import json

import pytest
from django.utils import timezone

from banking.core.errors import NotPermitted, ValidationFailed

from ..actions import DeliveryFailed, create_webhook, deliver_webhook, emit_event, replay_delivery
from ..models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent
from .receiver import Receiver, verify


@pytest.fixture
def local_hooks(settings):
    settings.CBS_WEBHOOKS_ALLOW_LOCAL = True


def _endpoint(pb, receiver, events=("payment.settled", "payout.item_failed")):
    key, _token = pb.partner()
    endpoint, secret = create_webhook(actor=None, partner=key.partner, url=receiver.url, events=list(events))
    receiver.secret = secret
    return key.partner, endpoint


def test_a_receiver_on_localhost_verifies_the_signature(pb, local_hooks, run_jobs):
    with Receiver() as receiver:
        partner, endpoint = _endpoint(pb, receiver)
        event = emit_event(partner=partner, type="payment.settled", data={"payment_id": 7})
        run_jobs()
    assert len(receiver.requests) == 1
    header, body = receiver.requests[0]
    assert verify(receiver.secret, header, body)
    assert not verify("whsec_other", header, body)
    sent = json.loads(body)
    assert set(sent) == {"id", "type", "created_at", "data"}
    assert sent["id"] == event.public_id and sent["type"] == "payment.settled" and sent["data"] == {"payment_id": 7}
    assert sent["created_at"].endswith("+05:30")
    delivery = WebhookDelivery.objects.get(event=event)
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempt_log.get().response_status == 200


def test_a_receiver_failing_twice_gets_the_event_on_the_third_attempt_and_once_only(pb, local_hooks):
    with Receiver(fail_first=2) as receiver:
        partner, endpoint = _endpoint(pb, receiver)
        event = emit_event(partner=partner, type="payment.settled", data={"payment_id": 8})
        delivery = WebhookDelivery.objects.get(event=event)
        waits = []
        for _attempt in range(2):
            with pytest.raises(DeliveryFailed) as failed:
                deliver_webhook(delivery_id=delivery.pk)
            waits.append(failed.value.next_attempt_at - timezone.now())
        assert deliver_webhook(delivery_id=delivery.pk) == DeliveryStatus.DELIVERED
        assert deliver_webhook(delivery_id=delivery.pk) == DeliveryStatus.DELIVERED  # a late retry sends nothing
    assert len(receiver.requests) == 3
    assert [event["id"] for event in receiver.accepted] == [event.public_id]
    assert {json.loads(body)["id"] for _header, body in receiver.requests} == {event.public_id}
    assert waits[1] > waits[0]  # the waits double
    assert list(delivery.attempt_log.order_by("number").values_list("response_status", flat=True)) == [503, 503, 200]


def test_retries_stop_24_hours_after_the_event(pb, local_hooks):
    with Receiver(fail_first=99) as receiver:
        partner, endpoint = _endpoint(pb, receiver)
        event = emit_event(partner=partner, type="payment.settled", data={})
        WebhookEvent.objects.filter(pk=event.pk).update(created_at=timezone.now() - timezone.timedelta(hours=24))
        delivery = WebhookDelivery.objects.get(event=event)
        assert deliver_webhook(delivery_id=delivery.pk) == DeliveryStatus.GAVE_UP
        assert deliver_webhook(delivery_id=delivery.pk) == DeliveryStatus.GAVE_UP
    assert len(receiver.requests) == 1


def test_each_event_has_its_own_id_and_only_subscribers_get_it(pb, local_hooks):
    with Receiver() as receiver:
        partner, endpoint = _endpoint(pb, receiver, events=["payment.returned"])
        first = emit_event(partner=partner, type="payment.returned", data={})
        second = emit_event(partner=partner, type="payment.returned", data={})
        ignored = emit_event(partner=partner, type="payment.settled", data={})
    assert first.public_id != second.public_id
    assert WebhookDelivery.objects.filter(event=ignored).count() == 0
    assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 2


def test_operations_replay_a_delivered_event_and_see_every_attempt(pb, local_hooks):
    with Receiver() as receiver:
        partner, endpoint = _endpoint(pb, receiver)
        event = emit_event(partner=partner, type="payment.settled", data={})
        delivery = WebhookDelivery.objects.get(event=event)
        deliver_webhook(delivery_id=delivery.pk)
        with pytest.raises(NotPermitted):
            replay_delivery(actor=pb.bank.maker, delivery=delivery)
        replay_delivery(actor=pb.checker, delivery=delivery)
    assert len(receiver.requests) == 2
    attempts = list(delivery.attempt_log.order_by("number"))
    assert [a.replay_by_id for a in attempts] == [None, pb.checker.pk]
    assert json.loads(receiver.requests[0][1])["id"] == json.loads(receiver.requests[1][1])["id"]


@pytest.mark.parametrize("url", ["http://erp.example.com/hooks", "https://127.0.0.1/hooks", "https://10.1.2.3/h",
                                 "https://localhost/hooks", "ftp://example.com/x", "not a url",
                                 "https://[::1/hooks"])
def test_production_refuses_plain_http_and_private_addresses(pb, settings, url):
    settings.CBS_WEBHOOKS_ALLOW_LOCAL = False
    key, _token = pb.partner()
    with pytest.raises(ValidationFailed) as refused:
        create_webhook(actor=None, partner=key.partner, url=url, events=["payment.settled"])
    assert refused.value.details["code"] == "invalid_url"
    assert not WebhookEndpoint.objects.exists()


def test_unknown_events_are_refused(pb, local_hooks):
    key, _token = pb.partner()
    with pytest.raises(ValidationFailed) as refused:
        create_webhook(actor=None, partner=key.partner, url="http://127.0.0.1:9/x", events=["payment.everything"])
    assert refused.value.details["code"] == "invalid_events"
