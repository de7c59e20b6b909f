"""Debit cards, ATMs and the switch's log.

Design overview
- A Card is a RuPay debit card on one savings or current account. Its number is
  kept only encrypted (EncryptedTextField) with a blind index for the switch's
  lookup, and shown only masked (first 6 and last 4, `masked`). There is no CVV
  column, ever (PCI DSS 3.3.1.2): the CVV is printed once on the card mailer.
- The PIN is kept as a slow salted hash (Django's password hashers), never
  reversibly. Wrong PINs are counted per business date: the third blocks PIN use
  until the bank's date moves on (`pin_blocked`).
- Controls per card: ATM, POS and e-commerce on or off, and a daily ATM limit within
  the product's cap (a database constraint keeps it at or under the cap).
- A card hotlisted as lost or stolen refuses at once; its replacement is a new card
  (`replaces`), issued from it.
- A Terminal is an ATM: its id, branch, location, status and HMAC key (encrypted: it
  must be read back to verify the terminal's signatures), and its own cash GL under
  the branch (1120-<branch>-<terminal>). Each Cassette holds notes of one
  denomination, with the count the switch expects to be in it.
- A SwitchMessage is one message the switch answered: its terminal, STAN and date
  (unique per kind, so a repeated message finds the first answer), the card it named
  (by its masked number and id, never the number), the response and the entry posted.
"""

import datetime

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import models
from django.db.models import Q
from django.utils import timezone

from banking.core.crypto import EncryptedTextField, blind_index

from .numbers import BIN, mask_card_number

VALIDITY_YEARS = 5
PIN_TRIES = 3


class CardProduct(models.TextChoices):
    RUPAY_CLASSIC = "rupay_classic", "RuPay Classic debit card"


# Product parameters: the BIN cards are numbered from, and the cap on the daily ATM
# limit a customer may set, with the limit a new card starts with (paise).
PRODUCT_TERMS = {
    CardProduct.RUPAY_CLASSIC: {"bin": BIN, "atm_cap": 50_000_00, "atm_default": 25_000_00},
}


class CardStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    LOST = "lost", "Hotlisted: lost"
    STOLEN = "stolen", "Hotlisted: stolen"
    REPLACED = "replaced", "Replaced"


HOTLISTED = (CardStatus.LOST, CardStatus.STOLEN)


def expiry_for(issued_on):
    """The last day of the month five years on (cards expire at the end of a month)."""
    year, month = issued_on.year + VALIDITY_YEARS, issued_on.month
    following = datetime.date(year + (month == 12), month % 12 + 1, 1)
    return following - datetime.timedelta(days=1)


class CardQuerySet(models.QuerySet):
    def for_customer(self, customer):
        return self.filter(customer=customer)

    def with_number(self, number):
        return self.filter(number_index=blind_index(number))


class Card(models.Model):
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="cards")
    account = models.ForeignKey("deposits.DepositAccount", on_delete=models.PROTECT, related_name="cards")
    product = models.CharField(max_length=20, choices=CardProduct.choices, default=CardProduct.RUPAY_CLASSIC)
    number = EncryptedTextField()
    number_index = models.CharField(max_length=64, unique=True, editable=False)
    masked = models.CharField(max_length=19, editable=False)
    name_on_card = models.CharField(max_length=26)
    expires_on = models.DateField()
    status = models.CharField(max_length=10, choices=CardStatus.choices, default=CardStatus.ACTIVE)
    pin_hash = models.CharField(max_length=128, blank=True)
    wrong_pins = models.PositiveSmallIntegerField(default=0)
    wrong_pins_on = models.DateField(null=True, blank=True)
    atm_enabled = models.BooleanField(default=True)
    pos_enabled = models.BooleanField(default=True)
    ecommerce_enabled = models.BooleanField(default=False)
    atm_daily_limit = models.BigIntegerField()
    atm_cap = models.BigIntegerField(editable=False)
    replaces = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="replaced_by")
    issued_at = models.DateTimeField(default=timezone.now)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    hotlisted_at = models.DateTimeField(null=True, blank=True)
    # The card mailer (with the CVV, derived, never kept) is printed once: when and by whom.
    mailer_printed_at = models.DateTimeField(null=True, blank=True)
    mailer_printed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                          related_name="+")

    objects = CardQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(atm_daily_limit__gte=0) & Q(atm_daily_limit__lte=models.F("atm_cap")),
                                   name="card_atm_limit_within_cap"),
            models.CheckConstraint(condition=Q(status__in=CardStatus.values), name="card_status_valid"),
            models.UniqueConstraint(fields=["account", "customer"], condition=Q(status="active"),
                                    name="card_one_active_per_holder"),
        ]

    def __str__(self):
        return self.masked

    def set_number(self, number):
        self.number = number
        self.number_index = blind_index(number)
        self.masked = mask_card_number(number)

    @property
    def is_hotlisted(self):
        return self.status in HOTLISTED

    def is_expired(self, on):
        return on > self.expires_on

    def pin_blocked(self, business_date):
        return self.wrong_pins_on == business_date and self.wrong_pins >= PIN_TRIES

    def set_pin(self, pin):
        self.pin_hash = make_password(pin)
        self.wrong_pins, self.wrong_pins_on = 0, None

    set_pin.alters_data = True

    def pin_matches(self, pin):
        return bool(self.pin_hash) and check_password(pin, self.pin_hash)


