"""The ATM switch: authorises withdrawals, answers enquiries, takes reversals.

Design overview
- Terminals sign each message: `X-Terminal-Id` names the terminal, `X-Signature` is
  the hex HMAC-SHA256 of the raw body under that terminal's key
  (`authenticate_terminal`). A body signed for one terminal does not verify under
  another's key, and a body naming another terminal than the header is refused.
- Messages are JSON modelled on ISO 8583 (`handle_message`):
  0200 with processing code 01 (withdrawal), 31 (balance enquiry) or 38 (mini
  statement of the last 10 transactions) → 0210; 0420 (reversal, whole or partial
  by `dispensed_amount`) → 0430; 0800 (heartbeat) → 0810. Amounts are rupees as
  strings with two decimals ("2500.00"), as everywhere in the bank's API.
- Response codes: 00 approved, 05 do not honour (a malformed message, an unknown
  MTI or processing code, an amount that is not a positive multiple of ₹100 or that
  the cassettes cannot make, ATM use turned off, a terminal out of service, a STAN
  reused with other details, an account that cannot be debited), 14 invalid card
  (unknown, fails Luhn, replaced), 41 lost, 43 stolen, 51 insufficient funds, 54
  expired, 55 wrong PIN, 61 over the card's daily ATM limit, 75 PIN tries exceeded
  (the third wrong PIN of a business date, and every try after it that day), 91
  issuer unavailable (the bank's database too busy to answer in time).
- Locks, in this order: the terminal's row (one message at a time per terminal: its
  cassette counts and the duplicate check), the card's row (its wrong PINs and its
  daily limit), then the ledger accounts, by the posting function.
- Duplicates: a message is kept by terminal, kind, STAN and the date of its
  `local_time`. The same message again gets the first answer and posts nothing
  (the available balance in it is read afresh); the same STAN with other details
  is declined 05.
- Money: an approved withdrawal is one entry, Dr the customer's account, Cr the
  ATM's cash GL, narration "ATM WDL <terminal> <STAN>", posted by
  banking.ledger.actions.post_entry, whose refusal decides 51 (no balance check in
  Python). Its key is the terminal, STAN and date, so even a retry that got past the
  log cannot post twice. The log row and the cassette counts ride with the entry
  (banking.core.db riders). A reversal is the mirror, Dr the ATM's cash GL, Cr the
  customer, for what was not dispensed; the notes not dispensed go back to the
  switch's counts. A reversal whose original is not found is answered 00, recorded
  with no original, and left for reconciliation.
- Notes: the fewest notes the cassettes can make the amount with (a search over the
  ₹500 and ₹200 counts, the ₹100 notes making up the rest): a greedy choice would
  fail ₹600 with no ₹100 notes, which three ₹200 notes make.
"""

import datetime
import hashlib
import hmac
import json
import re
import secrets

from django.db import OperationalError, transaction
from django.db.models import Sum
from django.utils import timezone

from banking.audit.actions import event_rider, record_event
from banking.core.db import insert_rider
from banking.core.errors import AccountClosed, AccountFrozen, AccountNotPostable, InsufficientFunds
from banking.core.timeouts import is_busy
from banking.ledger.actions import Line, check_debit, post_entry
from banking.ledger.models import BusinessDate, Channel, EntryKind, Posting

from .models import Card, CardStatus, Cassette, MessageKind, SwitchMessage, Terminal, TerminalStatus
from .monitor import watch_message
from .numbers import is_valid_card_number, mask_card_number, pin_from_block

APPROVED, DO_NOT_HONOUR, INVALID_CARD, LOST, STOLEN = "00", "05", "14", "41", "43"
NO_FUNDS, EXPIRED, WRONG_PIN, OVER_LIMIT, PIN_TRIES, UNAVAILABLE = "51", "54", "55", "61", "75", "91"

PROCESSING = {"01": MessageKind.WITHDRAWAL, "31": MessageKind.BALANCE, "38": MessageKind.MINI_STATEMENT}
STAN = re.compile(r"[0-9]{6}")
RUPEES = re.compile(r"-?[0-9]{1,13}(\.[0-9]{1,2})?")
MINI_STATEMENT_LINES = 10


