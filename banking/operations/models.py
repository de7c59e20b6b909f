"""End of day: the runs that close the bank's business dates, and the trial balance
each one keeps.

Design overview
- An `EodRun` closes one business date. The database allows one run per date (a
  unique date) and one unfinished run at a time (a unique index over the runs not
  done), so two people pressing Start at once cannot both begin a day.
  State: waiting (created, no step has started) → running → done, or failed (a step
  stopped with an error); a failed run is started again, never replaced.
- An `EodStep` is one registered step (banking.core.eod) in that run, in the day's
  order. Steps that have nothing to do on the date are recorded as skipped. A step
  is done when every one of its partitions is done.
- An `EodPartition` is one job on the queue: an id range of a step over accounts, or
  the whole of a step that runs once (first and last empty). It records its attempts,
  the worker that ran it last, the items it processed and its last error.
- `EodLogLine` is what the end-of-day screen shows, oldest first.
- `TrialBalanceSnapshot` is the trial balance at the close of a business date, kept
  by step 100, one line per GL account (customers' accounts rolled up into their
  product's control account, as the trial balance shows them).

Only actions.py writes these rows. Its locks, always in this order: the run, then the
step, then a partition.
"""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class RunState(models.TextChoices):
    WAITING = "waiting", "Waiting for a worker"
    RUNNING = "running", "Running"
    FAILED = "failed", "Stopped with an error"
    DONE = "done", "Done"


class StepState(models.TextChoices):
    WAITING = "waiting", "Waiting"
    RUNNING = "running", "Running"
    FAILED = "failed", "Stopped with an error"
    DONE = "done", "Done"
    SKIPPED = "skipped", "Nothing to do today"


class PartitionState(models.TextChoices):
    WAITING = "waiting", "Waiting"
    RUNNING = "running", "Running"
    FAILED = "failed", "Failed"
    DONE = "done", "Done"


UNFINISHED = [RunState.WAITING, RunState.RUNNING, RunState.FAILED]


def _seconds(start, end):
    if start is None:
        return None
    return max(((end or timezone.now()) - start).total_seconds(), 0.0)


class EodRunQuerySet(models.QuerySet):
    def unfinished(self):
        return self.filter(state__in=UNFINISHED)

    def newest_first(self):
        return self.order_by("-business_date")


class EodRun(models.Model):
    business_date = models.DateField(unique=True)
    state = models.CharField(max_length=10, choices=RunState.choices, default=RunState.WAITING)
    # The person who pressed Start; empty for a date the controller caught up on its own.
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    catch_up = models.BooleanField(default=False, help_text="A missed date run after the one operations started.")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    objects = EodRunQuerySet.as_manager()

    class Meta:
        ordering = ["-business_date"]
        permissions = [
            ("run_end_of_day", "Can start end of day"),
            ("manage_holidays", "Can enter, remove and approve bank holidays"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(state__in=RunState.values), name="eod_run_state_valid"),
            # Two runs at once are impossible: every run but the done ones shares one key.
            models.UniqueConstraint(models.Value(True), condition=Q(state__in=UNFINISHED),
                                    name="eod_one_unfinished_run"),
            models.CheckConstraint(condition=~Q(state="done") | Q(finished_at__isnull=False),
                                   name="eod_run_done_has_finish"),
        ]

    def __str__(self):
        return f"End of day {self.business_date:%d %b %Y}"

    @property
    def is_finished(self):
        return self.state == RunState.DONE

    @property
    def duration(self):
        return _seconds(self.started_at, self.finished_at)

    @property
    def next_date(self):
        return self.business_date + datetime.timedelta(days=1)


