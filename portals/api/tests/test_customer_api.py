"""The customer API, endpoint by endpoint: the happy path, the refusals the contract
lists, bad input that changes nothing, and another customer's ids answering 404."""

import datetime
import json

import pytest
from django.test import override_settings
from rest_framework_simplejwt.tokens import AccessToken

from banking.payments import actions
from banking.payments.models import Payee, Payment
from banking.payments.tests.factories import key, payee, vpa
from banking.testing import PASSWORD, make_user, totp_code
from banking.users.roles import Role
from portals.api.tests.conftest import Api, sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def other(bank):
    """Another customer, with a payee and a payment of their own."""
    account = bank.account(balance=1_00_000_00)
    bank.customer_login(account)
    their_payee = payee(account)
    payment = actions.make_payment(actor=None, customer=account.customer, debit_account=account, amount=100_00,
                                   idempotency_key=key(), rail="NEFT", payee=their_payee)
    return {"account": account, "payee": their_payee, "payment": payment}


@pytest.fixture
def second(bank, account):
    from banking.approvals.actions import approve_request
    from banking.deposits.actions import request_account_opening
    from banking.payments.tests.factories import fresh

    opened = request_account_opening(actor=bank.maker, customer=account.customer, product="SB")
    approve_request(actor=bank.checker, request_id=opened.opening_request_id)
    return fresh(opened)


def problem(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code, body
    assert body["status"] == status
    return body


# -- tokens -----------------------------------------------------------------------------------


def test_token_pair(tokens):
    assert set(tokens) == {"access", "refresh", "access_expires_in"}
    assert tokens["access_expires_in"] == 300


def test_wrong_password(anonymous, user):
    problem(anonymous.post("/api/v1/auth/token/", {"username": user.username, "password": "nope-nope-nope"}),
            401, "invalid_credentials")


def test_otp_required_and_invalid(anonymous, user):
    body = {"username": user.username, "password": PASSWORD}
    problem(anonymous.post("/api/v1/auth/token/", body), 401, "otp_required")
    wrong = next(c for c in ("000000", "123456", "999999") if c != totp_code(user.totp_secret))
    problem(anonymous.post("/api/v1/auth/token/", {**body, "otp": wrong}), 401, "otp_invalid")


def test_staff_cannot_get_a_token(anonymous, branch):
    teller = make_user(Role.TELLER, branch=branch)
    problem(anonymous.post("/api/v1/auth/token/", {"username": teller.username, "password": PASSWORD,
                                                   "otp": totp_code(teller.totp_secret)}), 403, "staff_not_allowed")


def test_refresh_rotates_and_a_used_refresh_token_is_refused(anonymous, tokens):
    first = anonymous.post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]})
    assert first.status_code == 200
    assert set(first.json()) == {"access", "refresh"}
    problem(anonymous.post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}), 401, "token_not_valid")
    assert anonymous.post("/api/v1/auth/token/refresh/", {"refresh": first.json()["refresh"]}).status_code == 200


def test_logout_revokes_the_refresh_token(anonymous, tokens):
    assert anonymous.post("/api/v1/auth/logout/", {"refresh": tokens["refresh"]}).status_code == 204
    problem(anonymous.post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}), 401, "token_not_valid")


def test_tampered_and_expired_access_tokens(client, tokens, user):
    head, payload, signature = tokens["access"].split(".")
    tampered = f"{head}.{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    problem(Api(client, tampered).get("/api/v1/me/"), 401, "token_not_valid")
    expired = AccessToken.for_user(user)
    expired.set_exp(lifetime=-datetime.timedelta(seconds=1))
    problem(Api(client, str(expired)).get("/api/v1/me/"), 401, "token_not_valid")


@override_settings(ACCOUNT_RATE_LIMITS={"login_failed": "20/m/ip,5/5m/key"})
def test_sign_in_lockout_shares_the_web_sites_counters(anonymous, client, user):
    for _ in range(5):
        client.post("/accounts/login/", {"login": user.username, "password": "wrong-wrong-wrong"})
    problem(anonymous.post("/api/v1/auth/token/", {"username": user.username, "password": PASSWORD,
                                                   "otp": totp_code(user.totp_secret)}), 429, "rate_limited")


