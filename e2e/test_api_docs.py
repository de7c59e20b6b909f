"""Journey: a developer reads the API's docs, Swagger UI and Redoc, served from the
sidecar under the site's CSP (the conftest fails any CSP violation or missing static
file), at desktop and phone width; without a token the API refuses in JSON."""

import re

import pytest
from playwright.sync_api import expect

from .helpers import VIEWPORTS, screenshot

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("width", [1280, 390])
def test_swagger_ui_renders_the_contract(page, width):
    page.set_viewport_size(VIEWPORTS[width])
    response = page.goto("/api/v1/docs/")
    assert response.status == 200
    assert "nonce-" in response.headers["content-security-policy"]
    expect(page.get_by_role("heading", name=re.compile("CBS Bank API"))).to_be_visible()
    expect(page.get_by_text("/api/v1/payments/", exact=True).first).to_be_visible()
    expect(page.get_by_text("/api/v1/auth/token/", exact=True).first).to_be_visible()
    screenshot(page, f"api-docs-swagger-{width}")


@pytest.mark.parametrize("width", [1280, 390])
def test_redoc_renders_the_contract(page, width):
    page.set_viewport_size(VIEWPORTS[width])
    response = page.goto("/api/v1/redoc/")
    assert response.status == 200
    # Redoc lays out the whole contract before it shows anything: give it time.
    expect(page.get_by_role("heading", name=re.compile("CBS Bank API"))).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Make a payment (Idempotency-Key needed)").first).to_be_attached()
    screenshot(page, f"api-docs-redoc-{width}")


def test_without_a_token_the_api_refuses_in_json(page):
    response = page.request.get("/api/v1/accounts/")
    assert response.status == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "not_authenticated"
