"""Internet banking payments: payees, pay and transfer with its review, the live
payment page, history and UPI collect requests, as a customer sees them."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from banking.approvals.actions import approve_request
from banking.deposits.actions import request_account_opening
from banking.payments import actions
from banking.payments.batches import settle_neft_batch
from banking.payments.models import CollectRequest, CollectStatus, Payee, Payment, PaymentStatus, VirtualAddress
from banking.payments.tests.factories import fresh, key, make_bank, payee, vpa
from banking.testing import make_user, totp_code
from banking.users.roles import Role

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}
POLL = {**HTMX, "X-CBS-Background": "1"}


@pytest.fixture
def bank(db):
    return make_bank()


@pytest.fixture
def account(bank):
    return bank.account(balance=10_00_000_00)


@pytest.fixture
def user(bank, account):
    return bank.customer_login(account)


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def stranger(bank):
    """Another customer of the bank, with a payee and a payment of their own."""
    other = bank.account(balance=1_00_000_00)
    bank.customer_login(other)
    their_payee = payee(other)
    payment = actions.make_payment(actor=None, customer=other.customer, debit_account=other, amount=100_00,
                                   idempotency_key=key(), rail="NEFT", payee=their_payee)
    return {"account": other, "payee": their_payee, "payment": payment}


def second_account(bank, account):
    """Another savings account of the same customer."""
    opened = request_account_opening(actor=bank.maker, customer=account.customer, product="SB")
    approve_request(actor=bank.checker, request_id=opened.opening_request_id)
    return fresh(opened)


def code(user):
    return totp_code(user.totp_secret)


def wrong(user):
    return next(c for c in ("000000", "123456", "999999") if c != code(user))


def pay_form(account, to, amount, token="tok-1", **extra):
    return {"debit_account": account.pk, "to": to, "amount": amount, "idempotency_key": token, **extra}


# -- payees -----------------------------------------------------------------------------------


def test_payee_list_shows_a_new_payee_cooling(signed_in, account):
    payee(account, aged=False, nickname="Ravi at HDFC")
    payee(account, name="Old Friend", account_number="50100099999999", aged=True)
    page = signed_in.get(reverse("customer:payees"))
    assert page.status_code == 200
    assert "Ravi at HDFC" in page.text and "Old Friend" in page.text
    assert page.text.count("can receive up to ₹50,000.00 until") == 1


def test_add_external_payee_with_the_authenticator_code(signed_in, user, account):
    response = signed_in.post(reverse("customer:payee-new"), {
        "kind": "external", "name": "Ravi Kumar", "account_number": "50100012345678", "ifsc": "hdfc0001234",
        "code": code(user)})
    assert response.status_code == 302 and response["Location"] == reverse("customer:payees")
    added = Payee.objects.get(customer=account.customer)
    assert (added.ifsc, added.account_number, added.name) == ("HDFC0001234", "50100012345678", "Ravi Kumar")


def test_add_vpa_payee(signed_in, user, account):
    response = signed_in.post(reverse("customer:payee-new"), {"kind": "vpa", "vpa": "Shop.Owner@okaxis",
                                                               "name": "Shop Owner", "code": code(user)})
    assert response.status_code == 302
    assert Payee.objects.get(customer=account.customer).vpa == "shop.owner@okaxis"


@pytest.mark.parametrize("change,message", [
    ({"ifsc": "HDFC123"}, "is not a valid IFSC"),
    ({"ifsc": "ABCD0999999"}, "is not in the bank directory"),
    ({"kind": "vpa", "vpa": "not a vpa"}, "is not a valid UPI ID"),
    ({"account_number": ""}, "Enter the beneficiary&#x27;s account number"),
    ({"code": "12ab56"}, "The authenticator code has 6 digits"),
])
def test_bad_payee_input_is_refused_and_adds_nothing(signed_in, user, account, change, message):
    data = {"kind": "external", "name": "Ravi Kumar", "account_number": "50100012345678", "ifsc": "HDFC0001234",
            "code": code(user), **change}
    response = signed_in.post(reverse("customer:payee-new"), data)
    assert response.status_code == 400
    assert message in response.text
    assert not Payee.objects.exists()


def test_a_wrong_authenticator_code_adds_no_payee(signed_in, user, account):
    response = signed_in.post(reverse("customer:payee-new"), {
        "kind": "external", "name": "Ravi Kumar", "account_number": "50100012345678", "ifsc": "HDFC0001234",
        "code": wrong(user)})
    assert response.status_code == 400
    assert "That authenticator code is not right" in response.text
    assert f'value="{wrong(user)}"' not in response.text
    assert not Payee.objects.exists()


def test_ifsc_lookup_names_the_bank_and_branch(signed_in):
    found = signed_in.get(reverse("customer:ifsc-lookup"), {"ifsc": "sbin0001234"}, headers=HTMX)
    assert found.status_code == 200
    assert "State Bank of India, Connaught Place" in found.text and "<html" not in found.text
    unknown = signed_in.get(reverse("customer:ifsc-lookup"), {"ifsc": "ZZZZ0000001"}, headers=HTMX)
    assert "is not in the bank directory" in unknown.text
    partial = signed_in.get(reverse("customer:ifsc-lookup"), {"ifsc": "SBIN"}, headers=HTMX)
    assert "State Bank" not in partial.text and "not" not in partial.text


def test_remove_payee(signed_in, account):
    p = payee(account)
    page = signed_in.get(reverse("customer:payee-remove", args=[p.pk]))
    assert page.status_code == 200 and "Remove Ravi Kumar?" in page.text
    assert signed_in.post(reverse("customer:payee-remove", args=[p.pk])).status_code == 302
    assert Payee.objects.get(pk=p.pk).deleted_at is not None


def test_another_customers_payee_is_404(signed_in, stranger):
    url = reverse("customer:payee-remove", args=[stranger["payee"].pk])
    assert signed_in.get(url).status_code == 404
    assert signed_in.post(url).status_code == 404
    assert Payee.objects.get(pk=stranger["payee"].pk).deleted_at is None


# -- pay and transfer ---------------------------------------------------------------------------


def test_pay_form_lists_my_accounts_and_payees_only(signed_in, account, stranger):
    mine = payee(account, nickname="Ravi at HDFC")
    page = signed_in.get(reverse("customer:pay"))
    assert page.status_code == 200
    assert account.number in page.text and "Ravi at HDFC" in page.text
    assert stranger["account"].number not in page.text
    token = re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', page.text)
    assert token, "the form carries a fresh idempotency token"
    assert f"payee:{mine.pk}" in page.text


def test_choosing_a_payee_redraws_the_fields_over_htmx(signed_in, account):
    p = payee(account)
    fields = signed_in.get(reverse("customer:pay"), {"to": f"payee:{p.pk}", "idempotency_key": "abc"}, headers=HTMX)
    assert fields.status_code == 200 and "<html" not in fields.text
    assert "Send by" in fields.text and "UPI ID to pay" not in fields.text
    own = signed_in.get(reverse("customer:pay"), {"to": f"own:{account.pk}"}, headers=HTMX)
    assert "Send by" not in own.text


def test_transfer_to_own_account_reviews_then_settles(signed_in, bank, account):
    other = second_account(bank, account)
    data = pay_form(account, f"own:{other.pk}", "1,500.50", narration="Rent share")
    review = signed_in.post(reverse("customer:pay"), data)
    assert review.status_code == 200
    assert "Check and confirm" in review.text and "₹1,500.50" in review.text
    assert "Rupees One Thousand Five Hundred" in review.text
    assert not Payment.objects.exists()
    done = signed_in.post(reverse("customer:pay"), {**data, "step": "confirm"})
    payment = Payment.objects.get()
    assert done.status_code == 302 and done["Location"] == reverse("customer:payment", args=[payment.number])
    assert payment.status == PaymentStatus.SETTLED
    assert fresh(other).balance == 1_500_50


def test_neft_to_a_payee_above_the_threshold_needs_the_code(signed_in, user, account):
    p = payee(account)
    data = pay_form(account, f"payee:{p.pk}", "30000", rail="NEFT")
    review = signed_in.post(reverse("customer:pay"), data)
    assert "Authenticator code" in review.text and "₹10,00,000.00 a day by NEFT" in review.text
    refused = signed_in.post(reverse("customer:pay"), {**data, "step": "confirm", "code": wrong(user)})
    assert refused.status_code == 400 and "That authenticator code is not right" in refused.text
    assert not Payment.objects.exists()
    sent = signed_in.post(reverse("customer:pay"), {**data, "step": "confirm", "code": code(user)})
    payment = Payment.objects.get()
    assert sent.status_code == 302 and payment.rail == "NEFT" and payment.status == PaymentStatus.SENT
    assert fresh(account).balance == 10_00_000_00 - 30_000_00


def test_review_shows_the_room_left_for_a_new_payee(signed_in, account):
    p = payee(account, aged=False)
    review = signed_in.post(reverse("customer:pay"), pay_form(account, f"payee:{p.pk}", "20000", rail="IMPS"))
    assert "₹30,000.00 more can go to this payee" in review.text
    over = signed_in.post(reverse("customer:pay"), pay_form(account, f"payee:{p.pk}", "60000", rail="IMPS"))
    assert over.status_code == 400 and "was added less than 24 hours ago" in over.text


def test_a_resubmitted_confirmation_sends_once(signed_in, bank, account):
    other = second_account(bank, account)
    data = {**pay_form(account, f"own:{other.pk}", "100", token="same-token"), "step": "confirm"}
    first = signed_in.post(reverse("customer:pay"), data)
    again = signed_in.post(reverse("customer:pay"), data)
    assert Payment.objects.count() == 1
    assert first["Location"] == again["Location"]
    assert fresh(other).balance == 100_00


@pytest.mark.parametrize("amount,message", [
    ("0", "Enter an amount above zero."),
    ("-5", "Enter the amount in rupees, like 1,500 or 1500.50."),
    ("1.005", "Enter the amount in rupees, like 1,500 or 1500.50 (at most 2 decimals)."),
    ("ten", "Enter the amount in rupees"),
    ("1e2", "Enter the amount in rupees"),
    ("１２３", "Enter the amount in rupees"),
])
def test_bad_amounts_are_refused_and_send_nothing(signed_in, bank, account, amount, message):
    other = second_account(bank, account)
    response = signed_in.post(reverse("customer:pay"), {**pay_form(account, f"own:{other.pk}", amount),
                                                        "step": "confirm"})
    assert response.status_code == 400 and message in response.text
    assert not Payment.objects.exists()


def test_rtgs_below_two_lakh_is_refused_in_words(signed_in, account):
    p = payee(account)
    response = signed_in.post(reverse("customer:pay"), pay_form(account, f"payee:{p.pk}", "1,99,999.99", rail="RTGS"))
    assert response.status_code == 400
    assert "RTGS is for ₹2,00,000.00 or more" in response.text
    assert not Payment.objects.exists()


def test_a_malformed_upi_id_is_refused(signed_in, account):
    response = signed_in.post(reverse("customer:pay"), pay_form(account, "vpa", "100", vpa="nobody-at-all"))
    assert response.status_code == 400 and "is not a valid UPI ID" in response.text
    assert not Payment.objects.exists()


def test_pay_a_typed_upi_id(signed_in, account):
    data = pay_form(account, "vpa", "250", vpa="chai.stall@okicici")
    review = signed_in.post(reverse("customer:pay"), data)
    assert "chai.stall@okicici" in review.text and "UPI" in review.text
    signed_in.post(reverse("customer:pay"), {**data, "step": "confirm"})
    payment = Payment.objects.get()
    assert payment.rail == "UPI" and payment.beneficiary_vpa == "chai.stall@okicici"


def test_another_customers_payee_or_account_cannot_be_chosen(signed_in, account, stranger):
    for to in (f"payee:{stranger['payee'].pk}", f"own:{stranger['account'].pk}"):
        response = signed_in.post(reverse("customer:pay"), {**pay_form(account, to, "100"), "step": "confirm"})
        assert response.status_code == 400 and "Choose one of your accounts or payees" in response.text
    response = signed_in.post(reverse("customer:pay"), pay_form(stranger["account"], f"own:{account.pk}", "100"))
    assert response.status_code == 400 and "Choose one of your accounts to pay from" in response.text
    assert Payment.objects.count() == 1  # the stranger's own


def test_insufficient_funds_is_a_message_on_the_form(signed_in, bank, account):
    other = second_account(bank, account)
    response = signed_in.post(reverse("customer:pay"), pay_form(account, f"own:{other.pk}", "20,00,000"))
    assert response.status_code == 400 and "available, less than ₹20,00,000.00" in response.text


def test_the_pay_form_is_refused_to_staff(client, bank):
    for role in (Role.TELLER, Role.OPERATIONS):
        client.force_login(make_user(role, branch=bank.branch))
        assert client.get(reverse("customer:pay")).status_code == 403
        assert client.get(reverse("customer:payees")).status_code == 403
        assert client.get(reverse("customer:upi")).status_code == 403


# -- the payment, live, and the history ------------------------------------------------------------


def test_payment_page_follows_the_neft_batch_live(signed_in, account):
    payment = actions.make_payment(actor=None, customer=account.customer, debit_account=account, amount=500_00,
                                   idempotency_key=key(), rail="NEFT", payee=payee(account))
    page = signed_in.get(reverse("customer:payment", args=[payment.number]))
    assert page.status_code == 200
    assert "Sent, waiting for the network to settle" in page.text and 'hx-trigger="every 3s"' in page.text
    assert "X-CBS-Background" in page.text
    settle_neft_batch()
    live = signed_in.get(reverse("customer:payment", args=[payment.number]), headers=POLL)
    assert "<html" not in live.text and "Settled: the beneficiary has the money" in live.text
    assert "hx-trigger" not in live.text  # final: polling stops


def test_a_returned_payment_says_so_and_shows_the_money_back(signed_in, account):
    payment = actions.make_payment(actor=None, customer=account.customer, debit_account=account, amount=700_00,
                                   idempotency_key=key(), rail="NEFT",
                                   payee=payee(account, account_number="50100012345000"))
    settle_neft_batch()
    page = signed_in.get(reverse("customer:payment", args=[payment.number]))
    assert "Returned: Account does not exist" in page.text and "The money is back in your account" in page.text
    assert "₹10,00,000.00 in" in page.text


def test_another_customers_payment_is_404(signed_in, stranger):
    assert signed_in.get(reverse("customer:payment", args=[stranger["payment"].number])).status_code == 404


def test_history_lists_out_in_and_own_newest_first_and_filters_by_account(signed_in, bank, account, stranger):
    other = second_account(bank, account)
    actions.make_payment(actor=None, customer=account.customer, debit_account=account, amount=100_00,
                         idempotency_key=key(), credit_account=other)
    actions.make_payment(actor=None, customer=account.customer, debit_account=account, amount=200_00,
                         idempotency_key=key(), rail="NEFT", payee=payee(account, nickname="Ravi"))
    actions.receive_inbound_payment(rail="IMPS", amount=300_00, reference="123456789012", remitter_name="Asha Rao",
                                    beneficiary_account=other.number)
    page = signed_in.get(reverse("customer:payments"))
    assert page.status_code == 200
    assert "From Asha Rao" in page.text and "Between your accounts" in page.text and "To Ravi Kumar" in page.text
    assert page.text.index("From Asha Rao") < page.text.index("To Ravi Kumar")
    assert stranger["payment"].number not in page.text
    assert 'hx-trigger="every 5s"' in page.text  # the NEFT payment can still change
    filtered = signed_in.get(reverse("customer:payments"), {"account": account.number}, headers=HTMX)
    assert "<html" not in filtered.text
    assert "To Ravi Kumar" in filtered.text and "From Asha Rao" not in filtered.text


# -- UPI -----------------------------------------------------------------------------------------


def test_create_my_upi_id(signed_in, account):
    response = signed_in.post(reverse("customer:upi"), {"name": "meera.iyer", "account": account.pk})
    assert response.status_code == 302
    assert VirtualAddress.objects.get(customer=account.customer).address == "meera.iyer@cbsb"
    page = signed_in.get(reverse("customer:upi"))
    assert "meera.iyer@cbsb" in page.text


def test_the_upi_page_asks_no_more_queries_for_more_upi_ids(signed_in, account, django_assert_max_num_queries):
    vpa(account, name="first")
    url = reverse("customer:upi")
    signed_in.get(url)  # the session's first touch
    with django_assert_max_num_queries(20) as few:
        signed_in.get(url)
    for n in range(4):
        vpa(account, name=f"later{n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = signed_in.get(url).text
    assert all(f"later{n}@cbsb" in page for n in range(4))


def test_a_malformed_or_taken_upi_id_is_refused(signed_in, account, stranger):
    vpa(stranger["account"], name="taken")
    bad = signed_in.post(reverse("customer:upi"), {"name": "no spaces!", "account": account.pk})
    assert bad.status_code == 400 and "Choose a UPI ID of 2 to 50 letters" in bad.text
    taken = signed_in.post(reverse("customer:upi"), {"name": "taken", "account": account.pk})
    assert taken.status_code == 400 and "taken@cbsb is taken" in taken.text
    theirs = signed_in.post(reverse("customer:upi"), {"name": "mine", "account": stranger["account"].pk})
    assert theirs.status_code == 400
    assert not VirtualAddress.objects.filter(customer=account.customer).exists()


def collect(address, amount=499_00, reference=None, **extra):
    return actions.receive_collect_request(payer_vpa=address.address, merchant_vpa="bigbazaar@okaxis",
                                           merchant_name="Big Bazaar", amount=amount, is_merchant=True,
                                           reference=reference or key()[:20], note="Order 1182", **extra)


def test_collect_requests_appear_live_and_in_the_badge(signed_in, account):
    address = vpa(account, name="meera")
    empty = signed_in.get(reverse("customer:upi"), headers=POLL)
    assert "No requests are waiting" in empty.text and "<html" not in empty.text
    assert signed_in.get(reverse("customer:collect-count"), headers=POLL).text.strip() == ""
    collect(address)
    live = signed_in.get(reverse("customer:upi"), headers=POLL)
    assert "Big Bazaar" in live.text and "₹499.00" in live.text and "Order 1182" in live.text
    badge = signed_in.get(reverse("customer:collect-count"), headers=POLL)
    assert ">1<" in badge.text


def test_approve_a_collect_request_with_the_code(signed_in, user, account):
    request = collect(vpa(account, name="meera"))
    url = reverse("customer:collect-request", args=[request.pk])
    page = signed_in.get(url)
    assert page.status_code == 200 and "Big Bazaar asks you to pay" in page.text
    token = re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', page.text).group(1)
    refused = signed_in.post(url, {"code": wrong(user), "idempotency_key": token})
    assert refused.status_code == 400 and "That authenticator code is not right" in refused.text
    assert CollectRequest.objects.get().status == CollectStatus.PENDING
    paid = signed_in.post(url, {"code": code(user), "idempotency_key": token})
    request.refresh_from_db()
    assert request.status == CollectStatus.APPROVED
    assert paid["Location"] == reverse("customer:payment", args=[request.payment.number])
    assert fresh(account).balance == 10_00_000_00 - 499_00


def test_an_expired_collect_request_cannot_be_paid(signed_in, user, account):
    request = collect(vpa(account, name="meera"))
    CollectRequest.objects.filter(pk=request.pk).update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    url = reverse("customer:collect-request", args=[request.pk])
    assert "This request expired" in signed_in.get(url).text
    response = signed_in.post(url, {"code": code(user), "idempotency_key": "x" * 32})
    assert response.status_code == 400 and "This request has expired" in response.text
    assert not Payment.objects.exists()


def test_decline_a_collect_request(signed_in, account):
    request = collect(vpa(account, name="meera"))
    response = signed_in.post(reverse("customer:collect-decline", args=[request.pk]))
    assert response.status_code == 302
    assert CollectRequest.objects.get().status == CollectStatus.DECLINED
    assert not Payment.objects.exists()


def test_another_customers_collect_request_is_404(signed_in, stranger):
    request = collect(vpa(stranger["account"], name="ravi"))
    assert signed_in.get(reverse("customer:collect-request", args=[request.pk])).status_code == 404
    assert signed_in.post(reverse("customer:collect-decline", args=[request.pk])).status_code == 404
    assert CollectRequest.objects.get().status == CollectStatus.PENDING


def test_choosing_the_payee_kind_redraws_its_fields_over_htmx(signed_in):
    upi = signed_in.get(reverse("customer:payee-new"), {"kind": "vpa", "name": "Ravi"}, headers=HTMX)
    assert upi.status_code == 200 and "<html" not in upi.text
    assert 'name="vpa"' in upi.text and 'name="ifsc"' not in upi.text and 'value="Ravi"' in upi.text
    other_bank = signed_in.get(reverse("customer:payee-new"), {"kind": "external"}, headers=HTMX)
    assert 'name="ifsc"' in other_bank.text and 'name="vpa"' not in other_bank.text
    page = signed_in.get(reverse("customer:payee-new"))
    assert all(f'name="{field}"' in page.text for field in ("account_number", "ifsc", "vpa", "code"))


def test_a_customer_without_an_authenticator_is_told_to_set_one_up(client, db):
    from allauth.mfa.models import Authenticator

    from banking.payments.tests.factories import make_bank

    bank = make_bank()
    account = bank.account()
    user = bank.customer_login(account)
    Authenticator.objects.filter(user=user).delete()
    client.force_login(user)
    response = client.post(reverse("customer:payee-new"), {
        "kind": "external", "name": "Ravi Kumar", "account_number": "50100012345678", "ifsc": "HDFC0001234",
        "code": "123456"})
    assert "Set up your authenticator app first" in response.content.decode()
    assert not Payee.objects.exists()