@override_settings(CBS_API_RATES={"customer": "60/min", "partner": "600/min", "sign_in": "10/min"})
def test_ten_sign_in_attempts_a_minute_from_one_address(anonymous, user):
    for _ in range(10):
        anonymous.post("/api/v1/auth/token/", {"username": user.username, "password": "wrong-wrong-wrong"})
    response = anonymous.post("/api/v1/auth/token/", {"username": user.username, "password": PASSWORD})
    problem(response, 429, "rate_limited")
    assert int(response["Retry-After"]) > 0


@override_settings(CBS_API_RATES={"customer": "3/min", "partner": "600/min", "sign_in": "10/min"})
def test_customer_rate_limit(api):
    for _ in range(3):
        assert api.get("/api/v1/ping/").status_code == 200
    response = api.get("/api/v1/ping/")
    problem(response, 429, "rate_limited")
    assert int(response["Retry-After"]) > 0


# -- me and accounts ----------------------------------------------------------------------------


def test_me(api, account):
    body = api.get("/api/v1/me/").json()
    assert set(body) == {"customer_number", "name", "email", "mobile_masked"}
    assert body["customer_number"] == account.customer.cif


def test_accounts_and_account(api, account, other):
    body = api.get("/api/v1/accounts/").json()
    assert set(body) == {"results", "next"}
    numbers = [a["number"] for a in body["results"]]
    assert numbers == [account.number]
    first = body["results"][0]
    assert first["balance"] == "1000000.00" and first["kind"] == "savings" and first["status"] == "active"
    detail = api.get(f"/api/v1/accounts/{account.number}/").json()
    assert detail["ifsc"] == account.branch.ifsc and detail["holders"]
    problem(api.get(f"/api/v1/accounts/{other['account'].number}/"), 404, "not_found")
    problem(api.get(f"/api/v1/accounts/{other['account'].number}/transactions/"), 404, "not_found")


def test_transactions_newest_first_with_cursor(api, account, second):
    for n in range(3):
        actions.make_payment(actor=None, customer=account.customer, debit_account=account, amount=(n + 1) * 100,
                             idempotency_key=key(), credit_account=second)
    body = api.get(f"/api/v1/accounts/{account.number}/transactions/").json()
    amounts = [r["amount"] for r in body["results"]]
    assert amounts[:3] == ["3.00", "2.00", "1.00"]
    assert body["results"][0]["direction"] == "debit"
    assert body["results"][0]["booked_at"].endswith("+05:30")
    assert api.get(f"/api/v1/accounts/{account.number}/transactions/", **{"from": "2000-01-01", "to": "2000-01-02"}
                   ).json()["results"] == []
    assert api.get(f"/api/v1/accounts/{account.number}/transactions/", **{"to": "2999-01-01"}).json()["results"]
    problem(api.get(f"/api/v1/accounts/{account.number}/transactions/", **{"from": "07-12-2026"}), 400,
            "invalid_date")
    problem(api.get(f"/api/v1/accounts/{account.number}/transactions/", cursor="bogus"), 400, "invalid_cursor")


def test_transactions_page_by_cursor(api, account, second, monkeypatch):
    monkeypatch.setattr("portals.api.pagination.Cursor.page_size", 2)
    for n in range(3):
        actions.make_payment(actor=None, customer=account.customer, debit_account=account, amount=(n + 1) * 100,
                             idempotency_key=key(), credit_account=second)
    url = f"/api/v1/accounts/{account.number}/transactions/"
    page = api.get(url).json()
    seen = [r["id"] for r in page["results"]]
    while page["next"]:
        page = api.client.get(page["next"], headers={"Authorization": f"Bearer {api.token}"}).json()
        seen += [r["id"] for r in page["results"]]
    assert len(seen) == len(set(seen)) >= 4
    assert seen == sorted(seen, reverse=True)


# -- payees ---------------------------------------------------------------------------------------


