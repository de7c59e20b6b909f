"""Approval requests: the maker-checker queue.

Design overview
- An `ApprovalRequest` is work that one person (the maker) asked for and another
  (the checker) must approve before it happens: its kind (see registry.py), the
  payload the kind's handler needs, a summary, an amount in minor units, the branch
  it belongs to (None: head office) and an expiry.
- Status moves once, from pending to approved, rejected, failed (the handler
  refused when the checker approved) or expired: `ApprovalRequest.pipeline` is the
  table, and the transition methods (`approve`, `reject`, `fail`, `expire`) raise
  StaleRequest for any other move. actions.py is their only caller; it locks the
  row first, so a request is decided once.
- Whether a checker's approval limit covers a request is one rule,
  `exceeds_limit_of`, which the decision and the supervisor's screens both ask.
- A request sent from a form carries the form's idempotency key, unique among
  requests: the same form sent twice queues one request (`submit_request`).
- The database holds the rules that do not need the registry: the checker is never
  the maker, the amount is not negative, a decided request names its checker and
  time, a rejection has a reason, and a key is used once.
- A checker sees the kinds whose checker permission they hold, for their own
  branch and head office, never their own requests (`for_checker`).
"""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from banking.core.errors import BankingError, StaleRequest
from banking.core.money import DEFAULT_CURRENCY, Money

from . import registry


