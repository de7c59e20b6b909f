"""Schemathesis against the API's own OpenAPI schema, on a live server, signed in as a
customer: no answer is a 5xx, and every answer matches the schema (status code,
content type, body). A bounded number of examples per operation keeps it short enough
for `make test`. The partner operations are tested as a partner in their own file."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from banking.payments import actions
from banking.payments.tests.factories import key, payee, vpa
from banking.testing import totp_code
from portals.api.tests.conftest import sign_in

pytestmark = [pytest.mark.django_db(transaction=True)]
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def customer_schema(live_server, settings, bank, account, user, client):
    # Generated requests come fast: lift the rate limits, which have tests of their own.
    settings.CBS_API_RATES = {"customer": "100000/min", "partner": "100000/min", "sign_in": "100000/min"}
    payee(account)
    address = vpa(account)
    actions.receive_collect_request(payer_vpa=address.address, merchant_vpa="kirana@okaxis",
                                    merchant_name="Kirana Mart", amount=250_00, is_merchant=True,
                                    reference=key()[:20])
    token = sign_in(client, user, otp=totp_code(user.totp_secret))["access"]
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/schema/?format=json")
    schema.config.headers = {"Authorization": f"Bearer {token}"}
    return schema.include(path_regex=r"^/api/v1/(?!partner/)")


def test_customer_api_keeps_its_schema(live_server, customer_schema):
    """Each operation in turn, with Hypothesis driving schemathesis' strategies (its
    pytest plugin's lazy loader does not run on this pytest)."""
    headers = dict(customer_schema.config.headers or {})
    operations = [result.ok() for result in customer_schema.get_all_operations()]
    assert len(operations) >= 12
    answered = []

    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=8, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            response = case.call_and_validate(base_url=live_server.url, headers=headers, checks=CHECKS, timeout=30)
            answered.append((operation.method, response.status_code))

        check()
    assert len({method for method, _ in answered}) >= 3
    assert any(status < 300 for _, status in answered) and any(status >= 400 for _, status in answered)
