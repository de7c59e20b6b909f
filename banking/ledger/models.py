"""The general ledger.

Design overview
- `LedgerAccount` is one node of the chart of accounts. Header accounts group
  others and never take postings; detail accounts do. A customer's deposit account
  is a detail account (a sub-ledger) under its product's control header.
- Amounts are integers in minor units (paise). An account's `balance` is kept on
  its normal side: a credit-normal account (liabilities, equity, income) grows with
  credits, a debit-normal one (assets, expenses) with debits. So the trial balance
  nets to zero when debit-normal balances equal credit-normal balances.
- `held` is the sum of the holds (liens) not yet released. A hold is an amount, not
  a block: it keeps that much of the balance from being spent until it is released
  or its expiry passes. An expired hold stays in `held` until something releases it
  (a debit that needs the money, or end of day), but it no longer counts: the amount
  on hold now (`on_hold`) is `held` less the expired holds (`expired_held`).
- available = balance − on_hold + overdraft_limit. The formula is written once, as
  the generated column `spendable` (balance − held + overdraft_limit), which the
  database keeps with the row; `LedgerAccount.available` adds back the expired
  holds, and the posting rules read `spendable` (sql/account_rules.sql). Where
  `enforce_balance` is set, a posting that lowers the balance must leave
  available ≥ min_balance. The posting engine compares `spendable` and, where only
  expired holds stand in the way, has them released and posts, so a debit may take
  exactly the available balance shown.
- `JournalEntry` and `Posting` are immutable: a mistake is corrected by a reversing
  entry (`reversal_of`, unique, so an entry is reversed at most once). Triggers
  reject UPDATE and DELETE on both (the audit trail's `cbs_reject_change`), and a
  deferred constraint trigger rejects any entry whose debits differ from its credits
  at commit, whatever code wrote it.
- Each posting stores the account's balance after it and the business date, so a
  balance as of any date and a statement's running balance are one index lookup,
  never a re-summing.
- Only `actions.post_entry` creates entries and postings, through the database
  function `cbs_post_entry` (sql/post_entry.sql), where the posting rules are written
  once: it locks the accounts it touches in id order, applies the rules above and
  writes the balance after each posting (see actions.py).
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.functional import cached_property

from banking.core.money import Money


class BusinessDateQuerySet(models.QuerySet):
    def current(self):
        row = self.filter(pk=1).first()
        return row.date if row else timezone.localdate()


class BusinessDate(models.Model):
    """The bank's value date. Exactly one row; end of day moves it forward."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    date = models.DateField()
    changed_at = models.DateTimeField(auto_now=True)

    objects = BusinessDateQuerySet.as_manager()

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="business_date_single_row")]

    def __str__(self):
        return self.date.isoformat()


class AccountType(models.TextChoices):
    ASSET = "asset", "Asset"
    LIABILITY = "liability", "Liability"
    EQUITY = "equity", "Equity"
    INCOME = "income", "Income"
    EXPENSE = "expense", "Expense"


class Side(models.TextChoices):
    DEBIT = "D", "Debit"
    CREDIT = "C", "Credit"


NORMAL_SIDE = {
    AccountType.ASSET: Side.DEBIT,
    AccountType.EXPENSE: Side.DEBIT,
    AccountType.LIABILITY: Side.CREDIT,
    AccountType.EQUITY: Side.CREDIT,
    AccountType.INCOME: Side.CREDIT,
}


class AccountStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    DEBIT_FROZEN = "debit_frozen", "Debit frozen"
    FROZEN = "frozen", "Frozen"
    CLOSED = "closed", "Closed"


class LedgerAccountQuerySet(models.QuerySet):
    def detail(self):
        return self.filter(is_header=False)

    def headers(self):
        return self.filter(is_header=True)

    def general(self):
        """GL accounts, without customers' sub-ledgers."""
        return self.filter(is_subledger=False)

    def open(self):
        return self.exclude(status=AccountStatus.CLOSED)