class TerminalRefused(Exception):
    """A message the switch will not read: no such terminal, or a bad signature."""

    def __init__(self, code, message):
        self.code = code
        super().__init__(message)


def sign(key, body):
    return hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def authenticate_terminal(terminal_id, signature, body):
    """The Terminal that signed `body`, or TerminalRefused."""
    if not terminal_id or not signature:
        raise TerminalRefused("signature_missing", "Send X-Terminal-Id and X-Signature (HMAC-SHA256 of the body).")
    terminal = Terminal.objects.filter(terminal_id=terminal_id).first()
    if terminal is None or not hmac.compare_digest(sign(terminal.key, body), signature.strip().lower()):
        raise TerminalRefused("signature_invalid", "The signature does not match this terminal's key.")
    return terminal


def reply_mti(mti):
    """The answer's MTI: a request's or an advice's, plus 10 (0200 → 0210, 0420 → 0430)."""
    if isinstance(mti, str) and re.fullmatch(r"[0-9]{2}[02][0-9]", mti):
        return f"{mti[:2]}{int(mti[2]) + 1}{mti[3]}"
    return None


def rupees(paise):
    sign_ = "-" if paise < 0 else ""
    return f"{sign_}{abs(paise) // 100}.{abs(paise) % 100:02d}"


def _paise(value):
    """A rupee string → paise, or None when it is not one (a number, a third decimal)."""
    if not isinstance(value, str) or not RUPEES.fullmatch(value):
        return None
    whole, _, fraction = value.lstrip("-").partition(".")
    paise = int(whole) * 100 + int((fraction + "00")[:2])
    return -paise if value.startswith("-") else paise


def _local_date(value):
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.datetime.fromisoformat(value)
        return timezone.localtime(moment).date() if timezone.is_aware(moment) else moment.date()
    except (ValueError, OverflowError):  # not a time, or one at the very edge of the calendar
        return None


def _content_hash(message):
    return hashlib.sha256(json.dumps(message, sort_keys=True, default=str).encode()).hexdigest()


