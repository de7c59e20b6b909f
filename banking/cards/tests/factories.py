"""Cards, terminals and stocked cassettes for the card and switch tests."""

import hashlib
import hmac
import json
import uuid

from banking.deposits.tests.factories import Bank
from banking.ledger.chart import SHARE_CAPITAL
from banking.ledger.models import LedgerAccount
from banking.testing import give_totp, make_user

from ..actions import issue_card, load_terminal, register_terminal
from ..models import Cassette
from ..numbers import pin_block

PIN = "4826"


class CardBank(Bank):
    """A Bank (branch, teller, supervisor, customer) whose customer has internet
    banking with an authenticator app, a funded savings account and a card."""

    def __init__(self, balance=50_000_00):
        super().__init__()
        self.user = make_user("customer")
        self.totp_secret = give_totp(self.user)
        self.customer.user = self.user
        self.customer.save(update_fields=["user"])
        self.account = self.open_account(deposit=balance)
        self.card = issue_card(actor=self.teller, account=self.account)
        self.number = self.card.number
        self.card.set_pin(PIN)
        self.card.save()

    def terminal(self, terminal_id=None, *, n500=100, n200=100, n100=100):
        terminal = register_terminal(actor=self.supervisor, branch=self.branch,
                                     terminal_id=terminal_id or uuid.uuid4().hex[:8].upper(), location="MG Road")
        stock(terminal, n500=n500, n200=n200, n100=n100)
        return terminal


def stock(terminal, **counts):
    """Load notes into the terminal's cassettes and its cash GL (from capital:
    replenishment from the vault is operations' work, not these tests')."""
    notes = {int(name[1:]): number for name, number in counts.items() if number}
    if notes:
        load_terminal(actor=None, terminal=terminal, notes=notes, source=LedgerAccount.objects.get(code=SHARE_CAPITAL),
                      idempotency_key=uuid.uuid4().hex, narration=f"ATM {terminal.terminal_id} loaded")
    return terminal


def counts(terminal):
    return {c.denomination: c.count for c in Cassette.objects.filter(terminal=terminal)}


def sign(terminal, body):
    return hmac.new(terminal.key.encode(), body, hashlib.sha256).hexdigest()


def withdrawal(terminal, number, amount, *, stan="000001", pin=PIN, local_time="2026-12-07T10:15:00+05:30"):
    return {"mti": "0200", "processing_code": "01", "stan": stan, "terminal_id": terminal.terminal_id,
            "card_number": number, "pin_block": pin_block(pin, number), "amount": amount, "local_time": local_time}


def body_of(message):
    return json.dumps(message).encode()
