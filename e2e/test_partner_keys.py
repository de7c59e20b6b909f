"""Journeys: one member of operations asks for a partner's API key and copies its
secret, shown once; another approves it; a webhook delivery is replayed and its
attempts read (phone and desktop). A teller is refused the screens."""

import pytest
from playwright.sync_api import expect

from banking.partners.actions import create_webhook, emit_event
from banking.partners.models import ApiKey, KeyStatus
from banking.partners.tests.factories import make_partner_bank
from banking.partners.tests.receiver import Receiver
from banking.testing import make_user
from banking.users.roles import Role

from .helpers import VIEWPORTS, screenshot, sign_in, sign_out

pytestmark = pytest.mark.e2e


@pytest.fixture
def pb(transactional_db):
    return make_partner_bank()


@pytest.mark.parametrize("width", [390, 1280])
def test_a_key_is_asked_for_shown_once_and_approved(page, pb, width):
    page.set_viewport_size(VIEWPORTS[width])
    sign_in(page, pb.maker)
    page.goto("/ops/partners/keys/")
    expect(page.get_by_role("heading", name="Partner API keys")).to_be_visible()
    page.get_by_label("Customer's CIF").fill(pb.customer.cif)
    page.get_by_label("Partner's name").fill("Acme ERP")
    page.get_by_label("Payout account").fill(pb.account.number)
    page.get_by_label("Read the customer's accounts and transactions").check()
    page.get_by_label("Send payouts").check()
    page.get_by_label("Allowed addresses").fill("203.0.113.0/24")
    page.get_by_role("button", name="Ask for the key").click()
    secret = page.get_by_test_id("secret")
    expect(secret).to_be_visible()
    token = secret.inner_text().strip()
    screenshot(page, f"partner-key-secret-{width}")
    assert ApiKey.objects.get(prefix=token.split(".")[0]).status == KeyStatus.PENDING
    expect(page.get_by_text("Yours: another member approves it")).to_be_visible()
    sign_out(page, pb.maker)

    sign_in(page, pb.checker)
    page.goto("/ops/partners/keys/")
    expect(page.get_by_test_id("secret")).to_have_count(0)
    page.get_by_test_id("pending-request").get_by_role("button", name="Approve").click()
    expect(page.get_by_text("Approved: API key")).to_be_visible()
    expect(page.get_by_test_id("key-row").first).to_contain_text("Active")
    screenshot(page, f"partner-keys-{width}")
    assert ApiKey.objects.get(prefix=token.split(".")[0]).status == KeyStatus.ACTIVE


@pytest.mark.parametrize("width", [390, 1280])
def test_a_delivery_is_replayed_and_its_attempts_read(page, pb, settings, width):
    settings.CBS_WEBHOOKS_ALLOW_LOCAL = True
    key, _token = pb.partner()
    with Receiver() as receiver:
        _endpoint, receiver.secret = create_webhook(actor=None, partner=key.partner, url=receiver.url,
                                                    events=["payment.settled"])
        event = emit_event(partner=key.partner, type="payment.settled", data={"payment_id": 1})
        page.set_viewport_size(VIEWPORTS[width])
        sign_in(page, pb.checker)
        page.goto("/ops/partners/deliveries/")
        delivery = page.get_by_test_id("delivery").filter(has_text=event.public_id)
        expect(delivery).to_contain_text("Not tried yet")
        delivery.get_by_role("button", name="Replay").click()
        expect(page.get_by_text("the endpoint took it")).to_be_visible()
        expect(page.get_by_test_id("attempt").first).to_contain_text("200 taken")
        expect(page.get_by_test_id("attempt").first).to_contain_text(f"Replay by {pb.checker.username}")
        screenshot(page, f"partner-deliveries-{width}")
    assert [seen["id"] for seen in receiver.accepted] == [event.public_id]


def test_a_teller_is_refused(page, pb):
    teller = make_user(Role.TELLER, branch=pb.bank.branch)
    page.set_viewport_size(VIEWPORTS[1280])
    sign_in(page, teller)
    response = page.goto("/ops/partners/keys/")
    assert response.status == 403