class StoredGeneratedField(models.GeneratedField):
    """A column PostgreSQL computes and stores with its row (db_persist).

    PostgreSQL, the bank's only database, has kept stored generated columns since
    version 12. Django's own check of the field asks the server's version (to learn
    whether it also has virtual ones), which would make `manage.py check --deploy`
    open a connection; this one is checked without a database."""

    def __init__(self, **kwargs):
        super().__init__(db_persist=True, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("db_persist", None)
        return name, path, args, kwargs

    def check(self, **kwargs):
        return super().check(**{**kwargs, "databases": []})


class LedgerAccount(models.Model):
    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=160)
    type = models.CharField(max_length=10, choices=AccountType.choices)
    normal_side = models.CharField(max_length=1, choices=Side.choices)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    is_header = models.BooleanField(default=False)
    # A customer's account under a product's control header.
    is_subledger = models.BooleanField(default=False)
    branch_code = models.CharField(max_length=6, blank=True, db_index=True)
    currency = models.CharField(max_length=3, default="INR")
    status = models.CharField(max_length=12, choices=AccountStatus.choices, default=AccountStatus.ACTIVE)

    balance = models.BigIntegerField(default=0)
    held = models.BigIntegerField(default=0)
    overdraft_limit = models.BigIntegerField(default=0)
    # What the account can pay with every unreleased hold standing, expired ones
    # included: the database keeps it with the row, and it is the one place the
    # available-balance formula is written. The posting functions' rules read it
    # (sql/account_rules.sql); `available` adds back the expired holds.
    spendable = StoredGeneratedField(
        expression=F("balance") - F("held") + F("overdraft_limit"), output_field=models.BigIntegerField(),
    )
    min_balance = models.BigIntegerField(default=0)
    enforce_balance = models.BooleanField(
        default=True, help_text="Refuse postings that take the available balance below the minimum."
    )
    version = models.BigIntegerField(default=0)
    opened_at = models.DateTimeField(default=timezone.now)

    objects = LedgerAccountQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(held__gte=0), name="ledger_account_held_nonneg"),
            models.CheckConstraint(condition=Q(overdraft_limit__gte=0), name="ledger_account_overdraft_nonneg"),
            models.CheckConstraint(
                condition=Q(is_header=False) | Q(balance=0, held=0), name="ledger_header_holds_no_money"
            ),
            models.CheckConstraint(
                condition=(Q(type__in=["asset", "expense"], normal_side="D"))
                | (Q(type__in=["liability", "equity", "income"], normal_side="C")),
                name="ledger_account_normal_side_matches_type",
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"

    def save(self, *args, **kwargs):
        if not self.normal_side:
            self.normal_side = NORMAL_SIDE[AccountType(self.type)]
        super().save(*args, **kwargs)

    def refresh_from_db(self, *args, **kwargs):
        super().refresh_from_db(*args, **kwargs)
        self.__dict__.pop("expired_held", None)

    @cached_property
    def expired_held(self):
        """The part of `held` whose holds have expired but are not yet released:
        read once per instance, and only when something is held."""
        if not self.held:
            return 0
        expired = Hold.objects.expired_unreleased().filter(account_id=self.pk).aggregate(total=Sum("amount"))
        return expired["total"] or 0

    @property
    def on_hold(self):
        """What holds keep from being spent now: `held` less the expired holds."""
        return self.held - self.expired_held

    @property
    def available(self):
        """What can be spent now: `spendable`, with the expired holds back in it."""
        return self.spendable + self.expired_held

    @property
    def balance_money(self):
        return Money(self.balance, self.currency)

    @property
    def available_money(self):
        return Money(self.available, self.currency)

    def signed(self, side, amount):
        """How a posting of `amount` on `side` changes this account's balance."""
        return amount if side == self.normal_side else -amount

    def balance_as_of(self, date):
        """The balance at the close of business `date` (one index lookup)."""
        last = (
            Posting.objects.filter(account=self, business_date__lte=date)
            .order_by("-business_date", "-id")
            .values_list("balance_after", flat=True)
            .first()
        )
        return last or 0


class EntryKind(models.TextChoices):
    TRANSFER = "transfer", "Transfer"
    CASH_DEPOSIT = "cash_deposit", "Cash deposit"
    CASH_WITHDRAWAL = "cash_withdrawal", "Cash withdrawal"
    MANUAL = "manual", "Manual journal"
    REVERSAL = "reversal", "Reversal"
    OPENING = "opening", "Opening balance"
    INTEREST = "interest", "Interest"
    FEE = "fee", "Fee or charge"
    PAYMENT = "payment", "Payment"
    CASH_MOVEMENT = "cash_movement", "Vault and till movement"
    OTHER = "other", "Other"


class Channel(models.TextChoices):
    BRANCH = "branch", "Branch"
    INTERNET = "internet", "Internet banking"
    MOBILE = "mobile", "Mobile"
    API = "api", "API"
    ATM = "atm", "ATM"
    OPERATIONS = "operations", "Operations"
    SYSTEM = "system", "System"


class JournalEntryQuerySet(models.QuerySet):
    def on(self, date):
        return self.filter(business_date=date)


class JournalEntry(models.Model):
    business_date = models.DateField(db_index=True)
    booked_at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=20, choices=EntryKind.choices)
    narration = models.CharField(max_length=200)
    channel = models.CharField(max_length=12, choices=Channel.choices, default=Channel.SYSTEM)
    reference = models.CharField(max_length=40, blank=True)
    # Not indexed: nothing looks entries up by who made them, and every index costs the posting path.
    maker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True,
                              db_index=False)
    checker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True, db_index=False
    )
    # Unique through Meta.constraints: a plain unique index, without the second,
    # pattern-matching index Django adds for `unique=True`, which nothing uses.
    idempotency_key = models.CharField(max_length=80)
    # SHA-256 of the entry's content, to tell a retry from a different request.
    content_hash = models.CharField(max_length=64)
    reversal_of = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    total = models.BigIntegerField(help_text="Sum of the debits, which equals the sum of the credits.")
    currency = models.CharField(max_length=3, default="INR")

    objects = JournalEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "journal entries"
        indexes = [models.Index(fields=["reference"], name="journal_entry_reference")]
        constraints = [
            models.UniqueConstraint(fields=["idempotency_key"], name="journal_entry_idempotency_key_unique"),
            models.CheckConstraint(condition=Q(total__gt=0), name="journal_entry_total_positive"),
            models.CheckConstraint(
                condition=Q(checker__isnull=True) | ~Q(checker=models.F("maker")),
                name="journal_entry_checker_not_maker",
            ),
        ]

    def __str__(self):
        return f"{self.number} {self.narration}"

    @property
    def number(self):
        return f"JE{self.pk:010d}" if self.pk else "JE(new)"

    @property
    def is_reversed(self):
        return hasattr(self, "reversed_by")