class Status(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    EXPIRED = "expired", "Expired"
    # The checker approved but the work itself was refused (the handler raised).
    FAILED = "failed", "Failed"


CHECKED = [Status.APPROVED, Status.REJECTED, Status.FAILED]

# Approval limits (StaffProfile.approval_limit) are set in rupees.
LIMIT_CURRENCY = "INR"


def approval_limit_of(user):
    """`user`'s approval limit in paise; nothing without a staff profile."""
    profile = getattr(user, "staff_profile", None)
    return profile.approval_limit if profile else 0


class ApprovalRequestQuerySet(models.QuerySet):
    def pending(self, now=None):
        """Waiting for a checker and not yet past their expiry."""
        return self.filter(status=Status.PENDING, expires_at__gt=now or timezone.now())

    def overdue(self, now=None):
        """Still marked pending although their expiry has passed (expire_requests marks them)."""
        return self.filter(status=Status.PENDING, expires_at__lte=now or timezone.now())

    def decided(self):
        return self.exclude(status=Status.PENDING)

    def newest_first(self):
        return self.order_by("-created_at", "-id")

    def naming(self, kinds, key, values):
        """Requests of a kind starting with one of `kinds` ("deposits.") whose
        payload's `key` is one of `values`: the requests about given records."""
        values = list(values)
        if not values:
            return self.none()
        prefixes = Q()
        for prefix in kinds:
            prefixes |= Q(kind__startswith=prefix)
        return self.filter(prefixes, **{f"payload__{key}__in": values})

    def for_maker(self, user):
        return self.filter(maker=user)

    def for_key(self, idempotency_key):
        return self.filter(idempotency_key=idempotency_key) if idempotency_key else self.none()

    def for_branch(self, branch):
        """Requests of `branch`; None means head office."""
        return self.filter(branch=branch) if branch is not None else self.filter(branch__isnull=True)

    def for_checker(self, user, *, include_own=False):
        """What `user` may check: kinds whose checker permission they hold, of
        their branch or of head office, and never their own requests (unless
        include_own, for showing a supervisor why they cannot approve one)."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        kinds = registry.kinds_checkable_by(user)
        if not kinds:
            return self.none()
        branch_id = getattr(user.branch, "pk", None)
        scope = Q(branch__isnull=True) | Q(branch_id=branch_id) if branch_id else Q(branch__isnull=True)
        qs = self.filter(scope, kind__in=kinds)
        return qs if include_own else qs.exclude(maker=user)


class ApprovalRequest(models.Model):
    kind = models.CharField(max_length=registry.KIND_MAX_LENGTH, db_index=True)
    payload = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    summary = models.CharField(max_length=300)
    # In minor units of `currency`; None for requests that move no money.
    amount = models.BigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3, default=DEFAULT_CURRENCY)
    maker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="approvals_made")
    branch = models.ForeignKey(
        "users.Branch", on_delete=models.PROTECT, null=True, blank=True, related_name="approval_requests",
        help_text="The branch whose supervisors check it; empty for head office.",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    checker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="approvals_checked"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # The checker's reason for a rejection, or the handler's refusal for a failure.
    decision_reason = models.TextField(blank=True)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    # What the handler returned when the request was approved (ids of what it created).
    result = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    # The token of the form it was sent from; blank for requests made by the bank's code.
    idempotency_key = models.CharField(max_length=80, blank=True, default="")

    objects = ApprovalRequestQuerySet.as_manager()

    # Set by submit_request on the request it returns for a key already used: the
    # form was sent again, and nothing new was queued.
    repeated = False

    # Which status may follow which (django-oscar's Order.pipeline): a request is
    # decided once, and nothing goes back to pending.
    pipeline = {
        Status.PENDING: (Status.APPROVED, Status.REJECTED, Status.FAILED, Status.EXPIRED),
        Status.APPROVED: (),
        Status.REJECTED: (),
        Status.FAILED: (),
        Status.EXPIRED: (),
    }

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "branch", "-created_at"], name="approval_queue_idx"),
            models.Index(fields=["maker", "-created_at"], name="approval_maker_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(checker__isnull=True) | ~Q(checker=F("maker")), name="approval_checker_not_maker"
            ),
            models.CheckConstraint(condition=Q(amount__isnull=True) | Q(amount__gte=0), name="approval_amount_nonneg"),
            models.CheckConstraint(condition=Q(status__in=Status.values), name="approval_status_valid"),
            models.CheckConstraint(
                condition=~Q(status__in=CHECKED) | Q(checker__isnull=False, decided_at__isnull=False),
                name="approval_decided_has_checker",
            ),
            models.CheckConstraint(
                condition=~Q(status=Status.EXPIRED) | Q(decided_at__isnull=False), name="approval_expired_has_time"
            ),
            models.CheckConstraint(
                condition=~Q(status=Status.PENDING) | Q(checker__isnull=True, decided_at__isnull=True),
                name="approval_pending_undecided",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=[Status.REJECTED, Status.FAILED]) | ~Q(decision_reason=""),
                name="approval_rejected_has_reason",
            ),
            models.UniqueConstraint(
                fields=["idempotency_key"], condition=~Q(idempotency_key=""), name="approval_idempotency_key_unique"
            ),
        ]

    def __str__(self):
        return f"Request #{self.pk}: {self.summary}"

    @property
    def kind_label(self):
        return registry.label_for(self.kind)

    @property
    def money(self):
        return Money(self.amount, self.currency) if self.amount is not None else None

    @property
    def is_pending(self):
        return self.status == Status.PENDING and not self.is_overdue

    @property
    def is_overdue(self):
        return self.status == Status.PENDING and self.expires_at <= timezone.now()

    @property
    def shown_status(self):
        """The status a person should read: an overdue request is expired even
        before expire_requests has marked it."""
        return Status.EXPIRED if self.is_overdue else Status(self.status)

    def exceeds_limit_of(self, user):
        """Whether `user`'s approval limit does not cover this request. A request
        that moves no money exceeds no limit; one in another currency exceeds every
        limit until the bank sets limits in that currency."""
        if self.amount is None:
            return False
        return self.currency != LIMIT_CURRENCY or self.amount > approval_limit_of(user)

    # -- transitions: the row is locked by the caller (actions.py) -------------

    def approve(self, *, checker, result, at=None):
        """The checker approved and the work was carried out; `result` is what it returned."""
        self._move_to(Status.APPROVED, checker=checker, decided_at=at or timezone.now(), result=result)

    approve.alters_data = True

    def reject(self, *, checker, reason, at=None):
        self._move_to(Status.REJECTED, checker=checker, decided_at=at or timezone.now(), decision_reason=reason)

    reject.alters_data = True

    def fail(self, *, checker, reason, at=None):
        """The checker approved, but the work was refused with `reason`."""
        self._move_to(Status.FAILED, checker=checker, decided_at=at or timezone.now(), decision_reason=reason,
                      result=None)

    fail.alters_data = True

    def expire(self, *, at=None):
        self._move_to(Status.EXPIRED, decided_at=at or timezone.now())

    expire.alters_data = True

    def _move_to(self, status, **fields):
        if status not in self.pipeline[self.status]:
            current = Status(self.status).label.lower()
            raise StaleRequest(f"This request is already {current}, so it cannot be {Status(status).label.lower()} "
                               "now.")
        self.status = status
        for name, value in fields.items():
            setattr(self, name, value)
        self.save(update_fields=["status", *fields])

    _move_to.alters_data = True

    def description(self):
        """The payload in words, from the kind's describe(). A describe() that
        refuses (the account it names is gone) says so in its own words."""
        kind = registry.find(self.kind)
        if kind is None:
            return registry.describe_plainly(self.payload)
        try:
            return list(kind.describe(self.payload))
        except BankingError as error:
            return [("Details", str(error))]
