"""Schemathesis against the partner operations of the API's OpenAPI schema, on a live
server, as a partner with an API key holding every scope: no answer is a 5xx, and
every answer matches the schema. Bounded examples per operation keep it short."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from banking.partners.actions import create_webhook, submit_payout
from banking.partners.tests.factories import make_partner_bank

pytestmark = [pytest.mark.django_db(transaction=True)]
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def partner_schema(live_server, settings):
    settings.CBS_API_RATES = {"customer": "100000/min", "partner": "100000/min", "sign_in": "100000/min"}
    # Generated webhook addresses are not looked up in DNS; the production rule has tests of its own.
    settings.CBS_WEBHOOKS_ALLOW_LOCAL = True
    pb = make_partner_bank()
    key, token = pb.partner()
    create_webhook(actor=None, partner=key.partner, url="http://127.0.0.1:9/hooks", events=["payment.settled"])
    submit_payout(partner=key.partner, key=key, idempotency_key="seed", items=[{
        "reference": "SEED-1", "to_account": "50100012345678", "ifsc": "HDFC0001234", "name": "Ravi Kumar",
        "amount": 1_000_00, "rail": "NEFT"}])
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/schema/?format=json")
    schema.config.headers = {"Authorization": f"Api-Key {token}"}
    return schema.include(path_regex=r"^/api/v1/partner/")


def test_partner_api_keeps_its_schema(live_server, partner_schema):
    headers = dict(partner_schema.config.headers or {})
    operations = [result.ok() for result in partner_schema.get_all_operations()]
    assert len(operations) == 7
    answered = []

    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=8, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            response = case.call_and_validate(base_url=live_server.url, headers=headers, checks=CHECKS, timeout=30)
            answered.append((operation.method.upper(), response.status_code))

        check()
    assert {method for method, _ in answered} == {"GET", "POST", "DELETE"}
    assert any(status < 300 for _, status in answered) and any(status >= 400 for _, status in answered)