class TerminalStatus(models.TextChoices):
    IN_SERVICE = "in_service", "In service"
    OUT_OF_SERVICE = "out_of_service", "Out of service"


class Terminal(models.Model):
    terminal_id = models.CharField(max_length=8, unique=True)
    branch = models.ForeignKey("users.Branch", on_delete=models.PROTECT, related_name="terminals")
    location = models.CharField(max_length=120)
    status = models.CharField(max_length=16, choices=TerminalStatus.choices, default=TerminalStatus.IN_SERVICE)
    key = EncryptedTextField()
    ledger_account = models.OneToOneField("ledger.LedgerAccount", on_delete=models.PROTECT, related_name="terminal")
    last_heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["terminal_id"]
        constraints = [models.CheckConstraint(condition=Q(status__in=TerminalStatus.values),
                                              name="terminal_status_valid")]

    def __str__(self):
        return f"{self.terminal_id} ({self.location})"


DENOMINATIONS = (500, 200, 100)  # rupees, largest first


class Cassette(models.Model):
    terminal = models.ForeignKey(Terminal, on_delete=models.PROTECT, related_name="cassettes")
    denomination = models.PositiveIntegerField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["terminal", "-denomination"]
        constraints = [
            models.UniqueConstraint(fields=["terminal", "denomination"], name="cassette_one_per_denomination"),
            models.CheckConstraint(condition=Q(denomination__in=DENOMINATIONS), name="cassette_denomination_valid"),
            models.CheckConstraint(condition=Q(count__gte=0), name="cassette_count_not_negative"),
        ]

    def __str__(self):
        return f"{self.terminal.terminal_id} ₹{self.denomination} × {self.count}"


class MessageKind(models.TextChoices):
    WITHDRAWAL = "withdrawal", "Withdrawal"
    BALANCE = "balance", "Balance enquiry"
    MINI_STATEMENT = "mini_statement", "Mini statement"
    REVERSAL = "reversal", "Reversal"


class SwitchMessage(models.Model):
    terminal = models.ForeignKey(Terminal, on_delete=models.PROTECT, related_name="messages")
    kind = models.CharField(max_length=16, choices=MessageKind.choices)
    stan = models.CharField(max_length=6)
    local_date = models.DateField()
    received_at = models.DateTimeField(default=timezone.now)
    card = models.ForeignKey(Card, on_delete=models.PROTECT, null=True, blank=True, related_name="messages")
    masked_card = models.CharField(max_length=19, blank=True)
    amount = models.BigIntegerField(default=0)
    # What the message asked, hashed: a STAN reused with other details is refused.
    content_hash = models.CharField(max_length=64)
    response_code = models.CharField(max_length=2)
    response = models.JSONField()
    entry = models.OneToOneField("ledger.JournalEntry", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+")
    # A reversal: the withdrawal it reverses (None: its original was not found) and what it gave back.
    original = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversals")
    reversed_amount = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["terminal", "kind", "stan", "local_date"], name="switch_message_once"),
            models.CheckConstraint(condition=Q(amount__gte=0) & Q(reversed_amount__gte=0),
                                   name="switch_message_amounts_not_negative"),
        ]
        indexes = [models.Index(fields=["card", "received_at"], name="switch_message_card_time")]

    def __str__(self):
        return f"{self.terminal_id} {self.kind} {self.stan} {self.response_code}"
