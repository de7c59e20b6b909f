"""The card screens: the customer's cards in internet banking (request, green PIN,
controls with HTMX, hotlist, replacement) and the teller's (issue, hotlist, replace,
the mailer printed once). A customer reaches only their own cards; bad input is
refused in words and writes nothing; the full card number appears on no page, in no
message, log line or audit event."""

import html
import io
import logging
import re

import pytest
from django.urls import reverse
from pypdf import PdfReader

from banking.audit.models import AuditEvent
from banking.cards.mailer import card_verification_value
from banking.cards.models import Card, CardStatus
from banking.cards.tests.factories import CardBank
from banking.deposits.tests.factories import make_customer
from banking.testing import make_branch, make_user, totp_code
from banking.users.roles import Role

HX = {"HX-Request": "true"}


def words(response):
    return " ".join(re.sub(r"<[^>]+>", " ", html.unescape(response.content.decode())).split())


@pytest.fixture
def bank(db):
    return CardBank()


def code(bank):
    return totp_code(bank.totp_secret)


def stranger(bank):
    user = make_user(Role.CUSTOMER)
    make_customer(branch=bank.branch, created_by=bank.teller, user=user)
    return user


# -- the customer ------------------------------------------------------------------------


def test_my_cards_shows_the_card_masked_to_six_and_four(client, bank):
    client.force_login(bank.user)
    response = client.get(reverse("customer:cards"))
    assert response.status_code == 200
    text = words(response)
    assert bank.card.masked in text and bank.number[:6] + "******" + bank.number[-4:] == bank.card.masked
    assert bank.number not in response.content.decode()


def test_another_customers_card_is_not_found_and_left_alone(client, bank):
    client.force_login(stranger(bank))
    card = bank.card
    assert client.get(reverse("customer:cards")).content.decode().count(card.masked) == 0
    for name in ("customer:card", "customer:card-pin", "customer:card-hotlist"):
        assert client.get(reverse(name, args=[card.pk])).status_code == 404
    assert client.post(reverse("customer:card-hotlist", args=[card.pk]), {"reason": "lost"}).status_code == 404
    assert client.post(reverse("customer:card-controls", args=[card.pk]),
                       {"atm_daily_limit": "100", "ecommerce_enabled": "on"}, headers=HX).status_code == 404
    assert client.post(reverse("customer:card-pin", args=[card.pk]),
                       {"pin": "4071", "pin_again": "4071", "code": "123456"}).status_code == 404
    assert client.post(reverse("customer:card-replace", args=[card.pk])).status_code == 404
    card.refresh_from_db()
    assert card.status == CardStatus.ACTIVE and not card.ecommerce_enabled and card.atm_daily_limit == 25_000_00
    assert not AuditEvent.objects.filter(action__in=["cards.hotlisted", "cards.controls_set", "cards.pin_set"]).exists()


def test_staff_cannot_open_the_customers_card_screens(client, bank):
    client.force_login(bank.teller)
    assert client.get(reverse("customer:card", args=[bank.card.pk])).status_code == 403


def test_a_customer_requests_a_card_for_an_account_without_one(client, bank):
    second = bank.open_account(deposit=1_000_00)
    client.force_login(bank.user)
    page = client.get(reverse("customer:card-request"))
    assert second.number in words(page) and bank.account.number not in words(page)  # that one has a card
    response = client.post(reverse("customer:card-request"), {"account": second.pk})
    card = Card.objects.get(account=second)
    assert response.status_code == 302 and response["Location"] == reverse("customer:card", args=[card.pk])
    assert card.customer == bank.customer and card.issued_by == bank.user and card.mailer_printed_at is None
    followed = client.get(response["Location"])
    assert f"Your debit card {card.masked} is ready to collect at {bank.branch.name}" in words(followed)


def test_a_card_request_for_someone_elses_account_is_refused_in_words(client, bank):
    other = make_customer(branch=bank.branch, created_by=bank.teller)
    theirs = bank.open_account(customer=other)
    frozen = bank.open_account(deposit=0)
    frozen.status = "frozen"
    frozen.save(update_fields=["status"])
    client.force_login(bank.user)
    before = Card.objects.count()
    for value in (theirs.pk, frozen.pk, bank.account.pk, "999999", "x' OR 1=1", ""):
        response = client.post(reverse("customer:card-request"), {"account": value})
        assert response.status_code == 400
        assert ("Choose one of your savings or current accounts without a card" in words(response)
                or "Choose the account the card draws on" in words(response))
    assert Card.objects.count() == before


