"""Branch cash: the vault, the tellers' tills, and every movement of notes between them.

Design overview
- A `CashBox` is a branch's vault or one teller's till. Each has its own cash GL
  (the vault 1101-<branch>, a till 1110-<branch>-<employee id>) and a count of the
  notes and coins it holds (`DenominationFields`). The count is the physical truth
  and the GL balance is the books: every action changes both in one transaction,
  so the count's value always equals the GL balance. The database refuses a
  negative count, so a till can never pay out notes it does not hold.
- Every change to a box's count is a `CashMovement` (signed counts: in is positive,
  out negative) whose amount the database checks against its counts, so a
  denomination breakdown always adds up. Movements are what the branch cash
  position report sums.
- A till works one business date at a time (`TillDay`): opened by the teller with a
  count that must match what the vault issued, closed with a count compared against
  the expected position (a shortage or excess is posted to teller suspense and
  flagged), then signed off by the head teller, which returns its cash to the vault.
- `BranchDay` records that a branch closed its cash for a date: only when every
  till is signed off and empty.
- `CounterTransaction` is one piece of a teller's work for a customer (a cash
  deposit, a cash withdrawal, a transfer at the counter), with its denominations,
  the journal entry it posted, and, above the teller's limit, the approval it waits
  for. Cheque books and their leaves (`ChequeBook`, `Cheque`) are here because the
  counter is where they are issued, stopped and paid.

Only actions.py writes these rows; it locks the cash boxes it touches, in id order,
before the posting action locks the ledger accounts.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from banking.core.crypto import EncryptedTextField
from banking.core.identifiers import mask_pan
from banking.core.money import Money

from .denominations import DenominationFields, Denominations, nonnegative_counts, value_expression

TILL_HOLDING_LIMIT = 5_00_000_00  # ₹5,00,000: above it the teller is prompted to return cash to the vault


class BoxKind(models.TextChoices):
    VAULT = "vault", "Vault"
    TILL = "till", "Till"


class CashBoxQuerySet(models.QuerySet):
    def vaults(self):
        return self.filter(kind=BoxKind.VAULT)

    def tills(self):
        return self.filter(kind=BoxKind.TILL)

    def for_branch(self, branch):
        return self.filter(branch=branch)

    def with_people(self):
        return self.select_related("teller", "branch", "ledger_account")


class CashBox(DenominationFields):
    kind = models.CharField(max_length=5, choices=BoxKind.choices)
    branch = models.ForeignKey("users.Branch", on_delete=models.PROTECT, related_name="cash_boxes")
    teller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                               related_name="tills")
    ledger_account = models.OneToOneField("ledger.LedgerAccount", on_delete=models.PROTECT, related_name="cash_box")
    # In paise; 0 means no limit (the vault's limit is its insurance cover, kept elsewhere).
    holding_limit = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CashBoxQuerySet.as_manager()

    class Meta:
        ordering = ["branch", "kind", "id"]
        verbose_name_plural = "cash boxes"
        constraints = [
            nonnegative_counts("cash_box_counts_nonneg"),
            models.CheckConstraint(condition=Q(holding_limit__gte=0), name="cash_box_holding_limit_nonneg"),
            models.CheckConstraint(
                condition=Q(kind="vault", teller__isnull=True) | Q(kind="till", teller__isnull=False),
                name="cash_box_till_has_teller",
            ),
            models.UniqueConstraint(fields=["branch"], condition=Q(kind="vault"), name="one_vault_per_branch"),
            models.UniqueConstraint(fields=["branch", "teller"], condition=Q(kind="till"),
                                    name="one_till_per_teller_per_branch"),
        ]

    def __str__(self):
        return self.name

    @property
    def name(self):
        if self.kind == BoxKind.VAULT:
            return f"Vault, {self.branch.name}"
        return f"Till of {self.teller.display_name}"

    @property
    def is_vault(self):
        return self.kind == BoxKind.VAULT

    @property
    def over_holding_limit(self):
        """Paise above the holding limit (0 when within it or unlimited)."""
        if not self.holding_limit:
            return 0
        return max(self.cash_value - self.holding_limit, 0)


class TillDayStatus(models.TextChoices):
    OPEN = "open", "Open"
    COUNTED = "counted", "Closed, waiting for sign-off"
    SIGNED_OFF = "signed_off", "Closed and signed off"


class TillDayQuerySet(models.QuerySet):
    def on(self, date):
        return self.filter(business_date=date)

    def for_branch(self, branch):
        return self.filter(till__branch=branch)

    def with_difference(self):
        return self.exclude(difference=0).filter(difference__isnull=False)


class TillDay(models.Model):
    """One till on one business date, from opening count to sign-off."""

    till = models.ForeignKey(CashBox, on_delete=models.PROTECT, related_name="days")
    business_date = models.DateField()
    status = models.CharField(max_length=10, choices=TillDayStatus.choices, default=TillDayStatus.OPEN)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField()
    opening = models.JSONField(help_text="Counts at opening, by denomination.")
    # At close: what the books expected, what was counted, and counted − expected in paise.
    expected = models.JSONField(null=True, blank=True)
    counted = models.JSONField(null=True, blank=True)
    difference = models.BigIntegerField(null=True, blank=True)
    difference_entry = models.ForeignKey("ledger.JournalEntry", on_delete=models.PROTECT, null=True, blank=True,
                                         related_name="+")
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)
    # The close form's idempotency token: pressing Close twice closes once.
    close_key = models.CharField(max_length=80, blank=True)
    close_request = models.ForeignKey("approvals.ApprovalRequest", on_delete=models.PROTECT, null=True, blank=True,
                                      related_name="+")
    signed_off_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                      related_name="+")
    signed_off_at = models.DateTimeField(null=True, blank=True)
    return_entry = models.ForeignKey("ledger.JournalEntry", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")

    objects = TillDayQuerySet.as_manager()

    class Meta:
        ordering = ["-business_date", "till"]
        constraints = [
            models.UniqueConstraint(fields=["till", "business_date"], name="one_till_day_per_date"),
            models.CheckConstraint(condition=Q(status__in=TillDayStatus.values), name="till_day_status_valid"),
            models.CheckConstraint(
                condition=Q(status="open") | Q(closed_at__isnull=False, difference__isnull=False,
                                               counted__isnull=False),
                name="till_day_closed_has_count",
            ),
            models.CheckConstraint(
                condition=~Q(status="signed_off") | Q(signed_off_by__isnull=False, signed_off_at__isnull=False),
                name="till_day_signed_off_has_checker",
            ),
            models.CheckConstraint(
                condition=Q(signed_off_by__isnull=True) | ~Q(signed_off_by=models.F("closed_by")),
                name="till_day_signoff_not_by_teller",
            ),
        ]

    def __str__(self):
        return f"{self.till} on {self.business_date:%d %b %Y}"

    @property
    def is_open(self):
        return self.status == TillDayStatus.OPEN

    @property
    def opening_counts(self):
        return Denominations.of(self.opening)

    @property
    def counted_counts(self):
        return Denominations.of(self.counted) if self.counted is not None else None

    @property
    def expected_counts(self):
        return Denominations.of(self.expected) if self.expected is not None else None

    @property
    def is_short(self):
        return bool(self.difference and self.difference < 0)

    @property
    def is_flagged(self):
        return bool(self.difference)

    @property
    def difference_label(self):
        if not self.difference:
            return "Balanced"
        return f"{'Short' if self.difference < 0 else 'Excess'} by {Money(abs(self.difference))}"


class MovementKind(models.TextChoices):
    FUNDING = "funding", "Currency chest remittance"
    ISSUE = "issue", "Vault to till"
    RETURN = "return", "Till to vault"
    DEPOSIT = "deposit", "Cash deposit"
    WITHDRAWAL = "withdrawal", "Cash withdrawal"
    DIFFERENCE = "difference", "Count difference at close"
    REVERSAL = "reversal", "Reversal"
    ATM = "atm", "Vault to ATM"


class CashMovementQuerySet(models.QuerySet):
    def on(self, date):
        return self.filter(business_date=date)


class CashMovement(DenominationFields):
    """Notes and coins into (positive counts) or out of (negative) one cash box."""

    # Found through cash_movement_box_date, whose first column it is.
    box = models.ForeignKey(CashBox, on_delete=models.PROTECT, related_name="movements", db_index=False)
    business_date = models.DateField()
    kind = models.CharField(max_length=10, choices=MovementKind.choices)
    # Signed, in paise: the value of the counts.
    amount = models.BigIntegerField()
    entry = models.ForeignKey("ledger.JournalEntry", on_delete=models.PROTECT, null=True, blank=True,
                              related_name="cash_movements")
    # Not indexed: nothing looks movements up by who made them.
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", db_index=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CashMovementQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["box", "business_date"], name="cash_movement_box_date")]
        constraints = [
            models.CheckConstraint(condition=Q(amount=value_expression()), name="cash_movement_adds_up"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {Money(self.amount)} at {self.box_id}"


class BranchDay(models.Model):
    """A branch's cash closed for a business date: every till signed off and empty."""

    branch = models.ForeignKey("users.Branch", on_delete=models.PROTECT, related_name="cash_days")
    business_date = models.DateField()
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    closed_at = models.DateTimeField()
    vault_counts = models.JSONField()
    vault_balance = models.BigIntegerField()

    class Meta:
        ordering = ["-business_date", "branch"]
        constraints = [models.UniqueConstraint(fields=["branch", "business_date"], name="one_branch_day_per_date")]

    def __str__(self):
        return f"{self.branch.name} closed {self.business_date:%d %b %Y}"



