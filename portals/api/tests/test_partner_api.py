"""The partner API: keys (scopes, allow-list, revocation, rotation), another partner's
ids, accounts and transactions, payouts and webhooks."""

import json
import uuid

import pytest

from banking.approvals.actions import approve_request
from banking.partners.actions import revoke_key, rotate_key
from banking.partners.models import PayoutBatch, WebhookEndpoint
from banking.partners.tests.factories import make_partner_bank
from banking.payments.models import Payment


@pytest.fixture
def pb(db):
    return make_partner_bank()


@pytest.fixture
def local_hooks(settings):
    settings.CBS_WEBHOOKS_ALLOW_LOCAL = True


class Partner:
    def __init__(self, client, token, address="127.0.0.1"):
        self.client, self.token, self.address = client, token, address

    def _h(self, headers=None):
        return {"Authorization": f"Api-Key {self.token}", **(headers or {})}

    def get(self, url, **params):
        return self.client.get(url, params, headers=self._h(), REMOTE_ADDR=self.address)

    def post(self, url, body, headers=None, raw=None):
        return self.client.post(url, raw if raw is not None else json.dumps(body), content_type="application/json",
                                headers=self._h(headers), REMOTE_ADDR=self.address)

    def delete(self, url):
        return self.client.delete(url, headers=self._h(), REMOTE_ADDR=self.address)


def item(reference, amount="1000.00", **fields):
    return {"reference": reference, "to_account": "50100012345678", "ifsc": "HDFC0001234", "name": "Ravi Kumar",
            "amount": amount, "rail": "imps", **fields}


def test_accounts_are_the_bound_customers_only(pb, client):
    _key, token = pb.partner()
    other = pb.corporate()
    response = Partner(client, token).get("/api/v1/partner/accounts/")
    assert response.status_code == 200
    body = response.json()
    assert [a["number"] for a in body["results"]] == [pb.account.number]
    assert body["results"][0]["balance"] == "5000000.00" and body["results"][0]["kind"] == "current"
    assert body["next"] is None
    transactions = Partner(client, token).get(f"/api/v1/partner/accounts/{pb.account.number}/transactions/")
    assert transactions.status_code == 200
    assert transactions.json()["results"][0]["direction"] == "credit"
    other_account = Partner(client, token).get(f"/api/v1/partner/accounts/{other.number}/transactions/")
    assert other_account.status_code == 404 and other_account.json()["code"] == "not_found"
    bad_date = Partner(client, token).get(f"/api/v1/partner/accounts/{pb.account.number}/transactions/",
                                          **{"from": "07-12-2026"})
    assert bad_date.status_code == 400 and bad_date.json()["code"] == "invalid_date"


def test_no_key_a_wrong_key_and_a_missing_scope(pb, client):
    _key, token = pb.partner(scopes=("webhooks:manage",))
    assert client.get("/api/v1/partner/accounts/").json()["code"] == "not_authenticated"
    wrong = Partner(client, token + "x").get("/api/v1/partner/accounts/")
    assert wrong.status_code == 401 and wrong.json()["code"] == "invalid_api_key"
    assert wrong["Content-Type"] == "application/problem+json"
    scoped = Partner(client, token).get("/api/v1/partner/accounts/")
    assert scoped.status_code == 403
    assert Partner(client, token).get("/api/v1/partner/webhooks/").status_code == 200


def test_an_address_outside_the_allow_list_is_refused(pb, client):
    _key, token = pb.partner(networks=("203.0.113.0/24",))
    assert Partner(client, token, "203.0.113.5").get("/api/v1/partner/accounts/").status_code == 200
    outside = Partner(client, token, "198.51.100.9").get("/api/v1/partner/accounts/")
    assert outside.status_code == 403 and outside.json()["code"] == "address_not_allowed"


def test_a_revoked_key_is_refused(pb, client):
    key, token = pb.partner()
    approve_request(actor=pb.checker, request_id=revoke_key(actor=pb.maker, key=key, reason="Leaked").pk)
    response = Partner(client, token).get("/api/v1/partner/accounts/")
    assert response.status_code == 401 and response.json()["code"] == "api_key_revoked"


def test_both_keys_work_during_the_grace_period(pb, client):
    key, token = pb.partner()
    issued = rotate_key(actor=pb.maker, key=key, grace_hours=1)
    approve_request(actor=pb.checker, request_id=issued.approval.pk)
    assert Partner(client, token).get("/api/v1/partner/accounts/").status_code == 200
    assert Partner(client, issued.token).get("/api/v1/partner/accounts/").status_code == 200


def test_a_payout_batch_is_accepted_with_its_rejections_and_replayed(pb, client, run_jobs):
    _key, token = pb.partner()
    api = Partner(client, token)
    body = {"items": [item("INV-1"), item("INV-2", ifsc="ZZZZ0000000")]}
    response = api.post("/api/v1/partner/payouts/", body, headers={"Idempotency-Key": "batch-1"})
    assert response.status_code == 202, response.content
    answer = response.json()
    assert answer["accepted"] == 1 and answer["rejected"] == [{"reference": "INV-2", "code": "invalid_ifsc"}]
    again = api.post("/api/v1/partner/payouts/", body, headers={"Idempotency-Key": "batch-1"})
    assert again.status_code == 202 and again.json() == answer and again["Idempotent-Replayed"] == "true"
    other = api.post("/api/v1/partner/payouts/", {"items": [item("INV-9")]}, headers={"Idempotency-Key": "batch-1"})
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert PayoutBatch.objects.count() == 1
    run_jobs()
    status = api.get(f"/api/v1/partner/payouts/{answer['batch_id']}/")
    assert status.status_code == 200
    items = status.json()["items"]
    assert status.json()["status"] == "completed" and items[0]["reference"] == "INV-1"
    assert items[0]["payment_id"] == Payment.objects.get(payout_item__batch__public_id=answer["batch_id"]).pk