def test_a_green_pin_is_set_with_the_authenticator_code(client, bank):
    client.force_login(bank.user)
    url = reverse("customer:card-pin", args=[bank.card.pk])
    assert "Set the PIN of card" in words(client.get(url))
    response = client.post(url, {"pin": "4071", "pin_again": "4071", "code": code(bank)})
    assert response.status_code == 302
    bank.card.refresh_from_db()
    assert bank.card.pin_matches("4071") and "4071" not in bank.card.pin_hash
    assert AuditEvent.objects.filter(action="cards.pin_set").count() == 1


@pytest.mark.parametrize("data,said", [
    ({"pin": "4071", "pin_again": "4071", "code": "000000"}, "That authenticator code is not right"),
    ({"pin": "4071", "pin_again": "4072"}, "The two PINs differ"),
    ({"pin": "1234", "pin_again": "1234"}, "easy to guess"),
    ({"pin": "7777", "pin_again": "7777"}, "easy to guess"),
    ({"pin": "12a4", "pin_again": "12a4"}, "Enter a PIN of 4 digits"),
    ({"pin": "40715", "pin_again": "40715"}, "Enter a PIN of 4 digits"),
    ({"pin": "", "pin_again": ""}, "Enter the new PIN."),
    ({"pin": "4071", "pin_again": "4071", "code": "12"}, "at least 6 characters"),
])
def test_a_bad_pin_or_code_is_refused_in_words_and_changes_nothing(client, bank, data, said):
    client.force_login(bank.user)
    before = bank.card.pin_hash
    data = {"code": code(bank), **data} if "code" not in data else data
    response = client.post(reverse("customer:card-pin", args=[bank.card.pk]), data)
    assert response.status_code == 400
    assert said in words(response)
    bank.card.refresh_from_db()
    assert bank.card.pin_hash == before
    assert not AuditEvent.objects.filter(action="cards.pin_set").exists()


def test_controls_swap_their_fragment_and_save(client, bank):
    client.force_login(bank.user)
    url = reverse("customer:card-controls", args=[bank.card.pk])
    response = client.post(url, {"atm_enabled": "on", "pos_enabled": "on", "ecommerce_enabled": "on",
                                 "atm_daily_limit": "10,000"}, headers=HX)
    assert response.status_code == 200
    text = words(response)
    assert "<html" not in response.content.decode() and 'id="card-controls"' in response.content.decode()
    assert "Saved: ATM on, shops on, online shopping on, daily ATM limit ₹10,000.00." in text
    bank.card.refresh_from_db()
    assert bank.card.ecommerce_enabled and bank.card.atm_daily_limit == 10_000_00

    client.post(url, {"atm_enabled": "on", "pos_enabled": "on", "atm_daily_limit": "10,000"}, headers=HX)
    bank.card.refresh_from_db()
    assert not bank.card.ecommerce_enabled and bank.card.atm_enabled

    plain = client.post(url, {"atm_daily_limit": "5,000"})
    assert plain.status_code == 302
    bank.card.refresh_from_db()
    assert not (bank.card.atm_enabled or bank.card.pos_enabled) and bank.card.atm_daily_limit == 5_000_00


@pytest.mark.parametrize("limit,said", [
    ("60,000", "The daily ATM limit can be at most ₹50,000.00 on this card."),
    ("2,550", "multiples of ₹100"),
    ("abc", "Enter"),
    ("-100", "Enter"),
    ("", "Enter the daily ATM limit"),
])
def test_a_bad_atm_limit_is_refused_in_words_and_changes_nothing(client, bank, limit, said):
    client.force_login(bank.user)
    url = reverse("customer:card-controls", args=[bank.card.pk])
    response = client.post(url, {"ecommerce_enabled": "on", "atm_daily_limit": limit}, headers=HX)
    assert response.status_code == 200 and said in words(response)
    plain = client.post(url, {"ecommerce_enabled": "on", "atm_daily_limit": limit})
    assert plain.status_code == 400 and said in words(plain)
    bank.card.refresh_from_db()
    assert not bank.card.ecommerce_enabled and bank.card.atm_daily_limit == 25_000_00
    assert not AuditEvent.objects.filter(action="cards.controls_set").exists()