# -- the counter -----------------------------------------------------------------------


class TransactionKind(models.TextChoices):
    CASH_DEPOSIT = "cash_deposit", "Cash deposit"
    CASH_WITHDRAWAL = "cash_withdrawal", "Cash withdrawal"
    TRANSFER = "transfer", "Transfer"


CASH_KINDS = (TransactionKind.CASH_DEPOSIT, TransactionKind.CASH_WITHDRAWAL)


class TransactionStatus(models.TextChoices):
    PENDING = "pending", "Waiting for approval"
    POSTED = "posted", "Posted"
    REVERSED = "reversed", "Reversed"


class Instrument(models.TextChoices):
    SLIP = "slip", "Slip"
    CHEQUE = "cheque", "Cheque"


class CounterTransactionQuerySet(models.QuerySet):
    def for_branch(self, branch):
        return self.filter(branch=branch)

    def on(self, date):
        return self.filter(business_date=date)

    def newest_first(self):
        return self.order_by("-id")

    def for_feed(self):
        return self.select_related("account__customer", "to_account", "teller", "approval").defer("pan")


class CounterTransaction(DenominationFields):
    """One piece of a teller's work for a customer. Cash carries its notes and coins
    (received for a deposit, paid out for a withdrawal); a transfer carries none."""

    kind = models.CharField(max_length=16, choices=TransactionKind.choices)
    status = models.CharField(max_length=10, choices=TransactionStatus.choices, default=TransactionStatus.PENDING)
    # Indexing: every deposit and withdrawal pays for each index, so the branch is
    # found through counter_txn_feed (its first column), the key through the unique
    # constraint, and the links that are mostly empty through partial indexes (Meta).
    branch = models.ForeignKey("users.Branch", on_delete=models.PROTECT, related_name="counter_transactions",
                               db_index=False)
    teller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="counter_transactions")
    till = models.ForeignKey(CashBox, on_delete=models.PROTECT, null=True, blank=True, related_name="transactions")
    business_date = models.DateField()
    # Credited by a deposit, debited by a withdrawal or a transfer.
    account = models.ForeignKey("deposits.DepositAccount", on_delete=models.PROTECT,
                                related_name="counter_transactions")
    to_account = models.ForeignKey("deposits.DepositAccount", on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", help_text="A transfer's beneficiary account.", db_index=False)
    amount = models.BigIntegerField(help_text="In paise.")
    instrument = models.CharField(max_length=6, choices=Instrument.choices, default=Instrument.SLIP)
    cheque = models.ForeignKey("Cheque", on_delete=models.PROTECT, null=True, blank=True, related_name="payments",
                               db_index=False)
    # Who brought a deposit when not the holder; PAN for cash of ₹50,000 and above.
    depositor_name = models.CharField(max_length=120, blank=True)
    depositor_mobile = models.CharField(max_length=15, blank=True)
    pan = EncryptedTextField(blank=True)
    narration = models.CharField(max_length=120, blank=True)
    idempotency_key = models.CharField(max_length=80)
    entry = models.ForeignKey("ledger.JournalEntry", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    reversal_entry = models.ForeignKey("ledger.JournalEntry", on_delete=models.PROTECT, null=True, blank=True,
                                       related_name="+", db_index=False)
    approval = models.ForeignKey("approvals.ApprovalRequest", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+", help_text="Above the teller's limit: the approval it waits for.",
                                 db_index=False)
    reversal_request = models.ForeignKey("approvals.ApprovalRequest", on_delete=models.PROTECT, null=True,
                                         blank=True, related_name="+", db_index=False)
    created_at = models.DateTimeField(auto_now_add=True)
    posted_at = models.DateTimeField(null=True, blank=True)

    objects = CounterTransactionQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["branch", "business_date", "-id"], name="counter_txn_feed"),
            *(models.Index(fields=[name], condition=Q(**{f"{name}__isnull": False}), name=f"counter_txn_{name}")
              for name in ("to_account", "cheque", "reversal_entry", "approval", "reversal_request")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["idempotency_key"], name="counter_txn_idempotency_key_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="counter_txn_amount_positive"),
            nonnegative_counts("counter_txn_counts_nonneg"),
            models.CheckConstraint(
                condition=Q(kind="transfer", to_account__isnull=False, n500=0, n200=0, n100=0, n50=0, n20=0, n10=0,
                            coins=0)
                | Q(kind__in=["cash_deposit", "cash_withdrawal"], to_account__isnull=True,
                    amount=value_expression(), till__isnull=False),
                name="counter_txn_cash_adds_up",
            ),
            models.CheckConstraint(condition=Q(status="pending") | Q(entry__isnull=False, posted_at__isnull=False),
                                   name="counter_txn_posted_has_entry"),
            models.CheckConstraint(condition=~Q(status="reversed") | Q(reversal_entry__isnull=False),
                                   name="counter_txn_reversed_has_entry"),
            models.CheckConstraint(condition=Q(instrument="slip", cheque__isnull=True)
                                   | Q(instrument="cheque", cheque__isnull=False),
                                   name="counter_txn_cheque_named"),
        ]

    def __str__(self):
        return f"{self.number} {self.get_kind_display()} {Money(self.amount)}"

    @property
    def number(self):
        return f"C{self.pk:09d}" if self.pk else "C(new)"

    @property
    def is_cash(self):
        return self.kind in CASH_KINDS

    @property
    def is_deposit(self):
        return self.kind == TransactionKind.CASH_DEPOSIT

    @property
    def is_withdrawal(self):
        return self.kind == TransactionKind.CASH_WITHDRAWAL

    @property
    def is_posted(self):
        return self.status in (TransactionStatus.POSTED, TransactionStatus.REVERSED)

    @property
    def shown_status(self):
        """What the teller reads: a transaction waiting for approval takes its
        approval's fate (rejected, failed, expired) as soon as it is decided."""
        if self.status != TransactionStatus.PENDING or self.approval is None:
            return self.get_status_display()
        approval_status = self.approval.shown_status
        return {"pending": "Waiting for approval", "rejected": "Rejected", "failed": "Could not be posted",
                "expired": "Expired", "approved": "Posted"}[approval_status]

    @property
    def is_waiting(self):
        return self.status == TransactionStatus.PENDING and self.approval is not None and self.approval.is_pending

    @property
    def is_refused(self):
        """Waiting no more: its approval was rejected, failed or lapsed."""
        return self.status == TransactionStatus.PENDING and not self.is_waiting

    @property
    def masked_pan(self):
        return mask_pan(self.pan) if self.pan else ""

    @property
    def paid_by(self):
        return self.depositor_name or self.account.customer.display_name


class ChequeBook(models.Model):
    """A book of cheque leaves issued to a savings or current account; its leaves
    are numbered `first_number` onwards."""

    account = models.ForeignKey("deposits.DepositAccount", on_delete=models.PROTECT, related_name="cheque_books")
    first_number = models.PositiveIntegerField()
    leaves = models.PositiveSmallIntegerField()
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(auto_now_add=True)
    business_date = models.DateField()

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(leaves__gte=1, leaves__lte=100), name="cheque_book_leaves_range"),
            models.CheckConstraint(condition=Q(first_number__gte=1)
                                   & Q(first_number__lte=1_000_000 - models.F("leaves")),
                                   name="cheque_book_numbers_six_digits"),
        ]

    def __str__(self):
        return f"Cheques {self.first_leaf}–{self.last_leaf} for {self.account_id}"

    @property
    def last_number(self):
        return self.first_number + self.leaves - 1

    @property
    def first_leaf(self):
        return f"{self.first_number:06d}"

    @property
    def last_leaf(self):
        return f"{self.last_number:06d}"