def test_payees_add_list_delete(api, user, other):
    body = {"name": "Ravi Kumar", "account_number": "50100012345678", "ifsc": "HDFC0001234",
            "otp": totp_code(user.totp_secret)}
    created = api.post("/api/v1/payees/", body)
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert created.json()["cooling_until"] is not None
    assert [p["id"] for p in api.get("/api/v1/payees/").json()["results"]] == [pk]
    problem(api.delete(f"/api/v1/payees/{other['payee'].pk}/"), 404, "not_found")
    assert api.delete(f"/api/v1/payees/{pk}/").status_code == 204
    assert not Payee.objects.active().filter(pk=pk).exists()


def test_payee_refusals(api, user):
    base = {"name": "Ravi Kumar", "account_number": "50100012345678", "ifsc": "HDFC0001234"}
    problem(api.post("/api/v1/payees/", {**base, "ifsc": "ZZZZ0999999", "otp": totp_code(user.totp_secret)}), 422,
            "invalid_ifsc")
    problem(api.post("/api/v1/payees/", base), 401, "otp_required")
    problem(api.post("/api/v1/payees/", {**base, "nickname": "x"}), 422, "unknown_field")
    assert not Payee.objects.exists()


# -- payments -------------------------------------------------------------------------------------


def pay(api, body, idem="k-1"):
    return api.post("/api/v1/payments/", body, headers={"Idempotency-Key": idem} if idem is not None else None)


def transfer(account, second, amount="150.50", **extra):
    return {"from_account": account.number, "rail": "internal", "amount": amount, "narration": "Rent",
            "to_account": second.number, **extra}


def test_payment_created_listed_and_shown(api, account, second):
    response = pay(api, transfer(account, second))
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "status", "rail", "amount", "utr", "created_at", "status_url"}
    assert body["amount"] == "150.50" and body["rail"] == "internal" and body["status"] == "settled"
    assert body["created_at"].endswith("+05:30")
    payment = Payment.objects.get(pk=body["id"])
    assert payment.amount == 150_50
    listed = api.get("/api/v1/payments/").json()["results"]
    assert body["id"] in [p["id"] for p in listed]
    detail = api.get(body["status_url"]).json()
    assert [step["status"] for step in detail["timeline"]][-1] == "settled"


def test_payment_to_a_payee_in_cooling_period(api, account):
    fresh_payee = payee(account, aged=False)
    body = {"from_account": account.number, "rail": "neft", "amount": "60000.00", "payee_id": fresh_payee.pk,
            "otp": totp_code(fresh_payee.customer.user.totp_secret)}
    problem(pay(api, body), 422, "payee_cooling_period")


def test_payment_refusals_write_nothing(api, account, second, user):
    before = Payment.objects.count()
    problem(pay(api, transfer(account, second), idem=None), 400, "idempotency_key_required")
    problem(pay(api, transfer(account, second), idem="k" * 65), 400, "idempotency_key_invalid")
    problem(pay(api, transfer(account, second), idem=""), 400, "idempotency_key_invalid")
    problem(pay(api, {**transfer(account, second), "amount": 150.5}), 422, "invalid_amount")
    problem(pay(api, transfer(account, second, amount="150.505")), 422, "invalid_amount")
    problem(pay(api, {**transfer(account, second), "colour": "red"}), 422, "unknown_field")
    problem(pay(api, transfer(account, second, narration="x" * 10_000)), 422, "narration_max_length")
    problem(pay(api, transfer(account, second, amount="99999999.00", otp=totp_code(user.totp_secret)),
                idem="k-big"), 422, "insufficient_funds")
    problem(pay(api, transfer(account, second, amount="30000.00"), idem="k-otp"), 401, "otp_required")
    malformed = api.post("/api/v1/payments/", raw="{not json", headers={"Idempotency-Key": "k-2"})
    problem(malformed, 400, "malformed_json")
    wrong_type = api.post("/api/v1/payments/", raw="amount=1", content_type="application/x-www-form-urlencoded",
                          headers={"Idempotency-Key": "k-3"})
    problem(wrong_type, 415, "unsupported_media_type")
    problem(pay(api, {**transfer(account, second), "rail": "neft"}, idem="k-4"), 422, "invalid_to_account")
    problem(pay(api, {**transfer(account, second), "rail": "telegraph"}, idem="k-6"), 422, "rail_invalid_choice")
    assert Payment.objects.count() == before