@pytest.mark.parametrize("body, field", [
    ({"items": []}, "items"),
    ({"items": [item("A", amount=1000)]}, "items.0.amount"),
    ({"items": [item("A", amount="10.005")]}, "items.0.amount"),
    ({"items": [item("A", colour="red")]}, "items.0.colour"),
    ({"items": [item("A")], "extra": 1}, "extra"),
    ({"items": [item("A", name="x" * 10_000)]}, "items.0.name"),
    ({"items": [item(str(n)) for n in range(1001)]}, "items"),
])
def test_bad_payout_bodies_write_nothing(pb, client, body, field):
    _key, token = pb.partner()
    response = Partner(client, token).post("/api/v1/partner/payouts/", body,
                                           headers={"Idempotency-Key": uuid.uuid4().hex})
    assert response.status_code == 422
    problem = response.json()
    assert response["Content-Type"] == "application/problem+json"
    assert list(problem["errors"]) == [field] and problem["code"]
    assert not PayoutBatch.objects.exists()


def test_payouts_need_an_idempotency_key(pb, client):
    _key, token = pb.partner()
    api = Partner(client, token)
    missing = api.post("/api/v1/partner/payouts/", {"items": [item("A")]})
    assert missing.status_code == 400 and missing.json()["code"] == "idempotency_key_required"
    long = api.post("/api/v1/partner/payouts/", {"items": [item("A")]}, headers={"Idempotency-Key": "k" * 65})
    assert long.status_code == 400 and long.json()["code"] == "idempotency_key_invalid"
    malformed = api.post("/api/v1/partner/payouts/", None, headers={"Idempotency-Key": "x"}, raw="{not json")
    assert malformed.status_code == 400
    assert not PayoutBatch.objects.exists()


def test_webhooks_are_created_with_the_secret_once_listed_and_deleted(pb, client, local_hooks):
    _key, token = pb.partner()
    api = Partner(client, token)
    created = api.post("/api/v1/partner/webhooks/", {"url": "http://127.0.0.1:9/hooks",
                                                     "events": ["payment.settled", "payout.item_failed"]})
    assert created.status_code == 201
    body = created.json()
    assert set(body) == {"id", "url", "events", "secret"} and body["secret"].startswith("whsec_")
    listed = api.get("/api/v1/partner/webhooks/").json()["results"]
    assert listed == [{"id": body["id"], "url": body["url"], "events": ["payment.settled", "payout.item_failed"]}]
    assert api.delete(f"/api/v1/partner/webhooks/{body['id']}/").status_code == 204
    assert api.get("/api/v1/partner/webhooks/").json()["results"] == []


def test_production_refuses_a_webhook_on_http_or_a_private_address(pb, client, settings):
    settings.CBS_WEBHOOKS_ALLOW_LOCAL = False
    _key, token = pb.partner()
    api = Partner(client, token)
    for url in ("http://erp.example.com/hooks", "https://192.168.1.10/hooks"):
        response = api.post("/api/v1/partner/webhooks/", {"url": url, "events": ["payment.settled"]})
        assert response.status_code == 422 and response.json()["code"] == "invalid_url"
    assert not WebhookEndpoint.objects.exists()


def test_another_partners_ids_are_not_found(pb, client, local_hooks):
    mine_key, mine = pb.partner()
    theirs_key, theirs = pb.partner(account=pb.corporate())
    their_api = Partner(client, theirs)
    hook = their_api.post("/api/v1/partner/webhooks/", {"url": "http://127.0.0.1:9/h",
                                                        "events": ["payment.settled"]}).json()
    batch = their_api.post("/api/v1/partner/payouts/", {"items": [item("A")]},
                           headers={"Idempotency-Key": "theirs"}).json()
    my_api = Partner(client, mine)
    assert my_api.get(f"/api/v1/partner/payouts/{batch['batch_id']}/").status_code == 404
    assert my_api.delete(f"/api/v1/partner/webhooks/{hook['id']}/").status_code == 404
    number = theirs_key.partner.payout_account.number
    assert my_api.get(f"/api/v1/partner/accounts/{number}/transactions/").status_code == 404
    assert WebhookEndpoint.objects.filter(pk=hook["id"], deleted_at__isnull=True).exists()


def test_a_partner_over_its_rate_gets_429(pb, client, settings):
    settings.CBS_API_RATES = {**settings.CBS_API_RATES, "partner": "2/min"}
    _key, token = pb.partner()
    api = Partner(client, token)
    assert [api.get("/api/v1/partner/accounts/").status_code for _ in range(2)] == [200, 200]
    limited = api.get("/api/v1/partner/accounts/")
    assert limited.status_code == 429 and limited.json()["code"] == "rate_limited"
    assert int(limited["Retry-After"]) > 0
