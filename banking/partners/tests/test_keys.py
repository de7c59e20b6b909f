import pytest
from django.utils import timezone

from banking.approvals.actions import approve_request, reject_request
from banking.audit.models import AuditEvent
from banking.core.errors import NotPermitted, ValidationFailed

from ..actions import KeyRefused, authenticate_key, hash_secret, issue_key, revoke_key, rotate_key
from ..models import ApiKey, KeyStatus


def test_issued_key_works_only_after_another_member_approves(pb):
    issued = issue_key(actor=pb.maker, customer=pb.customer, name="Acme ERP", scopes=["accounts:read"],
                       allowed_networks="203.0.113.0/24", payout_account=pb.account)
    prefix, secret = issued.token.split(".")
    key = ApiKey.objects.get(prefix=prefix)
    assert key.secret_hash == hash_secret(secret) and secret not in key.secret_hash
    assert not ApiKey.objects.filter(secret_hash=secret).exists()
    with pytest.raises(KeyRefused) as refused:
        authenticate_key(issued.token, "203.0.113.9")
    assert refused.value.code == "api_key_expired"
    with pytest.raises(NotPermitted):
        approve_request(actor=pb.maker, request_id=issued.approval.pk)
    approve_request(actor=pb.checker, request_id=issued.approval.pk)
    assert authenticate_key(issued.token, "203.0.113.9").pk == key.pk
    assert AuditEvent.objects.filter(action="partners.key_activated").exists()


def test_the_secret_is_never_stored_or_audited(pb):
    key, token = pb.partner()
    secret = token.split(".")[1]
    assert not AuditEvent.objects.filter(after__icontains=secret).exists()
    assert secret not in str(ApiKey.objects.filter(pk=key.pk).values().first())


def test_a_wrong_secret_or_unknown_prefix_is_refused(pb):
    key, token = pb.partner()
    for bad in (token + "x", "pk_nothing.secret", "", token.split(".")[0]):
        with pytest.raises(KeyRefused) as refused:
            authenticate_key(bad, "127.0.0.1")
        assert refused.value.code == "invalid_api_key"


def test_an_address_outside_the_allow_list_is_refused(pb):
    key, token = pb.partner(networks=("203.0.113.0/24",))
    assert authenticate_key(token, "203.0.113.200")
    with pytest.raises(KeyRefused) as refused:
        authenticate_key(token, "198.51.100.1")
    assert refused.value.code == "address_not_allowed"


def test_a_revoked_key_is_refused(pb):
    key, token = pb.partner()
    approval = revoke_key(actor=pb.maker, key=key, reason="Partner contract ended")
    assert authenticate_key(token, "127.0.0.1")  # still works until approved
    approve_request(actor=pb.checker, request_id=approval.pk)
    with pytest.raises(KeyRefused) as refused:
        authenticate_key(token, "127.0.0.1")
    assert refused.value.code == "api_key_revoked"


def test_rotation_keeps_both_keys_valid_for_the_grace_period(pb):
    old, old_token = pb.partner()
    issued = rotate_key(actor=pb.maker, key=old, grace_hours=2)
    approve_request(actor=pb.checker, request_id=issued.approval.pk)
    assert authenticate_key(old_token, "127.0.0.1").pk == old.pk
    assert authenticate_key(issued.token, "127.0.0.1").pk == issued.key.pk
    old.refresh_from_db()
    assert timezone.timedelta(hours=1, minutes=59) < old.expires_at - timezone.now() <= timezone.timedelta(hours=2)
    ApiKey.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timezone.timedelta(seconds=1))
    with pytest.raises(KeyRefused) as refused:
        authenticate_key(old_token, "127.0.0.1")
    assert refused.value.code == "api_key_expired"
    assert authenticate_key(issued.token, "127.0.0.1").partner_id == old.partner_id


def test_a_rejected_rotation_never_works(pb):
    old, _token = pb.partner()
    issued = rotate_key(actor=pb.maker, key=old)
    reject_request(actor=pb.checker, request_id=issued.approval.pk, reason="Not asked for by the customer")
    issued.key.refresh_from_db()
    assert issued.key.status == KeyStatus.REJECTED
    with pytest.raises(KeyRefused):
        authenticate_key(issued.token, "127.0.0.1")


@pytest.mark.parametrize("fields, message", [
    ({"scopes": ["admin"]}, "Unknown scope"),
    ({"scopes": []}, "at least one scope"),
    ({"allowed_networks": ["not-an-ip"]}, "not an IP address"),
    ({"allowed_networks": []}, "at least one address"),
    ({"name": "  "}, "Name the partner"),
])
def test_bad_requests_for_a_key_change_nothing(pb, fields, message):
    before = ApiKey.objects.count()
    arguments = {"name": "ERP", "scopes": ["accounts:read"], "allowed_networks": ["10.0.0.0/8"], **fields}
    with pytest.raises(ValidationFailed, match=message):
        issue_key(actor=pb.maker, customer=pb.customer, **arguments)
    assert ApiKey.objects.count() == before


def test_an_individual_gets_no_partner_key(pb):
    person = pb.bank.account()
    with pytest.raises(ValidationFailed, match="corporate"):
        issue_key(actor=pb.maker, customer=person.customer, name="ERP", scopes=["accounts:read"],
                  allowed_networks=["10.0.0.0/8"])
