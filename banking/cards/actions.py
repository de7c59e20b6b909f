"""Card and ATM actions: issuing a card, its PIN, its controls, hotlisting and
replacing it, and registering a terminal.

Design overview
- `issue_card`: a teller issues a RuPay debit card on an active savings or current
  account, to one of its holders; one active card per holder per account (a
  database constraint). The number is the bank's BIN, random digits and a Luhn
  check digit; it expires at the end of the month five years on. Locks: the deposit
  account's row, so two issues at once make one card.
- `set_pin`: the customer sets a "green PIN" on the site, confirmed with their
  authenticator code; stored as a slow salted hash. A new PIN clears the wrong tries.
- `set_controls`: ATM, POS and e-commerce on or off, and the daily ATM limit within
  the product's cap.
- `hotlist`: lost or stolen, at once: the switch's next message for the card finds
  it hotlisted (it reads the card's row under lock).
- `replace`: a new card from a hotlisted (or damaged, active) card, with its controls;
  the old card stays hotlisted so the switch keeps answering 41 or 43 for it.
- `print_mailer`: the card mailer PDF with the CVV (derived, never kept: mailer.py),
  printed once, by staff of the account's home branch, for an active card. A second
  print is refused in words rather than reprinted without the CVV: the CVV is all
  the mailer adds to the card, and a lost mailer means a card to replace, not a copy.
  Locks: the card's row, so two prints at once make one.
- `register_terminal`: an ATM with its HMAC key, its cash GL under the branch and
  empty cassettes of ₹500, ₹200 and ₹100.
- `load_terminal`: notes put into the cassettes from a cash GL outside the branch's
  vault (the currency chest, for a new ATM): Dr the ATM's cash GL, Cr the source, the
  counts riding with the entry. Replenishment from the vault, counted and through
  maker-checker, is operations' (cash.py).
Every change writes an audit event in its transaction; none names the card number.

Errors: ValidationFailed, NotPermitted, LimitExceeded.
"""

import re
import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone

from banking.audit.actions import record_event
from banking.core.errors import LimitExceeded, NotPermitted, ValidationFailed
from banking.core.money import format_money
from banking.deposits.models import OPERATIVE_KINDS, DepositAccount, DepositStatus
from banking.ledger.chart import atm_cash_code, ensure_standard_chart
from banking.ledger.models import AccountType, LedgerAccount
from banking.users.authenticator import require_code

from .models import (
    DENOMINATIONS,
    HOTLISTED,
    PRODUCT_TERMS,
    Card,
    CardProduct,
    CardStatus,
    Cassette,
    Terminal,
    expiry_for,
)
from .numbers import new_card_number

PIN_FORMAT = re.compile(r"[0-9]{4}")
TERMINAL_ID = re.compile(r"[A-Z0-9]{8}")


def _holders(account):
    return {account.customer_id, *account.holders.values_list("customer_id", flat=True)}


@transaction.atomic
def issue_card(*, actor, account, customer=None, product=CardProduct.RUPAY_CLASSIC):
    """A new active debit card on `account` for `customer` (its first holder unless
    named): issued by a teller, or requested by the customer on the site (for
    themselves only). Locks: the deposit account's row."""
    account = DepositAccount.objects.select_for_update(of=("self",)).select_related(
        "product", "customer").get(pk=account.pk)
    requester = getattr(actor, "customer", None)
    if requester is not None and customer is not None and customer.pk != requester.pk:
        raise NotPermitted("You can request a card only for yourself.")
    customer = customer or requester or account.customer
    if account.product.kind not in OPERATIVE_KINDS:
        raise ValidationFailed(f"A debit card is issued on a savings or current account, not on "
                               f"{account.product.name}.")
    if account.status != DepositStatus.ACTIVE:
        raise ValidationFailed(f"Account {account.number} is {account.get_status_display().lower()}: a card is "
                               "issued only on an active account.")
    if customer.pk not in _holders(account):
        raise ValidationFailed(f"{customer.display_name} is not a holder of account {account.number}.")
    if Card.objects.filter(account=account, customer=customer, status=CardStatus.ACTIVE).exists():
        raise ValidationFailed(f"{customer.display_name} already has an active card on account {account.number}; "
                               "hotlist or replace it instead.")
    card = _new_card(actor=actor, account=account, customer=customer, product=product)
    record_event(action="cards.issued", obj=card, actor=actor, summary=f"Debit card {card.masked} issued on "
                 f"account {account.number}",
                 after={"card": card.masked, "account": account.number, "expires_on": card.expires_on.isoformat(),
                        "product": product})
    return card