class ChequeStatus(models.TextChoices):
    UNUSED = "unused", "Unused"
    PAID = "paid", "Paid"
    STOPPED = "stopped", "Stopped"
    CANCELLED = "cancelled", "Cancelled"


class Cheque(models.Model):
    """One leaf. Numbers are unique within the branch that issues them, so a leaf
    presented against the wrong account is recognised as another account's."""

    book = models.ForeignKey(ChequeBook, on_delete=models.PROTECT, related_name="cheques")
    account = models.ForeignKey("deposits.DepositAccount", on_delete=models.PROTECT, related_name="cheques")
    branch = models.ForeignKey("users.Branch", on_delete=models.PROTECT, related_name="+")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=ChequeStatus.choices, default=ChequeStatus.UNUSED)
    reason = models.CharField(max_length=200, blank=True, help_text="Why it was stopped or cancelled.")
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["branch", "number"], name="cheque_number_unique_in_branch"),
            models.CheckConstraint(condition=Q(status__in=ChequeStatus.values), name="cheque_status_valid"),
            models.CheckConstraint(condition=~Q(status__in=["stopped", "cancelled"]) | ~Q(reason=""),
                                   name="cheque_stop_has_reason"),
        ]

    def __str__(self):
        return f"Cheque {self.leaf}"

    @property
    def leaf(self):
        return f"{self.number:06d}"