class EodStep(models.Model):
    run = models.ForeignKey(EodRun, on_delete=models.CASCADE, related_name="steps")
    name = models.CharField(max_length=80)
    title = models.CharField(max_length=160)
    order = models.PositiveIntegerField()
    state = models.CharField(max_length=10, choices=StepState.choices, default=StepState.WAITING)
    # Set once the partitions are planned: how many, how many done, the items processed.
    partitions_total = models.PositiveIntegerField(null=True, blank=True)
    partitions_done = models.PositiveIntegerField(default=0)
    items = models.BigIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["run", "order"]
        constraints = [
            models.UniqueConstraint(fields=["run", "name"], name="eod_step_once_per_run"),
            models.UniqueConstraint(fields=["run", "order"], name="eod_step_place_once_per_run"),
            models.CheckConstraint(condition=Q(state__in=StepState.values), name="eod_step_state_valid"),
            models.CheckConstraint(
                condition=Q(partitions_total__isnull=True) | Q(partitions_done__lte=models.F("partitions_total")),
                name="eod_step_done_within_total",
            ),
        ]

    def __str__(self):
        return f"{self.order} {self.title}"

    @property
    def duration(self):
        return _seconds(self.started_at, self.finished_at)

    @property
    def percent(self):
        """How far the step has come, for its progress bar."""
        if self.state in (StepState.DONE, StepState.SKIPPED):
            return 100
        if not self.partitions_total:
            return 0
        return int(100 * self.partitions_done / self.partitions_total)


class EodPartition(models.Model):
    step = models.ForeignKey(EodStep, on_delete=models.CASCADE, related_name="partitions")
    number = models.PositiveIntegerField()
    # Inclusive id range; both empty for a step that runs once, whole.
    first = models.BigIntegerField(null=True, blank=True)
    last = models.BigIntegerField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=PartitionState.choices, default=PartitionState.WAITING)
    attempts = models.PositiveIntegerField(default=0)
    items = models.BigIntegerField(default=0)
    worker = models.CharField(max_length=120, blank=True)
    job_id = models.BigIntegerField(null=True, blank=True, help_text="Its job on the queue, when last deferred.")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["step", "number"]
        constraints = [
            models.UniqueConstraint(fields=["step", "number"], name="eod_partition_once_per_step"),
            models.CheckConstraint(condition=Q(state__in=PartitionState.values), name="eod_partition_state_valid"),
            models.CheckConstraint(
                condition=Q(first__isnull=True, last__isnull=True)
                | Q(first__isnull=False, last__isnull=False, first__lte=models.F("last")),
                name="eod_partition_range_valid",
            ),
        ]

    def __str__(self):
        return f"{self.step.name} part {self.number}"

    @property
    def range_label(self):
        return "all" if self.first is None else f"{self.first}–{self.last}"


class LogLevel(models.TextChoices):
    INFO = "info", "Info"
    WARNING = "warning", "Warning"
    ERROR = "error", "Error"


class EodLogLine(models.Model):
    run = models.ForeignKey(EodRun, on_delete=models.CASCADE, related_name="log")
    at = models.DateTimeField(default=timezone.now)
    level = models.CharField(max_length=8, choices=LogLevel.choices, default=LogLevel.INFO)
    text = models.TextField()

    class Meta:
        ordering = ["run", "id"]
        constraints = [models.CheckConstraint(condition=Q(level__in=LogLevel.values), name="eod_log_level_valid")]

    def __str__(self):
        return self.text[:80]


class TrialBalanceSnapshot(models.Model):
    business_date = models.DateField(unique=True)
    taken_at = models.DateTimeField(default=timezone.now)
    total_debit = models.BigIntegerField()
    total_credit = models.BigIntegerField()

    class Meta:
        ordering = ["-business_date"]

    def __str__(self):
        return f"Trial balance at close of {self.business_date:%d %b %Y}"

    @property
    def difference(self):
        return self.total_debit - self.total_credit


class TrialBalanceLine(models.Model):
    snapshot = models.ForeignKey(TrialBalanceSnapshot, on_delete=models.CASCADE, related_name="lines")
    account = models.ForeignKey("ledger.LedgerAccount", on_delete=models.PROTECT, related_name="+")
    # On the account's normal side, as LedgerAccount.balance.
    balance = models.BigIntegerField()

    class Meta:
        ordering = ["snapshot", "account__code"]
        constraints = [models.UniqueConstraint(fields=["snapshot", "account"], name="trial_balance_line_once")]

    def __str__(self):
        return f"{self.account_id}: {self.balance}"
