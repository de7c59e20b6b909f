import datetime

import pytest
from django.db import connection

from banking.audit.models import AuditEvent
from banking.core.crypto import blind_index
from banking.core.errors import LimitExceeded, NotPermitted, ValidationFailed
from banking.testing import totp_code

from ..actions import hotlist, issue_card, replace, set_controls, set_pin
from ..models import Card, CardStatus, expiry_for
from ..numbers import is_valid_card_number, mask_card_number, pin_block, pin_from_block
from .factories import CardBank


@pytest.fixture
def bank(db):
    return CardBank()


def test_a_card_number_has_the_bin_a_luhn_digit_and_is_masked_to_six_and_four(bank):
    card = bank.card
    assert card.number.startswith("652150") and len(card.number) == 16
    assert is_valid_card_number(card.number)
    assert not is_valid_card_number(card.number[:-1] + str((int(card.number[-1]) + 1) % 10))
    assert card.masked == card.number[:6] + "******" + card.number[-4:] == mask_card_number(card.number)
    assert is_valid_card_number("4111111111111111") and not is_valid_card_number("4111111111111112")


def test_the_number_is_encrypted_at_rest_and_found_by_its_blind_index(bank):
    with connection.cursor() as cursor:
        cursor.execute("SELECT number, number_index FROM cards_card WHERE id = %s", [bank.card.pk])
        stored, index = cursor.fetchone()
    assert bank.number not in stored and index == blind_index(bank.number)
    assert Card.objects.with_number(bank.number).get() == bank.card


def test_no_cvv_column_anywhere(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT table_name, column_name FROM information_schema.columns "
                       "WHERE column_name ILIKE '%%cvv%%' OR column_name ILIKE '%%cvc%%' "
                       "OR column_name ILIKE '%%cvn%%'")
        assert cursor.fetchall() == []


def test_expiry_is_the_end_of_the_month_five_years_on():
    assert expiry_for(datetime.date(2026, 12, 7)) == datetime.date(2031, 12, 31)
    assert expiry_for(datetime.date(2028, 2, 29)) == datetime.date(2033, 2, 28)


def test_issue_audits_without_the_number_and_refuses_a_second_active_card(bank):
    events = AuditEvent.objects.filter(action="cards.issued")
    assert events.count() == 1
    event = events.get()
    assert bank.number not in f"{event.summary} {event.before} {event.after}"
    assert bank.card.masked in event.summary
    with pytest.raises(ValidationFailed, match="already has an active card"):
        issue_card(actor=bank.teller, account=bank.account)


def test_no_card_on_a_frozen_account(bank):
    from banking.teller.tests.factories import set_status

    frozen = set_status(bank.open_account(), "frozen", bank.supervisor)
    with pytest.raises(ValidationFailed, match="frozen: a card is issued only on an active account"):
        issue_card(actor=bank.teller, account=frozen)
    assert not Card.objects.filter(account=frozen).exists()


def test_the_pin_is_a_slow_salted_hash_set_with_the_authenticator_code(bank):
    with pytest.raises(ValidationFailed, match="authenticator code"):
        set_pin(actor=bank.user, card=bank.card, pin="9371", code="000000")
    with pytest.raises(ValidationFailed, match="easy to guess"):
        set_pin(actor=bank.user, card=bank.card, pin="1234", code=totp_code(bank.totp_secret))
    with pytest.raises(ValidationFailed, match="4 digits"):
        set_pin(actor=bank.user, card=bank.card, pin="93a1", code=totp_code(bank.totp_secret))
    card = set_pin(actor=bank.user, card=bank.card, pin="9371", code=totp_code(bank.totp_secret))
    card.refresh_from_db()
    assert "9371" not in card.pin_hash and card.pin_hash.startswith("cbspin$1024$")
    assert card.pin_matches("9371") and not card.pin_matches("4826")


def test_a_pin_hash_cannot_be_checked_without_the_banks_key(settings):
    """Ten thousand PINs are quickly tried against any hash: a copy of the table
    without the key (FIELD_ENCRYPTION_KEY, kept out of the database) must not do."""
    from cryptography.fernet import Fernet

    from banking.cards.pins import ScryptPasswordHasher, hash_pin, pin_matches

    encoded = hash_pin("9371")
    _, n, salt, r, p, stored = encoded.split("$")
    # The same salt and work factor, without the key: not the stored hash.
    plain = ScryptPasswordHasher().encode("9371", salt, int(n), int(r), int(p))
    assert plain.split("$")[-1] != stored
    settings.FIELD_ENCRYPTION_KEY = Fernet.generate_key().decode()
    assert not pin_matches("9371", encoded)