def test_a_customer_hotlists_a_card_then_asks_for_a_replacement(client, bank):
    client.force_login(bank.user)
    url = reverse("customer:card-hotlist", args=[bank.card.pk])
    refused = client.post(url, {"reason": "forgotten"})
    assert refused.status_code == 400 and "Say whether the card was lost or stolen" in words(refused)
    assert client.post(reverse("customer:card-replace", args=[bank.card.pk])).status_code == 302
    assert Card.objects.filter(replaces=bank.card).count() == 0  # an active card is not replaced from the site

    response = client.post(url, {"reason": "stolen"})
    assert response.status_code == 302
    bank.card.refresh_from_db()
    assert bank.card.status == CardStatus.STOLEN and bank.card.hotlisted_at is not None
    page = words(client.get(reverse("customer:card", args=[bank.card.pk])))
    assert "This card is blocked (hotlisted: stolen)" in page and "Request a replacement" in page

    response = client.post(reverse("customer:card-replace", args=[bank.card.pk]))
    new = Card.objects.get(replaces=bank.card)
    assert response["Location"] == reverse("customer:card", args=[new.pk])
    again = client.post(reverse("customer:card-replace", args=[bank.card.pk]), follow=True)
    assert "has already been replaced" in words(again)
    assert Card.objects.filter(replaces=bank.card).count() == 1


# -- the teller --------------------------------------------------------------------------


def test_a_teller_issues_a_card_and_prints_its_mailer_once(client, bank):
    Card.objects.all().delete()
    client.force_login(bank.teller)
    page = client.get(reverse("teller:cards"), {"account": bank.account.number})
    assert "Issue a card" in words(page) and bank.customer.display_name in words(page)
    response = client.post(reverse("teller:card-issue"), {"account": bank.account.number,
                                                          "holder": bank.customer.pk}, follow=True)
    card = Card.objects.get()
    assert card.issued_by == bank.teller
    assert f"Card {card.masked} issued to {bank.customer.display_name}" in words(response)
    assert card.masked in words(client.get(reverse("teller:cards")))  # waiting for its mailer

    pdf = client.post(reverse("teller:card-mailer", args=[card.pk]))
    assert pdf["Content-Type"] == "application/pdf" and "attachment" in pdf["Content-Disposition"]
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert card_verification_value(card.number, card.expires_on) in text and card.number not in text

    again = client.post(reverse("teller:card-mailer", args=[card.pk]), follow=True)
    assert again["Content-Type"].startswith("text/html")
    assert "It carries the CVV, which the bank does not keep, so it is printed once only" in words(again)
    assert AuditEvent.objects.filter(action="cards.mailer_printed").count() == 1


def test_another_branchs_teller_may_not_print_the_mailer(client, bank):
    client.force_login(make_user(Role.TELLER, branch=make_branch("000888", name="Far away")))
    response = client.post(reverse("teller:card-mailer", args=[bank.card.pk]), follow=True)
    assert "is printed at" in words(response)
    bank.card.refresh_from_db()
    assert bank.card.mailer_printed_at is None


def test_bad_input_at_the_counter_is_refused_in_words(client, bank):
    client.force_login(bank.teller)
    before = Card.objects.count()
    response = client.post(reverse("teller:card-issue"), {"account": "12345", "holder": bank.customer.pk})
    assert response.status_code == 400
    other = make_customer(branch=bank.branch, created_by=bank.teller)
    response = client.post(reverse("teller:card-issue"), {"account": bank.account.number, "holder": other.pk})
    assert response.status_code == 400 and "Choose one of the account's holders" in words(response)
    response = client.post(reverse("teller:card-issue"), {"account": bank.account.number,
                                                          "holder": bank.customer.pk})
    assert response.status_code == 400 and "already has an active card" in words(response)
    response = client.post(reverse("teller:card-hotlist", args=[bank.card.pk]), {"reason": "active"}, follow=True)
    assert "Say whether the card was lost or stolen" in words(response)
    assert Card.objects.count() == before and Card.objects.get(pk=bank.card.pk).status == CardStatus.ACTIVE
    assert client.post(reverse("teller:card-hotlist", args=[10**9]), {"reason": "lost"}).status_code == 404


