"""The available balance on every screen that shows one: a hold past its expiry no
longer keeps money from being spent, so it no longer lowers the figure, even before
a debit or the end of day releases it."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from banking.deposits.actions import place_account_hold
from banking.deposits.tests.factories import Bank
from banking.ledger.models import Hold
from banking.testing import make_user

HTMX = {"HX-Request": "true"}


@pytest.fixture
def bank(db):
    return Bank()


@pytest.fixture
def account(bank):
    """₹12,000 in savings, with a ₹2,000 lien that expired yesterday and a ₹500 one that stands."""
    account = bank.open_account(deposit=12_000_00)
    expired = place_account_hold(actor=bank.teller, account=account, amount=2_000_00, reason="Cheque in clearing",
                                 expires_at=timezone.now() + datetime.timedelta(days=1))
    Hold.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - datetime.timedelta(days=1))
    place_account_hold(actor=bank.teller, account=account, amount=500_00, reason="Disputed credit")
    return account


def words(response):
    assert response.status_code == 200
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.text))


def signed_in_customer(client, bank):
    user = make_user("customer", username=f"c{bank.customer.cif}")
    bank.customer.user = user
    bank.customer.save(update_fields=["user"])
    client.force_login(user)
    return client


def test_the_customers_account_page(client, bank, account):
    page = words(signed_in_customer(client, bank).get(reverse("customer:account", args=[account.number])))
    assert "Available ₹11,500.00" in page and "On hold ₹500.00" in page


def test_the_customers_home(client, bank, account):
    page = words(signed_in_customer(client, bank).get(reverse("customer:home")))
    assert "Available ₹11,500.00" in page and "₹500.00 is on hold" in page
    assert "₹9,500.00" not in page and "₹2,500.00" not in page


def test_the_tellers_look_up(client, bank, account):
    client.force_login(bank.teller)
    card = words(client.get(reverse("teller:account-lookup"), {"account": account.number, "purpose": "withdrawal"},
                            headers=HTMX))
    assert "Available ₹11,500.00" in card


def test_the_tellers_accounts_of_a_customer(client, bank, account):
    client.force_login(bank.teller)
    page = words(client.get(reverse("teller:customer-accounts", kwargs={"pk": bank.customer.pk}), headers=HTMX))
    assert "Available ₹11,500.00" in page and "On hold ₹500.00" in page
    assert "Cheque in clearing" not in page