def test_payment_idor(api, account, other):
    problem(api.get(f"/api/v1/payments/{other['payment'].pk}/"), 404, "not_found")
    body = {"from_account": other["account"].number, "rail": "internal", "amount": "1.00",
            "to_account": account.number}
    problem(pay(api, body), 422, "invalid_from_account")
    problem(pay(api, {"from_account": account.number, "rail": "neft", "amount": "1.00",
                      "payee_id": other["payee"].pk}, idem="k-5"), 422, "invalid_payee_id")


def test_replay_and_reuse(api, account, second):
    first = pay(api, transfer(account, second), idem="same")
    again = pay(api, transfer(account, second), idem="same")
    assert again.status_code == first.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    problem(pay(api, transfer(account, second, amount="2.00"), idem="same"), 422, "idempotency_key_reused")
    assert Payment.objects.filter(debit_account=account).count() == 1


def test_keys_are_per_customer(api, client, account, second, bank):
    """Another customer's same key is theirs: it neither replays nor conflicts."""
    pay(api, transfer(account, second), idem="shared")
    stranger_account = bank.account(balance=1_000_00)
    stranger = bank.customer_login(stranger_account)
    stranger_api = Api(client, sign_in(client, stranger)["access"])
    response = pay(stranger_api, {"from_account": stranger_account.number, "rail": "internal", "amount": "1.00",
                                  "to_account": stranger_account.number}, idem="shared")
    assert "Idempotent-Replayed" not in response
    assert response.json()["code"] != "idempotency_key_reused"


# -- UPI collect requests ---------------------------------------------------------------------


@pytest.fixture
def collect(account):
    address = vpa(account)
    return actions.receive_collect_request(payer_vpa=address.address, merchant_vpa="kirana@okaxis",
                                           merchant_name="Kirana Mart", amount=250_00, is_merchant=True,
                                           reference=key()[:20], note="Order 881")


def test_collect_list_pay_and_replay(api, user, collect, other):
    listed = api.get("/api/v1/upi/collect-requests/").json()["results"]
    assert [c["id"] for c in listed] == [collect.pk]
    assert listed[0]["amount"] == "250.00"
    url = f"/api/v1/upi/collect-requests/{collect.pk}/pay/"
    problem(api.post(url, {}, headers={"Idempotency-Key": "c-1"}), 401, "otp_required")
    paid = api.post(url, {"otp": totp_code(user.totp_secret)}, headers={"Idempotency-Key": "c-2"})
    assert paid.status_code == 201, paid.content
    assert paid.json()["rail"] == "upi"
    again = api.post(url, {"otp": totp_code(user.totp_secret)}, headers={"Idempotency-Key": "c-2"})
    assert again.json() == paid.json() and again["Idempotent-Replayed"] == "true"
    assert Payment.objects.filter(collect__pk=collect.pk).count() == 1


def test_collect_decline_and_idor(api, collect, bank, client):
    problem(api.post("/api/v1/upi/collect-requests/999999/decline/"), 404, "not_found")
    declined = api.post(f"/api/v1/upi/collect-requests/{collect.pk}/decline/")
    assert declined.status_code == 200 and declined.json()["status"] == "declined"
    stranger_account = bank.account(balance=1_000_00)
    stranger = bank.customer_login(stranger_account)
    stranger_api = Api(client, sign_in(client, stranger)["access"])
    problem(stranger_api.post(f"/api/v1/upi/collect-requests/{collect.pk}/decline/"), 404, "not_found")
    problem(stranger_api.post(f"/api/v1/upi/collect-requests/{collect.pk}/pay/", {"otp": "123456"},
                              headers={"Idempotency-Key": "x"}), 404, "not_found")


def test_json_is_the_only_body(api):
    assert json.loads(api.get("/api/v1/me/").content)