@transaction.atomic
def print_mailer(*, actor, card):
    """The card mailer of `card` as a PDF (bytes), with its CVV; printed once, by staff
    at the account's home branch. Locks: the card's row."""
    from .mailer import mailer_pdf

    card = Card.objects.select_for_update(of=("self",)).select_related(
        "account__branch", "account__product", "customer").get(pk=card.pk)
    if getattr(actor, "customer", None) is not None or getattr(actor, "branch", None) is None:
        raise NotPermitted("The card mailer is printed by the branch.")
    if actor.branch.pk != card.account.branch_id:
        raise NotPermitted(f"The mailer of card {card.masked} is printed at {card.account.branch.name}, the "
                           "account's home branch.")
    if card.mailer_printed_at is not None:
        printed = timezone.localtime(card.mailer_printed_at)
        raise ValidationFailed(
            f"The mailer of card {card.masked} was printed on {printed:%d %b %Y} at {printed:%H:%M} by "
            f"{card.mailer_printed_by.display_name}. It carries the CVV, which the bank does not keep, "
            "so it is printed once only: if it was lost, hotlist the card and issue a replacement.")
    if card.status != CardStatus.ACTIVE:
        raise ValidationFailed(f"Card {card.masked} is {card.get_status_display().lower()}: its mailer is not "
                               "printed.")
    card.mailer_printed_at, card.mailer_printed_by = timezone.now(), actor
    card.save(update_fields=["mailer_printed_at", "mailer_printed_by"])
    record_event(action="cards.mailer_printed", obj=card, actor=actor, summary=f"Mailer of card {card.masked} printed",
                 after={"card": card.masked, "printed_at": card.mailer_printed_at.isoformat()})
    return mailer_pdf(card, printed_at=card.mailer_printed_at)


def _new_card(*, actor, account, customer, product, controls_from=None, replaces=None):
    terms = PRODUCT_TERMS[product]
    issued_at = timezone.now()
    card = Card(customer=customer, account=account, product=product, name_on_card=_name_on_card(customer),
                expires_on=expiry_for(timezone.localdate(issued_at)), issued_at=issued_at, issued_by=actor,
                atm_cap=terms["atm_cap"], atm_daily_limit=terms["atm_default"], replaces=replaces)
    if controls_from is not None:
        card.atm_enabled, card.pos_enabled = controls_from.atm_enabled, controls_from.pos_enabled
        card.ecommerce_enabled = controls_from.ecommerce_enabled
        card.atm_daily_limit = min(controls_from.atm_daily_limit, card.atm_cap)
    for _attempt in range(5):  # a number drawn twice (one in 10^9) is drawn again
        card.set_number(new_card_number(terms["bin"]))
        try:
            with transaction.atomic():
                card.save()
            return card
        except IntegrityError:
            if not Card.objects.filter(number_index=card.number_index).exists():
                raise
    raise AssertionError("five card numbers drawn were all taken")


def _name_on_card(customer):
    return re.sub(r"[^A-Z ]", "", customer.display_name.upper())[:26].strip() or "CARDHOLDER"


def _locked(card):
    return Card.objects.select_for_update(of=("self",)).select_related("account", "customer").get(pk=card.pk)


def _weak(pin):
    digits = [int(d) for d in pin]
    steps = {b - a for a, b in zip(digits, digits[1:], strict=False)}
    return len(set(pin)) == 1 or steps in ({1}, {-1})


def _own(actor, card):
    customer = getattr(actor, "customer", None)
    if customer is None or customer.pk != card.customer_id:
        raise NotPermitted("Only the cardholder can do this for their card.")


