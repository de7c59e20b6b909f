"""Journeys: a company's authoriser reviews a payout batch its ERP sent above the
company's threshold and authorises it with the authenticator code (phone and
desktop); a wrong code pays nothing."""

import pytest
from playwright.sync_api import expect

from banking.partners.actions import submit_payout
from banking.partners.models import BatchStatus, PayoutBatch
from banking.partners.tests.factories import make_partner_bank

from .helpers import VIEWPORTS, fresh_totp, screenshot, sign_in, wrong_code

pytestmark = pytest.mark.e2e


@pytest.fixture
def waiting(transactional_db):
    pb = make_partner_bank()
    key, _token = pb.partner(threshold=1_000_00)
    items = [{"reference": f"INV-{n}", "to_account": "50100012345678", "ifsc": "HDFC0001234",
              "name": "Ravi Kumar", "amount": 2_500_00, "rail": "NEFT"} for n in (1, 2)]
    batch, _ = submit_payout(partner=key.partner, key=key, idempotency_key="journey", items=items)
    assert batch.status == BatchStatus.AWAITING_AUTHORISATION
    return pb.bank.customer_login(pb.account), batch


@pytest.mark.parametrize("width", [390, 1280])
def test_the_authoriser_authorises_a_payout_batch(page, waiting, width):
    user, batch = waiting
    page.set_viewport_size(VIEWPORTS[width])
    sign_in(page, user)
    page.goto("/banking/payouts/")
    expect(page.get_by_role("heading", name="Partner payouts")).to_be_visible()
    waiting_card = page.get_by_test_id("waiting-batch")
    expect(waiting_card).to_contain_text("Acme ERP: 2 payments, ₹5,000.00")
    screenshot(page, f"partner-payouts-{width}")
    waiting_card.get_by_role("link", name="Review batch").click()
    expect(page.get_by_role("heading", name="Payout batch from Acme ERP")).to_be_visible()
    expect(page.get_by_role("cell", name="INV-2")).to_be_visible()
    page.get_by_label("Authenticator code").fill(fresh_totp(user))
    screenshot(page, f"partner-payout-review-{width}")
    page.get_by_role("button", name="Authorise and pay").click()
    expect(page.get_by_text("authorised: the payments are on their way")).to_be_visible()
    expect(page.get_by_test_id("nothing-waiting")).to_be_visible()
    assert PayoutBatch.objects.get(pk=batch.pk).status == BatchStatus.PROCESSING


def test_a_wrong_code_pays_nothing(page, waiting):
    user, batch = waiting
    page.set_viewport_size(VIEWPORTS[390])
    sign_in(page, user)
    page.goto(f"/banking/payouts/{batch.pk}/")
    page.get_by_label("Authenticator code").fill(wrong_code(user.totp_secret))
    page.get_by_role("button", name="Authorise and pay").click()
    expect(page.get_by_text("That authenticator code is not right")).to_be_visible()
    assert PayoutBatch.objects.get(pk=batch.pk).status == BatchStatus.AWAITING_AUTHORISATION
