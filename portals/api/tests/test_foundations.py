"""The API's foundations: problem details, money and time formats, policies, pagination."""

import pytest
from django.urls import get_resolver

from banking.core.money import Money
from portals.api.fields import MoneyField, rupees
from portals.checks import iter_patterns

pytestmark = pytest.mark.django_db


def test_every_api_view_has_a_policy():
    api_routes = [(route, p) for route, p in iter_patterns(get_resolver()) if route.startswith("api/v1/")]
    assert len(api_routes) > 10
    for route, pattern in api_routes:
        assert hasattr(pattern.callback, "access_policy"), route


@pytest.mark.parametrize("text,paise", [("1234.50", 123450), ("1", 100), ("0.05", 5), ("1500.5", 150050)])
def test_money_field_reads_rupee_strings(text, paise):
    assert MoneyField().to_internal_value(text) == paise


@pytest.mark.parametrize("value", [1234.5, 1234, "1234.505", "-5.00", "1,234.00", "", "0.00", " 12.00", "1e3"])
def test_money_field_refuses_anything_but_a_rupee_string(value):
    from rest_framework.exceptions import ValidationError

    with pytest.raises(ValidationError):
        MoneyField().to_internal_value(value)


def test_rupees_has_two_decimals():
    assert rupees(123450) == "1234.50"
    assert rupees(5) == "0.05"
    assert rupees(-150) == "-1.50"
    assert rupees(Money.parse("7").minor) == "7.00"


def test_unknown_address_is_a_json_404(anonymous):
    response = anonymous.get("/api/v1/nothing/here/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"


def test_no_token_is_401_not_authenticated(anonymous):
    response = anonymous.get("/api/v1/accounts/")
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "not_authenticated"
    assert set(body) >= {"type", "title", "status", "detail", "code"}
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_ping_with_a_token(api):
    assert api.get("/api/v1/ping/").json() == {"ok": True}


def test_schema_is_openapi_3_1(anonymous):
    response = anonymous.get("/api/v1/schema/", headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.1")


def test_a_refusal_before_any_view_is_a_json_problem(client, settings):
    """The NUL filter answers before the view; under /api/ it is still a problem."""
    response = client.get("/api/v1/accounts/?q=%00")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 400


def test_an_unhandled_error_is_a_json_500(api, monkeypatch):
    def explode(request):
        raise RuntimeError("boom")

    monkeypatch.setattr("portals.api.customer.MeOut", explode)
    api.client.raise_request_exception = False
    response = api.get("/api/v1/me/")
    assert response.status_code == 500
    assert response.json()["code"] == "server_error"


def test_api_answers_are_never_cached(api):
    assert "no-store" in api.get("/api/v1/ping/")["Cache-Control"]