def test_only_the_cardholder_sets_the_pin(bank):
    from banking.testing import make_user

    stranger = make_user("customer")
    with pytest.raises(NotPermitted):
        set_pin(actor=stranger, card=bank.card, pin="9371", code="123456")
    with pytest.raises(NotPermitted):
        set_pin(actor=bank.teller, card=bank.card, pin="9371", code="123456")


def test_controls_within_the_products_cap(bank):
    card = set_controls(actor=bank.user, card=bank.card, atm_enabled=True, pos_enabled=False, ecommerce_enabled=False,
                        atm_daily_limit=10_000_00)
    card.refresh_from_db()
    assert (card.atm_enabled, card.pos_enabled, card.ecommerce_enabled, card.atm_daily_limit) == (
        True, False, False, 10_000_00)
    with pytest.raises(LimitExceeded, match="at most ₹50,000.00"):
        set_controls(actor=bank.user, card=bank.card, atm_enabled=True, pos_enabled=True, ecommerce_enabled=True,
                     atm_daily_limit=50_100_00)
    with pytest.raises(ValidationFailed, match="multiples of ₹100"):
        set_controls(actor=bank.user, card=bank.card, atm_enabled=True, pos_enabled=True, ecommerce_enabled=True,
                     atm_daily_limit=1_050_00)
    card.refresh_from_db()
    assert card.atm_daily_limit == 10_000_00 and not card.pos_enabled


def test_hotlist_then_replace(bank):
    card = hotlist(actor=bank.user, card=bank.card, reason=CardStatus.STOLEN)
    assert card.status == CardStatus.STOLEN and card.hotlisted_at
    with pytest.raises(ValidationFailed, match="already"):
        hotlist(actor=bank.teller, card=card, reason=CardStatus.LOST)
    new = replace(actor=bank.teller, card=card)
    assert new.status == CardStatus.ACTIVE and new.replaces == card and new.number != bank.number
    assert not new.pin_hash and is_valid_card_number(new.number)
    card.refresh_from_db()
    assert card.status == CardStatus.STOLEN
    with pytest.raises(ValidationFailed, match="already been replaced"):
        replace(actor=bank.teller, card=card)


def test_a_damaged_card_is_replaced_and_closed(bank):
    new = replace(actor=bank.teller, card=bank.card)
    bank.card.refresh_from_db()
    assert bank.card.status == CardStatus.REPLACED and new.status == CardStatus.ACTIVE


def test_pin_block_round_trip():
    number = "6521501234567893"
    block = pin_block("4826", number)
    assert len(block) == 16 and pin_from_block(block, number) == "4826"
    assert pin_from_block("zz", number) is None
    assert pin_from_block(block, "6521509999999996") != "4826"


def test_loading_a_terminal_posts_once_and_counts_the_notes(bank):
    from banking.ledger.chart import SHARE_CAPITAL
    from banking.ledger.models import LedgerAccount

    from ..actions import load_terminal, register_terminal
    from .factories import counts

    atm = register_terminal(actor=bank.supervisor, branch=bank.branch, terminal_id="ATM00009", location="Station")
    assert atm.ledger_account.code == f"1120-{bank.branch.code}-ATM00009" and len(atm.key) == 64
    capital = LedgerAccount.objects.get(code=SHARE_CAPITAL)
    for _ in range(2):
        load_terminal(actor=bank.supervisor, terminal=atm, notes={500: 10, 100: 3}, source=capital,
                      idempotency_key="load-1", narration="Loaded")
    atm.ledger_account.refresh_from_db()
    assert atm.ledger_account.balance == 5_300_00 and counts(atm) == {500: 10, 200: 0, 100: 3}
    with pytest.raises(ValidationFailed):
        load_terminal(actor=bank.supervisor, terminal=atm, notes={50: 10}, source=capital, idempotency_key="x",
                      narration="Loaded")
    with pytest.raises(ValidationFailed, match="8 capital letters"):
        register_terminal(actor=bank.supervisor, branch=bank.branch, terminal_id="atm-1", location="Station")