def choose_notes(amount_rupees, available):
    """{denomination: count} making `amount_rupees` from `available` ({denomination:
    count}) with the fewest notes, or None when it cannot be made."""
    best = None
    for n500 in range(min(available.get(500, 0), amount_rupees // 500), -1, -1):
        rest = amount_rupees - 500 * n500
        for n200 in range(min(available.get(200, 0), rest // 200), -1, -1):
            left = rest - 200 * n200
            if left % 100:
                continue
            n100 = left // 100
            if n100 > available.get(100, 0):
                continue
            notes = n500 + n200 + n100
            if best is None or notes < best[0]:
                best = (notes, {500: n500, 200: n200, 100: n100})
    if best is None:
        return None
    return {denomination: count for denomination, count in best[1].items() if count}


def handle_message(*, terminal, message):
    """The switch's answer to one authenticated message (a dict), as a dict. The
    fleet monitor's alerts are checked after it (banking.cards.monitor)."""
    try:
        answer = _handle(terminal, message)
    except OperationalError as error:
        if not is_busy(error):
            raise
        answer = _reply(message, UNAVAILABLE, "The bank could not answer in time; try again.")
    watch_message(terminal=terminal, message=message, answer=answer)
    return answer


def _reply(message, code, words="", **fields):
    message = message if isinstance(message, dict) else {}
    answer = {"mti": reply_mti(message.get("mti"))}
    for name in ("processing_code", "stan", "terminal_id"):
        if name in message and isinstance(message[name], str):
            answer[name] = message[name]
    answer["response_code"] = code
    if words:
        answer["message"] = words
    answer.update(fields)
    return answer


def _handle(terminal, message):
    if not isinstance(message, dict):
        return _reply(None, DO_NOT_HONOUR, "The message is not a JSON object.")
    mti = message.get("mti")
    if mti == "0800":
        Terminal.objects.filter(pk=terminal.pk).update(last_heartbeat_at=timezone.now())
        return _reply(message, APPROVED)
    if mti == "0200":
        code = message.get("processing_code")
        kind = PROCESSING.get(code) if isinstance(code, str) else None
        if kind is None:
            return _reply(message, DO_NOT_HONOUR, "Unknown processing code.")
        return _request(terminal, message, kind)
    if mti == "0420":
        return _request(terminal, message, MessageKind.REVERSAL)
    return _reply(message, DO_NOT_HONOUR, "Unknown message type.")


def _request(terminal, message, kind):
    stan, local_date = message.get("stan"), _local_date(message.get("local_time"))
    if not isinstance(stan, str) or not STAN.fullmatch(stan) or local_date is None:
        return _reply(message, DO_NOT_HONOUR, "The message needs a 6-digit stan and an ISO 8601 local_time.")
    content_hash = _content_hash(message)
    with transaction.atomic():
        terminal = Terminal.objects.select_for_update().get(pk=terminal.pk)
        first = SwitchMessage.objects.filter(terminal=terminal, kind=kind, stan=stan, local_date=local_date).first()
        if first is not None:
            if first.content_hash != content_hash:
                return _reply(message, DO_NOT_HONOUR, "This STAN was used today for another message.")
            return _again(first)
        log = SwitchMessage(terminal=terminal, kind=kind, stan=stan, local_date=local_date, content_hash=content_hash)
        if kind == MessageKind.REVERSAL:
            return _reverse(terminal, message, log)
        return _authorise(terminal, message, log)


def _again(first):
    answer = dict(first.response)
    if first.response_code == APPROVED and first.card_id and first.kind != MessageKind.REVERSAL:
        account = Card.objects.select_related("account__ledger_account").get(pk=first.card_id).account.ledger_account
        answer["available_balance"] = rupees(account.available)
    return answer


def _record(log, message, code, words="", **fields):
    log.response_code = code
    log.response = _reply(message, code, words, **fields)
    log.save()
    return log.response


def _authorise(terminal, message, log):
    """A withdrawal, balance enquiry or mini statement, under the terminal's lock."""
    number = message.get("card_number")
    if not isinstance(number, str) or not is_valid_card_number(number):
        return _record(log, message, INVALID_CARD, "The card number is not valid.")
    log.masked_card = mask_card_number(number)
    amount = None
    if log.kind == MessageKind.WITHDRAWAL:
        amount = _paise(message.get("amount"))
        if amount is None or amount <= 0:
            return _record(log, message, DO_NOT_HONOUR, "The amount must be rupees above zero, like \"2500.00\".")
        if amount % 100_00:
            return _record(log, message, DO_NOT_HONOUR, "This ATM pays out multiples of ₹100 only.")
    if terminal.status != TerminalStatus.IN_SERVICE:
        return _record(log, message, DO_NOT_HONOUR, "This terminal is out of service.")
    card = Card.objects.select_for_update(of=("self",)).select_related("account__ledger_account").with_number(
        number).first()
    if card is None or card.status == CardStatus.REPLACED:
        return _record(log, message, INVALID_CARD, "This card is not valid.")
    log.card = card
    if card.status == CardStatus.LOST:
        return _record(log, message, LOST, "This card has been reported lost.")
    if card.status == CardStatus.STOLEN:
        return _record(log, message, STOLEN, "This card has been reported stolen.")
    if card.is_expired(log.local_date):
        return _record(log, message, EXPIRED, "This card has expired.")
    refusal = _check_pin(card, message.get("pin_block"), number)
    if refusal:
        return _record(log, message, *refusal)
    if not card.atm_enabled:
        return _record(log, message, DO_NOT_HONOUR, "ATM use is turned off on this card.")
    customer_gl = card.account.ledger_account
    if log.kind == MessageKind.BALANCE:
        return _record(log, message, APPROVED, available_balance=rupees(customer_gl.available))
    if log.kind == MessageKind.MINI_STATEMENT:
        return _record(log, message, APPROVED, available_balance=rupees(customer_gl.available),
                       transactions=_mini_statement(customer_gl))
    return _withdraw(terminal, message, log, card, amount)


def _check_pin(card, block, number):
    """None when the PIN is right; else the response code and words. A wrong PIN is
    counted on the card (the card's row is locked), the third of a business date
    blocks PIN use until the date moves on."""
    today = BusinessDate.objects.current()
    if card.pin_blocked(today):
        return PIN_TRIES, "PIN tries exceeded: the card can be used with its PIN again on the next business day."
    pin = pin_from_block(block, number)
    if pin is not None and card.pin_matches(pin):
        if card.wrong_pins:
            card.wrong_pins, card.wrong_pins_on = 0, None
            card.save(update_fields=["wrong_pins", "wrong_pins_on"])
        return None
    card.wrong_pins = (card.wrong_pins if card.wrong_pins_on == today else 0) + 1
    card.wrong_pins_on = today
    card.save(update_fields=["wrong_pins", "wrong_pins_on"])
    if card.pin_blocked(today):
        record_event(action="cards.pin_blocked", obj=card, channel=Channel.ATM,
                     summary=f"PIN use blocked on card {card.masked} until the next business day: "
                     f"{card.wrong_pins} wrong PINs", after={"wrong_pins": card.wrong_pins, "on": today.isoformat()})
        return PIN_TRIES, "PIN tries exceeded: the card can be used with its PIN again on the next business day."
    return WRONG_PIN, "The PIN is not right."


def _mini_statement(ledger_account):
    postings = Posting.objects.filter(account=ledger_account).select_related("entry").order_by("-id")[
        :MINI_STATEMENT_LINES]
    return [{"date": p.business_date.isoformat(), "narration": p.entry.narration[:40],
             "amount": rupees(p.amount), "side": "debit" if p.side == "D" else "credit"} for p in postings]


def _withdrawn_today(card, date):
    """What the card has taken from ATMs on `date`, less what was reversed."""
    approved = SwitchMessage.objects.filter(card=card, kind=MessageKind.WITHDRAWAL, response_code=APPROVED,
                                            local_date=date).aggregate(total=Sum("amount"))["total"] or 0
    reversed_ = SwitchMessage.objects.filter(card=card, kind=MessageKind.REVERSAL, original__local_date=date,
                                             ).aggregate(total=Sum("reversed_amount"))["total"] or 0
    return approved - reversed_


def _cassettes(terminal):
    return {c.denomination: c for c in Cassette.objects.filter(terminal=terminal)}


def _count_rider(cassettes, notes, sign_):
    """A rider moving the switch's cassette counts by `notes` (sign_ -1: dispensed)."""
    cases = " ".join(f"WHEN {int(cassettes[d].pk)} THEN {sign_ * int(n)}" for d, n in notes.items())
    ids = [cassettes[d].pk for d in notes]
    return (f"UPDATE cards_cassette SET count = count + CASE id {cases} END "  # noqa: S608 integers only
            "WHERE id = ANY(%s) AND EXISTS (SELECT FROM posted) RETURNING 1", [ids])


def _withdraw(terminal, message, log, card, amount):
    if _withdrawn_today(card, log.local_date) + amount > card.atm_daily_limit:
        return _record(log, message, OVER_LIMIT, "This is over the card's daily ATM limit.")
    cassettes = _cassettes(terminal)
    notes = choose_notes(amount // 100, {d: c.count for d, c in cassettes.items()})
    if notes is None:
        return _record(log, message, DO_NOT_HONOUR, "This ATM cannot make that amount with the notes it holds.")
    customer_gl = card.account.ledger_account
    log.amount = amount
    log.response_code = APPROVED
    log.response = _reply(message, APPROVED, auth_code=f"{secrets.randbelow(10 ** 6):06d}",
                          notes={str(d): n for d, n in sorted(notes.items(), reverse=True)})
    riders = [
        _count_rider(cassettes, notes, -1),
        insert_rider(log, entry_id="posted.entry_id"),
        event_rider(action="cards.atm_withdrawal", obj=card, summary=f"ATM withdrawal {terminal.terminal_id} "
                    f"{log.stan}: {rupees(amount)} on card {card.masked}", channel=Channel.ATM,
                    after={"terminal": terminal.terminal_id, "stan": log.stan, "amount": amount, "notes": notes},
                    after_from_posted={"entry": "posted.entry_id"}),
    ]
    try:
        post_entry(actor=None, lines=[Line.debit(customer_gl, amount), Line.credit(terminal.ledger_account_id,
                                                                                   amount)],
                   kind=EntryKind.CASH_WITHDRAWAL, narration=f"ATM WDL {terminal.terminal_id} {log.stan}",
                   idempotency_key=f"atm:{terminal.terminal_id}:{log.stan}:{log.local_date:%Y%m%d}",
                   channel=Channel.ATM, reference=f"{terminal.terminal_id}{log.stan}", riders=riders,
                   names=card.account.ledger_names)
    except InsufficientFunds:
        log.amount = 0
        try:
            check_debit(customer_gl.pk, amount)
        except InsufficientFunds:
            return _record(log, message, NO_FUNDS, "Insufficient funds.")
        # The customer could pay: the ATM's own cash GL could not (the switch's counts
        # and the ledger disagree), which is the bank's fault, not the customer's.
        return _record(log, message, UNAVAILABLE, "The bank could not complete this withdrawal.")
    except (AccountFrozen, AccountClosed, AccountNotPostable):
        log.amount = 0
        return _record(log, message, DO_NOT_HONOUR, "This account cannot be debited.")
    customer_gl.refresh_from_db()
    return {**log.response, "available_balance": rupees(customer_gl.available)}


def _reverse(terminal, message, log):
    """A 0420 under the terminal's lock: gives back what the original withdrawal
    approved and the terminal did not dispense."""
    amount, dispensed = _paise(message.get("amount")), _paise(message.get("dispensed_amount", "0.00"))
    number = message.get("card_number")
    if isinstance(number, str) and is_valid_card_number(number):
        log.masked_card = mask_card_number(number)
    if amount is None or dispensed is None or amount <= 0 or not 0 <= dispensed <= amount or dispensed % 100_00:
        return _record(log, message, DO_NOT_HONOUR, "A reversal needs the amount approved and the amount dispensed "
                       "(0 up to it, in multiples of ₹100).")
    original = SwitchMessage.objects.filter(terminal=terminal, kind=MessageKind.WITHDRAWAL, stan=log.stan,
                                            local_date=log.local_date).select_related("card__account").first()
    if original is None:
        return _record(log, message, APPROVED, "Recorded: the original was not found; it will be reconciled.")
    log.original, log.card = original, original.card
    if original.response_code != APPROVED:
        return _record(log, message, APPROVED, "The original was declined: nothing to reverse.")
    if amount != original.amount or number != original.card.number:
        return _record(log, message, DO_NOT_HONOUR, "The reversal does not match its original withdrawal.")
    undispensed = amount - dispensed
    if not undispensed:
        return _record(log, message, APPROVED, "Fully dispensed: nothing to reverse.")
    # The notes not dispensed, out of the notes the original chose (fewest first).
    original_notes = {int(d): n for d, n in original.response.get("notes", {}).items()}
    returned = choose_notes(undispensed // 100, original_notes) or {}
    log.amount, log.reversed_amount = amount, undispensed
    log.response_code = APPROVED
    log.response = _reply(message, APPROVED, reversed_amount=rupees(undispensed))
    riders = [insert_rider(log, entry_id="posted.entry_id"),
              event_rider(action="cards.atm_reversal", obj=original.card, channel=Channel.ATM,
                          summary=f"ATM reversal {terminal.terminal_id} {log.stan}: {rupees(undispensed)} on card "
                          f"{original.card.masked}", after={"terminal": terminal.terminal_id, "stan": log.stan,
                                                             "reversed": undispensed, "notes": returned},
                          after_from_posted={"entry": "posted.entry_id"})]
    if returned:
        riders.insert(0, _count_rider(_cassettes(terminal), returned, 1))
    whole = dispensed == 0
    try:
        post_entry(actor=None, lines=[Line.debit(terminal.ledger_account_id, undispensed),
                                      Line.credit(original.card.account.ledger_account_id, undispensed)],
                   kind=EntryKind.REVERSAL, narration=f"ATM WDL REV {terminal.terminal_id} {log.stan}",
                   idempotency_key=f"atm-rev:{terminal.terminal_id}:{log.stan}:{log.local_date:%Y%m%d}",
                   channel=Channel.ATM, reference=f"{terminal.terminal_id}{log.stan}", riders=riders,
                   reversal_of=original.entry if whole else None)
    except (AccountFrozen, AccountClosed, AccountNotPostable):
        log.amount, log.reversed_amount = amount, 0
        return _record(log, message, APPROVED, "Recorded: the account cannot be credited now; it will be "
                       "reconciled.")
    return log.response
