"""An ATM's cash: its registration, its replenishments from the branch's vault, and the
reconciliation of its electronic journal (the rules are in cash.py and journal.py).

- A TerminalRegistration is a terminal operations asked for and a second person
  approved: it keeps who asked (the only person who may see the terminal's key) and
  when the key was shown, once.
- A Replenishment is one visit to an ATM: the notes found left in its cassettes (the
  physical count), what the switch expected them to be at that moment, and the notes
  loaded from the branch's vault, by denomination ({"500": count, ...}). It waits
  for a supervisor's approval; the difference between the count and the switch's
  expectation (in paise: below zero a shortage) is flagged and posted to ATM
  shortage or excess suspense when approved.
- A JournalReconciliation is one electronic journal (EJ) uploaded for a terminal,
  kept as uploaded, matched against the switch's log and the ledger; a
  JournalException is one transaction on which the three do not agree, resolved
  through maker-checker.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class TerminalRegistration(models.Model):
    terminal = models.OneToOneField("cards.Terminal", on_delete=models.PROTECT, related_name="registration")
    approval = models.OneToOneField("approvals.ApprovalRequest", on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    registered_at = models.DateTimeField(default=timezone.now)
    key_shown_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-registered_at", "-id"]

    def __str__(self):
        return f"Registration of {self.terminal_id}"


class ReplenishmentStatus(models.TextChoices):
    PENDING = "pending", "Awaiting approval"
    DONE = "done", "Replenished"
    REJECTED = "rejected", "Not approved"


class Replenishment(models.Model):
    terminal = models.ForeignKey("cards.Terminal", on_delete=models.PROTECT, related_name="replenishments")
    approval = models.OneToOneField("approvals.ApprovalRequest", on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    # {"500": count, "200": count, "100": count}
    left = models.JSONField()
    expected = models.JSONField()
    loaded = models.JSONField()
    loaded_amount = models.BigIntegerField()
    # Paise: the count's value less the switch's; below zero a shortage.
    difference = models.BigIntegerField(default=0)
    status = models.CharField(max_length=10, choices=ReplenishmentStatus.choices, default=ReplenishmentStatus.PENDING)
    entry = models.ForeignKey("ledger.JournalEntry", on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+")
    difference_entry = models.ForeignKey("ledger.JournalEntry", on_delete=models.PROTECT, null=True, blank=True,
                                         related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(loaded_amount__gt=0), name="replenishment_loads_cash"),
            models.UniqueConstraint(fields=["terminal"], condition=Q(status="pending"),
                                    name="replenishment_one_pending_per_terminal"),
        ]

    def __str__(self):
        return f"Replenishment of {self.terminal_id} #{self.pk}"

    @property
    def is_flagged(self):
        return self.difference != 0

    @property
    def left_value(self):
        return sum(int(d) * n for d, n in self.left.items()) * 100

    @property
    def expected_value(self):
        return sum(int(d) * n for d, n in self.expected.items()) * 100

    def notes_text(self, name):
        notes = getattr(self, name)
        return ", ".join(f"{notes.get(d, 0)} × ₹{d}" for d in ("500", "200", "100"))

    @property
    def loaded_text(self):
        return self.notes_text("loaded")

    @property
    def left_text(self):
        return self.notes_text("left")

    @property
    def expected_text(self):
        return self.notes_text("expected")

    @property
    def difference_label(self):
        from banking.core.money import Money

        if not self.difference:
            return "Balanced"
        return f"{'Short' if self.difference < 0 else 'Excess'} by {Money(abs(self.difference))}"


class JournalReconciliation(models.Model):
    terminal = models.ForeignKey("cards.Terminal", on_delete=models.PROTECT, related_name="journal_reconciliations")
    name = models.CharField(max_length=80)
    content = models.TextField()
    content_hash = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)
    first_date = models.DateField()
    last_date = models.DateField()
    lines = models.PositiveIntegerField(default=0)
    matched = models.PositiveIntegerField(default=0)
    exceptions = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["terminal", "content_hash"], name="journal_reconciled_once")]

    def __str__(self):
        return f"Journal {self.name} of {self.terminal_id}"


class JournalExceptionKind(models.TextChoices):
    APPROVED_NOT_DISPENSED = "not_dispensed", "Approved but not dispensed"
    DISPENSED_NOT_APPROVED = "not_approved", "Dispensed but not approved"
    COUNT_MISMATCH = "count_mismatch", "Count mismatch"
    MISSING_SWITCH = "missing_switch", "Missing at the switch"
    MISSING_JOURNAL = "missing_journal", "Missing in the journal"
    MISSING_LEDGER = "missing_ledger", "Missing in the ledger"


class JournalExceptionStatus(models.TextChoices):
    OPEN = "open", "Open"
    PENDING = "pending", "Resolution awaiting approval"
    RESOLVED = "resolved", "Resolved"


class JournalResolution(models.TextChoices):
    REVERSE = "reverse", "Reverse to the customer"
    SUSPENSE = "suspense", "Write to ATM shortage suspense"
    CLOSE = "close", "Close: nothing to post"


class JournalException(models.Model):
    reconciliation = models.ForeignKey(JournalReconciliation, on_delete=models.PROTECT, related_name="items")
    kind = models.CharField(max_length=16, choices=JournalExceptionKind.choices)
    stan = models.CharField(max_length=6)
    local_date = models.DateField()
    line_number = models.PositiveIntegerField(null=True, blank=True)
    message = models.ForeignKey("cards.SwitchMessage", on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+")
    # Paise: what the journal says went out, what the switch approved net of its
    # reversals, what the ledger moved out of the ATM's cash GL (None: no such side).
    journal_amount = models.BigIntegerField(null=True, blank=True)
    switch_amount = models.BigIntegerField(null=True, blank=True)
    ledger_amount = models.BigIntegerField(null=True, blank=True)
    journal_notes = models.JSONField(default=dict, blank=True)
    switch_notes = models.JSONField(default=dict, blank=True)
    journal_result = models.CharField(max_length=16, blank=True)
    status = models.CharField(max_length=10, choices=JournalExceptionStatus.choices,
                              default=JournalExceptionStatus.OPEN)
    resolution = models.CharField(max_length=10, choices=JournalResolution.choices, blank=True)
    approval = models.ForeignKey("approvals.ApprovalRequest", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+")
    entry = models.ForeignKey("ledger.JournalEntry", on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+")
    reversal = models.ForeignKey("cards.SwitchMessage", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["status", "id"]
        constraints = [models.CheckConstraint(condition=Q(kind__in=JournalExceptionKind.values),
                                              name="journal_exception_kind_valid")]

    def __str__(self):
        return f"{self.get_kind_display()}: STAN {self.stan} of {self.local_date:%d %b %Y}"

    @property
    def journal_result_label(self):
        return self.journal_result.replace("_", " ").lower()