def test_a_teller_hotlists_and_replaces_a_card(client, bank):
    client.force_login(bank.teller)
    client.post(reverse("teller:card-hotlist", args=[bank.card.pk]), {"reason": "lost"})
    bank.card.refresh_from_db()
    assert bank.card.status == CardStatus.LOST
    response = client.post(reverse("teller:card-replace", args=[bank.card.pk]), follow=True)
    new = Card.objects.get(replaces=bank.card)
    assert f"Card {new.masked} replaces {bank.card.masked}" in words(response)
    assert "Issue a replacement" not in words(response)


def test_a_customer_cannot_use_the_teller_screens(client, bank):
    client.force_login(bank.user)
    assert client.post(reverse("teller:card-mailer", args=[bank.card.pk])).status_code == 403
    assert client.get(reverse("teller:cards")).status_code == 403


# -- the card number never shows ------------------------------------------------------


def test_the_full_card_number_appears_on_no_page_message_log_or_audit_event(client, bank, caplog):
    """Every card screen, customer's and teller's, through the card's whole life, with
    every logger at DEBUG: the number is found nowhere but encrypted in its row. (A
    number someone types into a form comes back in that form's field, as any input
    does: that is their own input, not the bank's record, so it is not tried here.)"""
    caplog.set_level(logging.DEBUG)
    number, card = bank.number, bank.card
    seen = []

    def keep(response):
        seen.append(response.content.decode(errors="replace") + str(dict(response.headers)))
        return response

    client.force_login(bank.user)
    for url in (reverse("customer:cards"), reverse("customer:card-request"), reverse("customer:card", args=[card.pk]),
                reverse("customer:card-pin", args=[card.pk]), reverse("customer:card-hotlist", args=[card.pk])):
        keep(client.get(url))
    keep(client.post(reverse("customer:card-pin", args=[card.pk]),
                     {"pin": "4071", "pin_again": "4071", "code": code(bank)}, follow=True))
    keep(client.post(reverse("customer:card-pin", args=[card.pk]), {"pin": "40", "pin_again": "40", "code": "1"}))
    keep(client.post(reverse("customer:card-controls", args=[card.pk]), {"atm_daily_limit": "1,000"}, headers=HX))
    keep(client.post(reverse("customer:card-controls", args=[card.pk]), {"atm_daily_limit": "99,99,999"}))
    keep(client.post(reverse("customer:card-hotlist", args=[card.pk]), {"reason": "lost"}, follow=True))
    keep(client.post(reverse("customer:card-replace", args=[card.pk]), follow=True))
    new = Card.objects.get(replaces=card)
    keep(client.get(reverse("customer:cards")))
    keep(client.get(reverse("customer:card", args=[card.pk])))
    client.logout()

    client.force_login(bank.teller)
    keep(client.get(reverse("teller:cards")))
    keep(client.get(reverse("teller:cards"), {"account": bank.account.number}))
    keep(client.post(reverse("teller:card-mailer", args=[new.pk])))  # the PDF: the number masked there too
    keep(client.post(reverse("teller:card-mailer", args=[new.pk]), follow=True))
    keep(client.post(reverse("teller:card-hotlist", args=[new.pk]), {"reason": "stolen"}, follow=True))
    keep(client.post(reverse("teller:card-replace", args=[new.pk]), follow=True))
    keep(client.post(reverse("teller:card-issue"), {"account": bank.account.number, "holder": bank.customer.pk},
                     follow=True))

    numbers = [number, new.number, *Card.objects.exclude(pk__in=[card.pk, new.pk]).values_list("number", flat=True)]
    assert len(numbers) == 3  # the card, its replacement and that one's replacement
    events = [f"{e.action} {e.summary} {e.before} {e.after} {e.object_id}"
              for e in AuditEvent.objects.filter(action__startswith="cards.")]
    assert len(events) >= 8
    corpus = "\n".join(seen + events + [caplog.text])
    assert bank.card.masked in corpus
    for full in numbers:
        assert full not in corpus
        assert full.encode() not in b"".join(s.encode() for s in seen)