class Posting(models.Model):
    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="postings")
    # Indexed by posting_account_date_id below, whose first column it is.
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="postings", db_index=False)
    side = models.CharField(max_length=1, choices=Side.choices)
    amount = models.BigIntegerField()
    balance_after = models.BigIntegerField()
    business_date = models.DateField()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["account", "business_date", "id"], name="posting_account_date_id")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="posting_amount_positive"),
            models.CheckConstraint(condition=Q(side__in=["D", "C"]), name="posting_side_valid"),
        ]

    def __str__(self):
        return f"{self.side} {self.amount} {self.account_id}"

    @property
    def debit(self):
        return self.amount if self.side == Side.DEBIT else None

    @property
    def credit(self):
        return self.amount if self.side == Side.CREDIT else None


class HoldQuerySet(models.QuerySet):
    def active(self, now=None):
        now = now or timezone.now()
        return self.filter(released_at__isnull=True).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))

    def expired_unreleased(self, now=None):
        now = now or timezone.now()
        return self.filter(released_at__isnull=True, expires_at__lte=now)


class Hold(models.Model):
    """A lien: an amount that stays in the account but cannot be spent while the hold
    stands, that is until it is released or its expiry passes. It lowers the
    available balance by `amount` (DESIGN §5: holds and liens reduce the available
    balance); it blocks no debit as such. It may exceed what is available (a court
    order's may): the account still takes credits, and is debited only down to it."""

    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="holds")
    amount = models.BigIntegerField()
    reason = models.CharField(max_length=200)
    reference = models.CharField(max_length=40, blank=True)
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    placed_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    release_reason = models.CharField(max_length=200, blank=True)

    objects = HoldQuerySet.as_manager()

    class Meta:
        ordering = ["-placed_at"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="hold_amount_positive")]

    def __str__(self):
        return f"Hold {self.amount} on {self.account_id}: {self.reason}"

    @property
    def is_active(self):
        return self.released_at is None and (self.expires_at is None or self.expires_at > timezone.now())


class HolidayQuerySet(models.QuerySet):
    def between(self, start, end):
        return self.filter(date__gte=start, date__lte=end)


class Holiday(models.Model):
    """A bank holiday that operations entered, through maker-checker. Sundays and the
    second and fourth Saturdays are holidays by rule and have no row (holidays.py
    holds the whole rule)."""

    date = models.DateField(unique=True)
    name = models.CharField(max_length=80)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(default=timezone.now)

    objects = HolidayQuerySet.as_manager()

    class Meta:
        ordering = ["date"]
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="holiday_has_name"),
            models.CheckConstraint(condition=~Q(approved_by=models.F("added_by")), name="holiday_checker_not_maker"),
        ]

    def __str__(self):
        return f"{self.name} ({self.date:%d %b %Y})"
