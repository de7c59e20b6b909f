"""NEFT / RTGS at the counter through the teller's screens: the form, the live IFSC
look-up, the receipt with the UTR and the amount in words, refusals in the teller's
words, and who may open them."""

import html

import pytest
from django.urls import reverse

from banking.payments.models import Payment, PaymentStatus
from banking.teller.actions import find_till
from banking.teller.tests.factories import funded_branch, key, open_account, supervisor_for, teller_with_open_till
from banking.testing import make_user
from banking.users.roles import Role

HTMX = {"HX-Request": "true"}


@pytest.fixture
def branch(db):
    return funded_branch()


@pytest.fixture
def supervisor(branch):
    return supervisor_for(branch, mfa=True)


@pytest.fixture
def teller(branch, supervisor):
    return teller_with_open_till(branch, supervisor, mfa=True)


@pytest.fixture
def signed_in(client, teller):
    client.force_login(teller)
    return client


def text(response):
    return html.unescape(response.content.decode())


def form(**fields):
    data = {"rail": "RTGS", "amount": "2,00,000", "beneficiary_name": "Meera Iyer",
            "beneficiary_account": "50100012345678", "beneficiary_ifsc": "HDFC0001234",
            "remitter_name": "Rahul Verma", "remitter_mobile": "9876543210",
            "remitter_address": "12 MG Road, Pune 411001", "pan": "ABCDE1234F", "source": "cash", "n500": "400",
            "idempotency_key": key()}
    data.update(fields)
    return data


def test_the_form_shows_the_remitter_beneficiary_and_the_cash_grid(signed_in):
    response = signed_in.get(reverse("teller:remittance"))
    page = text(response)
    assert response.status_code == 200
    for label in ("Beneficiary's IFSC", "Remitter's mobile", "Send by", "Against cash", "₹500",
                  "Customer's account number", "NEFT / RTGS"):
        assert label in page
    assert f'hx-get="{reverse("teller:remittance-ifsc")}"' in page


def test_rtgs_against_cash_leads_to_the_receipt(signed_in, teller):
    response = signed_in.post(reverse("teller:remittance"), form())
    payment = Payment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("teller:remittance-receipt", kwargs={"pk": payment.pk})
    receipt = text(signed_in.get(response["Location"]))
    assert payment.reference in receipt and "₹2,00,000.00" in receipt
    assert "Rupees Two Lakh Only" in receipt
    assert "Rahul Verma" in receipt and "Meera Iyer" in receipt and "HDFC Bank, Indiranagar" in receipt
    assert "Print receipt" in receipt and "Notes and coins received" in receipt
    assert find_till(teller).n500 == 100 + 400


def test_neft_from_an_account(signed_in, branch, teller, supervisor):
    account = open_account(branch, teller, supervisor, balance=20_000_00)
    response = signed_in.post(reverse("teller:remittance"), form(
        rail="NEFT", amount="5,000.50", source="account", account=account.number, n500="", pan="",
        remitter_name="", remitter_mobile="", remitter_address=""))
    assert response.status_code == 302
    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.SENT and payment.debit_account == account
    assert payment.amount == 5_000_50


@pytest.mark.parametrize(("fields", "message"), [
    ({"amount": "1,99,999.99", "n500": "", "source": "account", "account": ""},
     "Enter the customer's account number"),
    ({"amount": "1,99,999.99"}, "RTGS is for ₹2,00,000.00 or more"),
    ({"beneficiary_ifsc": "HDFC01234"}, "not a valid IFSC"),
    ({"n500": "399"}, "add up to ₹1,99,500.00, ₹500.00 less than the amount"),
    ({"pan": ""}, "needs the remitter's PAN"),
])
def test_refusals_are_in_the_tellers_words_and_send_nothing(signed_in, teller, fields, message):
    response = signed_in.post(reverse("teller:remittance"), form(**fields))
    assert response.status_code == 200
    assert message in text(response)
    assert Payment.objects.count() == 0 and find_till(teller).n500 == 100


def test_rtgs_of_one_paisa_under_two_lakh_is_refused_from_an_account(signed_in, branch, teller, supervisor):
    account = open_account(branch, teller, supervisor, balance=5_00_000_00)
    data = form(amount="1,99,999.99", source="account", account=account.number, n500="")
    response = signed_in.post(reverse("teller:remittance"), data)
    assert "RTGS is for ₹2,00,000.00 or more" in text(response) and Payment.objects.count() == 0
    data = form(amount="2,00,000", source="account", account=account.number, n500="")
    assert signed_in.post(reverse("teller:remittance"), data).status_code == 302
    assert Payment.objects.get().status == PaymentStatus.SETTLED


def test_the_ifsc_look_up_names_the_bank_or_says_what_is_wrong(signed_in):
    url = reverse("teller:remittance-ifsc")
    found = text(signed_in.get(url, {"beneficiary_ifsc": "sbin0001234"}, headers=HTMX))
    assert "State Bank of India" in found and "Connaught Place" in found
    wrong = text(signed_in.get(url, {"beneficiary_ifsc": "SBIN1001234"}, headers=HTMX))
    assert "not a valid IFSC" in wrong
    unknown = text(signed_in.get(url, {"beneficiary_ifsc": "ABCD0123456"}, headers=HTMX))
    assert "not in the bank directory" in unknown


def test_above_the_limit_the_receipt_waits_live(client, branch, supervisor):
    teller = teller_with_open_till(branch, supervisor, cash_limit=1_00_000_00, mfa=True)
    client.force_login(teller)
    response = client.post(reverse("teller:remittance"), form(amount="3,00,000", n500="600"))
    receipt_url = response["Location"]
    waiting = text(client.get(receipt_url, headers=HTMX))
    assert "Waiting for a supervisor" in waiting and 'hx-trigger="every 2s"' in waiting
    from banking.approvals.actions import approve_request

    approve_request(actor=supervisor, request_id=Payment.objects.get().approval_id)
    done = text(client.get(receipt_url, headers=HTMX))
    assert "RTGS remittance receipt" in done and Payment.objects.get().reference in done


def test_a_customer_cannot_open_the_screen_and_another_branch_cannot_see_the_receipt(client, signed_in, supervisor):
    signed_in.post(reverse("teller:remittance"), form())
    payment = Payment.objects.get()
    customer = make_user(Role.CUSTOMER)
    client.force_login(customer)
    assert client.get(reverse("teller:remittance")).status_code == 403
    other = funded_branch()
    elsewhere = teller_with_open_till(other, supervisor_for(other), mfa=True)
    client.force_login(elsewhere)
    assert client.get(reverse("teller:remittance-receipt", kwargs={"pk": payment.pk})).status_code == 404
