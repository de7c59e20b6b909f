"""Operations' partner screens (keys through maker-checker, webhook deliveries with
replay) and the customer's authoriser screen for payout batches; the wrong role and
the wrong customer are refused."""

import html
import re

import pytest
from django.urls import reverse

from banking.approvals.models import ApprovalRequest
from banking.partners.actions import authenticate_key, create_webhook, emit_event, submit_payout
from banking.partners.models import ApiKey, BatchStatus, KeyStatus, PayoutBatch, WebhookDelivery
from banking.partners.tests.factories import make_partner_bank
from banking.partners.tests.receiver import Receiver
from banking.testing import make_user, totp_code
from banking.users.roles import Role


def text(response):
    return html.unescape(response.content.decode())


@pytest.fixture
def pb(db):
    return make_partner_bank()


def _issue(client, pb, **fields):
    data = {"cif": pb.customer.cif, "name": "Acme ERP", "payout_account": pb.account.number, "threshold": "5000",
            "scopes": ["accounts:read", "payouts:write"], "networks": "203.0.113.0/24\n198.51.100.7", **fields}
    return client.post(reverse("ops:partner-key-issue"), data)


def test_a_key_is_issued_shown_once_and_approved_by_another_member(client, pb):
    client.force_login(pb.maker)
    response = _issue(client, pb)
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    token = re.search(r'data-testid="secret">([^<]+)<', response.content.decode()).group(1)
    key = ApiKey.objects.get(prefix=token.split(".")[0])
    assert key.status == KeyStatus.PENDING and key.partner.authorisation_threshold == 5000_00
    assert token not in text(client.get(reverse("ops:partner-keys")))  # shown once only
    approval = ApprovalRequest.objects.get(pk=key.approval_id)
    client.post(reverse("ops:partner-request-approve", args=[approval.pk]))
    key.refresh_from_db()
    assert key.status == KeyStatus.PENDING  # the maker cannot approve their own
    client.force_login(pb.checker)
    assert "Approve" in text(client.get(reverse("ops:partner-keys")))
    client.post(reverse("ops:partner-request-approve", args=[approval.pk]))
    key.refresh_from_db()
    assert key.status == KeyStatus.ACTIVE
    assert authenticate_key(token, "198.51.100.7").pk == key.pk


def test_bad_issue_forms_change_nothing(client, pb):
    client.force_login(pb.maker)
    for fields, message in [({"cif": "999999999"}, "No customer has CIF"), ({"networks": "nowhere"},
                            "not an IP address"), ({"scopes": []}, "Choose at least one scope"),
                            ({"threshold": "12.345"}, "")]:
        response = _issue(client, pb, **fields)
        assert response.status_code == 422 and message in text(response)
    assert not ApiKey.objects.exists()


def test_rotate_and_revoke_go_through_the_checker(client, pb):
    key, _token = pb.partner()
    client.force_login(pb.maker)
    rotated = client.post(reverse("ops:partner-key-rotate", args=[key.pk]), {"grace_hours": "2"})
    assert rotated.status_code == 200 and 'data-testid="secret"' in rotated.content.decode()
    client.post(reverse("ops:partner-key-revoke", args=[key.pk]), {"reason": "Contract ended"})
    assert ApprovalRequest.objects.filter(kind="partners.key_revocation", status="pending").count() == 1
    client.force_login(pb.checker)
    for approval in ApprovalRequest.objects.filter(kind__startswith="partners.key_r", status="pending"):
        client.post(reverse("ops:partner-request-approve", args=[approval.pk]))
    key.refresh_from_db()
    assert key.status == KeyStatus.REVOKED
    assert ApiKey.objects.get(replaces=key).status == KeyStatus.ACTIVE


def test_deliveries_show_every_attempt_and_replay_one(client, pb, settings):
    settings.CBS_WEBHOOKS_ALLOW_LOCAL = True
    key, _token = pb.partner()
    with Receiver() as receiver:
        endpoint, receiver.secret = create_webhook(actor=None, partner=key.partner, url=receiver.url,
                                                   events=["payment.settled"])
        event = emit_event(partner=key.partner, type="payment.settled", data={"payment_id": 1})
        delivery = WebhookDelivery.objects.get(event=event)
        client.force_login(pb.checker)
        response = client.post(reverse("ops:partner-delivery-replay", args=[delivery.pk]))
        assert response.status_code == 302
    page = text(client.get(reverse("ops:partner-deliveries")))
    assert event.public_id in page and "200 taken" in page and f"Replay by {pb.checker.username}" in page
    assert len(receiver.accepted) == 1


def test_other_roles_are_refused(client, pb):
    key, _token = pb.partner()
    for role in (Role.TELLER, Role.COMPLIANCE, Role.CUSTOMER):
        client.force_login(make_user(role, branch=pb.bank.branch if role == Role.TELLER else None))
        assert client.get(reverse("ops:partner-keys")).status_code == 403
        assert client.get(reverse("ops:partner-deliveries")).status_code == 403
        assert _issue(client, pb).status_code == 403
        assert client.post(reverse("ops:partner-key-revoke", args=[key.pk]), {"reason": "x"}).status_code == 403
    assert not ApprovalRequest.objects.filter(kind="partners.key_revocation").exists()


def _waiting_batch(pb):
    key, _token = pb.partner(threshold=0)
    batch, _ = submit_payout(partner=key.partner, key=key, idempotency_key="b1", items=[{
        "reference": "INV-7", "to_account": "50100012345678", "ifsc": "HDFC0001234", "name": "Ravi Kumar",
        "amount": 2_500_00, "rail": "NEFT"}])
    assert batch.status == BatchStatus.AWAITING_AUTHORISATION
    return batch


def test_the_customers_authoriser_authorises_a_waiting_batch_with_the_code(client, pb, run_jobs):
    batch = _waiting_batch(pb)
    user = pb.bank.customer_login(pb.account)
    client.force_login(user)
    page = text(client.get(reverse("customer:payouts")))
    assert "Acme ERP: 1 payment, ₹2,500.00" in page
    url = reverse("customer:payout-decide", args=[batch.pk])
    wrong = client.post(url, {"decision": "approve", "code": "000000"})
    assert wrong.status_code == 200 and "not right" in text(wrong)
    assert PayoutBatch.objects.get(pk=batch.pk).status == BatchStatus.AWAITING_AUTHORISATION
    done = client.post(url, {"decision": "approve", "code": totp_code(user.totp_secret)})
    assert done.status_code == 302
    run_jobs()
    assert PayoutBatch.objects.get(pk=batch.pk).status == BatchStatus.COMPLETED
    assert batch.items.get().payment is not None


def test_another_customer_cannot_see_or_decide_the_batch_and_staff_are_refused(client, pb):
    batch = _waiting_batch(pb)
    other = pb.bank.customer_login(pb.bank.account())
    client.force_login(other)
    url = reverse("customer:payout-decide", args=[batch.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"decision": "approve", "code": totp_code(other.totp_secret)}).status_code == 404
    assert "No payout batch is waiting" in text(client.get(reverse("customer:payouts")))
    client.force_login(pb.maker)
    assert client.get(reverse("customer:payouts")).status_code == 403
    assert PayoutBatch.objects.get(pk=batch.pk).status == BatchStatus.AWAITING_AUTHORISATION
