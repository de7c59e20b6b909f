"""The card mailer: the CVV derived like an issuer's HSM does (never kept), printed
once by the account's home branch; a customer requests a card only for themselves."""

import io
import threading

import pytest
from django.db import connection
from django.test import override_settings
from pypdf import PdfReader

from banking.audit.models import AuditEvent
from banking.core.errors import NotPermitted, ValidationFailed
from banking.testing import make_branch, make_user

from ..actions import hotlist, issue_card, print_mailer
from ..mailer import card_verification_value
from ..models import Card
from .factories import CardBank


@pytest.fixture
def bank(db):
    return CardBank()


def pdf_text(data):
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_cvv_is_three_digits_stable_and_keyed_by_number_expiry_and_service_code(bank):
    card = bank.card
    cvv = card_verification_value(card.number, card.expires_on)
    assert len(cvv) == 3 and cvv.isdigit()
    assert card_verification_value(card.number, card.expires_on) == cvv
    others = {card_verification_value(card.number, card.expires_on, "101"),
              card_verification_value(card.number, card.expires_on.replace(year=card.expires_on.year + 1)),
              card_verification_value(card.number[:-2] + "00", card.expires_on)}
    assert others != {cvv}
    with override_settings(CBS_CARD_VERIFICATION_KEY="another-bank's-key-entirely-0123456789"):
        keyed = {card_verification_value(card.number, card.expires_on, code) for code in ("620", "101", "201")}
    assert keyed != {card_verification_value(card.number, card.expires_on, c) for c in ("620", "101", "201")}


def test_the_mailer_prints_the_cvv_once_with_the_number_masked(bank):
    pdf = print_mailer(actor=bank.teller, card=bank.card)
    text = pdf_text(pdf)
    assert card_verification_value(bank.number, bank.card.expires_on) in text
    assert bank.card.masked in text and bank.number not in text
    assert bank.number.encode() not in pdf
    bank.card.refresh_from_db()
    assert bank.card.mailer_printed_by == bank.teller and bank.card.mailer_printed_at is not None
    event = AuditEvent.objects.get(action="cards.mailer_printed")
    assert bank.number not in f"{event.summary} {event.before} {event.after}"

    with pytest.raises(ValidationFailed, match="printed once only: if it was lost, hotlist the card"):
        print_mailer(actor=bank.supervisor, card=bank.card)
    assert AuditEvent.objects.filter(action="cards.mailer_printed").count() == 1


def test_only_the_home_branch_prints_the_mailer_and_never_a_customer(bank):
    elsewhere = make_user("teller", branch=make_branch("000777", name="Elsewhere"))
    with pytest.raises(NotPermitted, match="printed at"):
        print_mailer(actor=elsewhere, card=bank.card)
    with pytest.raises(NotPermitted, match="printed by the branch"):
        print_mailer(actor=bank.user, card=bank.card)
    bank.card.refresh_from_db()
    assert bank.card.mailer_printed_at is None


def test_a_hotlisted_cards_mailer_is_not_printed(bank):
    hotlist(actor=bank.teller, card=bank.card, reason="lost")
    with pytest.raises(ValidationFailed, match="its mailer is not printed"):
        print_mailer(actor=bank.teller, card=bank.card)


def test_no_model_field_is_named_like_a_cvv():
    from django.apps import apps

    names = [f"{model._meta.label}.{field.name}" for model in apps.get_models() for field in model._meta.get_fields()
             if any(word in field.name.lower() for word in ("cvv", "cvc", "cvn", "csc", "verification_value"))]
    assert names == []


def test_a_customer_requests_a_card_for_themselves_only(bank):
    from banking.deposits.tests.factories import make_customer

    Card.objects.all().delete()
    other = make_customer(branch=bank.branch, created_by=bank.teller)
    with pytest.raises(NotPermitted, match="only for yourself"):
        issue_card(actor=bank.user, account=bank.account, customer=other)
    card = issue_card(actor=bank.user, account=bank.account)
    assert card.customer == bank.customer and card.issued_by == bank.user


@pytest.mark.django_db(transaction=True)
def test_two_prints_at_once_give_one_mailer():
    bank = CardBank()
    results = []
    barrier = threading.Barrier(2)

    def attempt(actor):
        try:
            barrier.wait()
            results.append(print_mailer(actor=actor, card=bank.card)[:4])
        except ValidationFailed as error:
            results.append(str(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(actor,)) for actor in (bank.teller, bank.supervisor)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r == b"%PDF" for r in results) == [False, True]
    assert AuditEvent.objects.filter(action="cards.mailer_printed").count() == 1