@transaction.atomic
def set_pin(*, actor, card, pin, code):
    """The cardholder sets the card's PIN (a green PIN), confirmed with their
    authenticator code. Locks: the card's row."""
    _own(actor, card)
    if not isinstance(pin, str) or not PIN_FORMAT.fullmatch(pin):
        raise ValidationFailed("Enter a PIN of 4 digits.")
    if _weak(pin):
        raise ValidationFailed("Choose a PIN that is not four equal digits or a run like 1234: it is easy to guess.")
    card = _locked(card)
    if card.status != CardStatus.ACTIVE:
        raise ValidationFailed(f"Card {card.masked} is {card.get_status_display().lower()}: its PIN cannot be set.")
    require_code(actor, code, confirms="your card's PIN")
    card.set_pin(pin)
    card.save(update_fields=["pin_hash", "wrong_pins", "wrong_pins_on"])
    record_event(action="cards.pin_set", obj=card, actor=actor, summary=f"PIN set for card {card.masked}")
    return card


@transaction.atomic
def set_controls(*, actor, card, atm_enabled, pos_enabled, ecommerce_enabled, atm_daily_limit):
    """The cardholder's controls. `atm_daily_limit` in paise, within the product's cap.
    Locks: the card's row."""
    _own(actor, card)
    card = _locked(card)
    if card.status != CardStatus.ACTIVE:
        raise ValidationFailed(f"Card {card.masked} is {card.get_status_display().lower()}: its controls cannot "
                               "be changed.")
    if isinstance(atm_daily_limit, bool) or not isinstance(atm_daily_limit, int) or atm_daily_limit < 0:
        raise ValidationFailed("Enter the daily ATM limit as an amount of zero or more.")
    if atm_daily_limit % 100_00:
        raise ValidationFailed("ATMs pay out in multiples of ₹100: enter the daily ATM limit in hundreds.")
    if atm_daily_limit > card.atm_cap:
        raise LimitExceeded(f"The daily ATM limit can be at most {format_money(card.atm_cap, 'INR')} on this card.")
    before = _controls(card)
    card.atm_enabled, card.pos_enabled = bool(atm_enabled), bool(pos_enabled)
    card.ecommerce_enabled, card.atm_daily_limit = bool(ecommerce_enabled), atm_daily_limit
    card.save(update_fields=["atm_enabled", "pos_enabled", "ecommerce_enabled", "atm_daily_limit"])
    record_event(action="cards.controls_set", obj=card, actor=actor, summary=f"Controls changed on card {card.masked}",
                 before=before, after=_controls(card))
    return card


def _controls(card):
    return {"atm": card.atm_enabled, "pos": card.pos_enabled, "ecommerce": card.ecommerce_enabled,
            "atm_daily_limit": card.atm_daily_limit}


@transaction.atomic
def hotlist(*, actor, card, reason):
    """Hotlist `card` as lost or stolen, with immediate effect: by its holder or by
    staff. Locks: the card's row (the switch reads it under the same lock)."""
    if getattr(actor, "customer", None) is not None:
        _own(actor, card)
    if reason not in HOTLISTED:
        raise ValidationFailed("Say whether the card was lost or stolen.")
    card = _locked(card)
    if card.status != CardStatus.ACTIVE:
        raise ValidationFailed(f"Card {card.masked} is already {card.get_status_display().lower()}.")
    card.status, card.hotlisted_at = reason, timezone.now()
    card.save(update_fields=["status", "hotlisted_at"])
    record_event(action="cards.hotlisted", obj=card, actor=actor, summary=f"Card {card.masked} hotlisted: {reason}",
                 before={"status": CardStatus.ACTIVE}, after={"status": reason})
    return card


@transaction.atomic
def replace(*, actor, card):
    """A new card for a hotlisted card (or an active one that is damaged, which is
    closed as replaced), with the same controls and no PIN. Locks: the card's row."""
    card = _locked(card)
    if getattr(actor, "customer", None) is not None:
        _own(actor, card)
    if card.status == CardStatus.REPLACED or Card.objects.filter(replaces=card).exists():
        raise ValidationFailed(f"Card {card.masked} has already been replaced.")
    if card.status == CardStatus.ACTIVE:
        card.status = CardStatus.REPLACED
        card.save(update_fields=["status"])
    account = DepositAccount.objects.select_for_update(of=("self",)).get(pk=card.account_id)
    if account.status != DepositStatus.ACTIVE:
        raise ValidationFailed(f"Account {account.number} is {account.get_status_display().lower()}: a card is "
                               "issued only on an active account.")
    new = _new_card(actor=actor, account=account, customer=card.customer, product=card.product, controls_from=card,
                    replaces=card)
    record_event(action="cards.replaced", obj=new, actor=actor, summary=f"Card {new.masked} replaces {card.masked}",
                 before={"card": card.masked, "status": card.status}, after={"card": new.masked})
    return new


