"""Debit cards, ATMs and the switch's log.

Design overview
- A Card is a RuPay debit card on one savings or current account. Its number is
  kept only encrypted (EncryptedTextField) with a blind index for the switch's
  lookup, and shown only masked (first 6 and last 4, `masked`). There is no CVV
  column, ever (PCI DSS 3.3.1.2): the CVV is printed once on the card mailer.
- The PIN is kept as a salted, keyed, slow hash (`pins`), never reversibly. Wrong
  PINs are counted per business date: the third blocks PIN use until the bank's date
  moves on (`pin_blocked`).
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
from django.db import models
from django.db.models import Q
from django.utils import timezone

from banking.core.crypto import EncryptedTextField, blind_index

from . import pins
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
        self.pin_hash = pins.hash_pin(pin)
        self.wrong_pins, self.wrong_pins_on = 0, None

    set_pin.alters_data = True

    def pin_matches(self, pin):
        return pins.pin_matches(pin, self.pin_hash)


class TerminalStatus(models.TextChoices):
    IN_SERVICE = "in_service", "In service"
    OUT_OF_SERVICE = "out_of_service", "Out of service"


# A terminal that has sent no 0800 heartbeat for this long is down.
HEARTBEAT_GRACE = datetime.timedelta(minutes=5)


class FleetStatus(models.TextChoices):
    """A terminal's status as the fleet monitor computes it (Terminal.fleet_status)."""

    IN_SERVICE = "in_service", "In service"
    CASH_LOW = "cash_low", "Cash low"
    CASSETTE_EMPTY = "cassette_empty", "Cassette empty"
    OUT_OF_SERVICE = "out_of_service", "Out of service"
    DOWN = "down", "Down"


class TerminalQuerySet(models.QuerySet):
    def for_monitor(self):
        """With the branch and cassettes the status rule reads, in one query each."""
        return self.select_related("branch", "ledger_account").prefetch_related("cassettes")


class Terminal(models.Model):
    terminal_id = models.CharField(max_length=8, unique=True)
    branch = models.ForeignKey("users.Branch", on_delete=models.PROTECT, related_name="terminals")
    location = models.CharField(max_length=120)
    status = models.CharField(max_length=16, choices=TerminalStatus.choices, default=TerminalStatus.IN_SERVICE)
    key = EncryptedTextField()
    ledger_account = models.OneToOneField("ledger.LedgerAccount", on_delete=models.PROTECT, related_name="terminal")
    last_heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TerminalQuerySet.as_manager()

    class Meta:
        ordering = ["terminal_id"]
        constraints = [models.CheckConstraint(condition=Q(status__in=TerminalStatus.values),
                                              name="terminal_status_valid")]

    def __str__(self):
        return f"{self.terminal_id} ({self.location})"

    def is_down(self, now=None):
        now = now or timezone.now()
        return self.last_heartbeat_at is None or now - self.last_heartbeat_at >= HEARTBEAT_GRACE

    def fleet_status(self, now=None):
        """The one rule for a terminal's status, worst first: out of service (taken
        out by operations), down (no 0800 heartbeat for 5 minutes: nothing it says
        can be trusted), a cassette empty, a cassette's cash low (below its own
        threshold), else in service. Reads the cassettes (prefetch them with
        `Terminal.objects.for_monitor()` for a list)."""
        if self.status == TerminalStatus.OUT_OF_SERVICE:
            return FleetStatus.OUT_OF_SERVICE
        if self.is_down(now):
            return FleetStatus.DOWN
        cassettes = list(self.cassettes.all())
        if any(c.is_empty for c in cassettes):
            return FleetStatus.CASSETTE_EMPTY
        if any(c.is_low for c in cassettes):
            return FleetStatus.CASH_LOW
        return FleetStatus.IN_SERVICE


DENOMINATIONS = (500, 200, 100)  # rupees, largest first


class Cassette(models.Model):
    terminal = models.ForeignKey(Terminal, on_delete=models.PROTECT, related_name="cassettes")
    denomination = models.PositiveIntegerField()
    count = models.PositiveIntegerField(default=0)
    # Cash is low below this many notes (a full cassette holds about 2,000).
    low_at = models.PositiveIntegerField(default=100)

    class Meta:
        ordering = ["terminal", "-denomination"]
        constraints = [
            models.UniqueConstraint(fields=["terminal", "denomination"], name="cassette_one_per_denomination"),
            models.CheckConstraint(condition=Q(denomination__in=DENOMINATIONS), name="cassette_denomination_valid"),
            models.CheckConstraint(condition=Q(count__gte=0), name="cassette_count_not_negative"),
        ]

    def __str__(self):
        return f"{self.terminal.terminal_id} ₹{self.denomination} × {self.count}"

    @property
    def is_empty(self):
        return self.count == 0

    @property
    def is_low(self):
        return self.count < self.low_at

    @property
    def value(self):
        """The notes' value in paise."""
        return self.denomination * self.count * 100


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


class AlertKind(models.TextChoices):
    LOW_CASH = "low_cash", "Cash low"
    DOWN = "down", "Terminal down"
    REPEATED_91 = "repeated_91", "Repeated 91 (issuer unavailable)"
    DISPENSE_MISMATCH = "dispense_mismatch", "Dispense mismatch"


class TerminalAlert(models.Model):
    """Something about a terminal operations must see (banking.cards.monitor raises
    them). A condition (low cash, down, repeated 91s) is one alert while it lasts:
    `cleared_at` is set when it ends, and only then can the next one be raised. An
    event (a dispense mismatch) is one alert per reversal, by its `reference`.
    Acknowledging records who saw it; it does not clear the condition."""

    terminal = models.ForeignKey(Terminal, on_delete=models.PROTECT, related_name="alerts")
    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    reference = models.CharField(max_length=40, blank=True)
    summary = models.CharField(max_length=200)
    raised_at = models.DateTimeField(default=timezone.now)
    cleared_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                        related_name="+")
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_at", "-id"]
        permissions = [("operate_atms", "Can acknowledge ATM alerts and drive the ATM simulator")]
        constraints = [
            models.UniqueConstraint(fields=["terminal", "kind", "reference"], condition=Q(cleared_at__isnull=True),
                                    name="terminal_alert_once"),
            models.CheckConstraint(condition=Q(kind__in=AlertKind.values), name="terminal_alert_kind_valid"),
            models.CheckConstraint(condition=Q(acknowledged_by__isnull=True, acknowledged_at__isnull=True)
                                   | Q(acknowledged_by__isnull=False, acknowledged_at__isnull=False),
                                   name="terminal_alert_acknowledged_by_whom"),
        ]
        indexes = [models.Index(fields=["acknowledged_at", "raised_at"], name="terminal_alert_open")]

    def __str__(self):
        return f"{self.terminal.terminal_id} {self.kind}"


from .cash_models import JournalException, JournalReconciliation, Replenishment, TerminalRegistration  # noqa: E402, F401
from .complaint_models import AtmCharge, DispenseCompensation, DispenseComplaint  # noqa: E402, F401