def check_new_terminal(terminal_id, location):
    """The terminal id (upper case) and location of a terminal that may be
    registered, or ValidationFailed in operations' words."""
    terminal_id = (terminal_id or "").strip().upper()
    if not TERMINAL_ID.fullmatch(terminal_id):
        raise ValidationFailed("A terminal id is 8 capital letters or digits.")
    location = " ".join((location or "").split())
    if not location:
        raise ValidationFailed("Say where the terminal stands.")
    if len(location) > 120:
        raise ValidationFailed("Describe where the terminal stands in at most 120 characters.")
    if Terminal.objects.filter(terminal_id=terminal_id).exists():
        raise ValidationFailed(f"Terminal {terminal_id} is already registered.")
    return terminal_id, location


@transaction.atomic
def register_terminal(*, actor, branch, terminal_id, location):
    """An ATM at `branch`: its HMAC key (returned on the terminal, to load into it),
    its own cash GL 1120-<branch>-<terminal id> under the ATM-cash header, and empty
    cassettes of each denomination."""
    terminal_id, location = check_new_terminal(terminal_id, location)
    chart = ensure_standard_chart([(branch.code, branch.name)])
    gl = LedgerAccount.objects.create(
        code=atm_cash_code(branch.code, terminal_id), name=f"ATM cash, {terminal_id} ({location})"[:100],
        type=AccountType.ASSET, parent=chart["1120"], branch_code=branch.code, enforce_balance=True)
    terminal = Terminal.objects.create(terminal_id=terminal_id, branch=branch, location=location,
                                       key=secrets.token_hex(32), ledger_account=gl)
    Cassette.objects.bulk_create(Cassette(terminal=terminal, denomination=d) for d in DENOMINATIONS)
    record_event(action="cards.terminal_registered", obj=terminal, actor=actor,
                 summary=f"ATM {terminal_id} registered at {location}",
                 after={"branch": branch.code, "ledger_account": gl.code})
    return terminal


@transaction.atomic
def load_terminal(*, actor, terminal, notes, source, idempotency_key, narration):
    """Put `notes` ({denomination: count}) into `terminal`'s cassettes, paid from the
    ledger account `source`. Locks: the terminal's row (as the switch takes it), then
    the ledger accounts. Posted once per key: a retry adds no notes."""
    from banking.ledger.actions import Line, post_entry
    from banking.ledger.models import Channel, EntryKind

    if not notes or any(d not in DENOMINATIONS or not isinstance(n, int) or n < 0 for d, n in notes.items()):
        raise ValidationFailed("Count the notes of ₹500, ₹200 and ₹100 being loaded.")
    total = sum(d * n for d, n in notes.items()) * 100
    if not total:
        raise ValidationFailed("Count the notes of ₹500, ₹200 and ₹100 being loaded.")
    terminal = Terminal.objects.select_for_update().get(pk=terminal.pk)
    cassettes = {c.denomination: c.pk for c in terminal.cassettes.all()}
    cases = " ".join(f"WHEN {int(cassettes[d])} THEN {int(n)}" for d, n in notes.items())
    count_rider = (f"UPDATE cards_cassette SET count = count + CASE id {cases} ELSE 0 END "  # noqa: S608 integers
                   "WHERE terminal_id = %s AND EXISTS (SELECT FROM posted) RETURNING 1", [terminal.pk])
    post_entry(actor=actor, lines=[Line.debit(terminal.ledger_account_id, total), Line.credit(source, total)],
               kind=EntryKind.CASH_MOVEMENT, narration=narration, idempotency_key=idempotency_key,
               channel=Channel.OPERATIONS, reference=terminal.terminal_id, riders=[count_rider])
    return terminal
