"""Maker-checker actions: submit, approve, reject, expire.

Design overview
- `submit_request` queues work of a registered kind (registry.py) for a checker,
  with an expiry (the kind's default unless given). It locks nothing. A request
  sent from a form carries the form's idempotency key: the same key from the same
  maker for the same work returns the first request (marked `repeated`), whatever
  its status by now; the same key for other work raises IdempotencyConflict. A
  unique index on the key settles two sends at the same moment.
- `approve_request` and `reject_request` lock the request row
  (`SELECT ... FOR UPDATE`) and then check, in this order:
    1. it is still pending (a request is decided once);
    2. the checker is not the maker;
    3. the checker holds the kind's checker permission, and the request is of the
       checker's branch or of head office;
    4. it has not expired (if it has, it is marked expired on the spot);
    5. approving only: the checker's approval limit (StaffProfile.approval_limit,
       in paise) covers the amount (`ApprovalRequest.exceeds_limit_of`, the rule
       the supervisor's screens ask too). Limits are in rupees, so a request in
       another currency cannot be approved until the bank sets limits for it.
       Rejecting needs no limit: turning work down moves no money.
  Two checkers at the same moment: the second waits on the row lock, then finds the
  request decided and is refused. The handler runs once.
- A deadlock or serialization failure inside a decision (most likely in the
  handler's postings) rolls the decision back and runs it again from the top,
  re-reading the request under its lock (`banking.core.db.retrying`), so the checker
  never sees it. Inside a caller's transaction the decision runs once and the
  caller, who owns the transaction, retries.
- Rejection runs the kind's optional `on_reject` hook in the same transaction,
  after the request is marked rejected, so the owning app's records follow.
- Approval runs the kind's handler inside the decision's transaction, in a
  savepoint. Either the handler's work and the approval commit together, or the
  handler refuses (raises a BankingError), its work is rolled back to the
  savepoint, and the request is marked failed with the refusal's text. Anything
  else the handler raises is a defect: the whole transaction rolls back and the
  request stays pending.
- Refusals raise BankingError subclasses whose text is for the person: NotPermitted
  (own request, no permission, another branch), LimitExceeded (over the checker's
  limit), StaleRequest (already decided, expired), ValidationFailed (no such
  request, no reason, unknown kind). A refused decision leaves one audit event
  saying who tried and why, and nothing else.
- Why `approve_request` and `reject_request` open their transaction inside rather
  than carry `@transaction.atomic`: a failed handler or a lapsed request must be
  recorded before the refusal is raised, and an exception leaving an atomic
  function would roll the record back. Called inside a caller's transaction, the
  caller's rollback still wins.
- Every step writes an `approvals.*` audit event in the same transaction as the
  change: request_submitted, request_approved, request_rejected, request_failed,
  request_expired, approve_refused, reject_refused.
"""

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone

from banking.audit.actions import record_event
from banking.core.db import retrying
from banking.core.errors import (
    BankingError,
    IdempotencyConflict,
    InvalidAmount,
    LimitExceeded,
    NotPermitted,
    StaleRequest,
    ValidationFailed,
)
from banking.core.money import DEFAULT_CURRENCY, Money, format_money, minor_exponent

from . import registry
from .models import LIMIT_CURRENCY, ApprovalRequest, Status, approval_limit_of

SUMMARY_MAX = ApprovalRequest._meta.get_field("summary").max_length
REASON_MAX = 1000


@transaction.atomic
def submit_request(*, actor, kind, payload, amount, currency=DEFAULT_CURRENCY, branch, summary, expires_at=None,
                   idempotency_key=""):
    """Queue `payload` of `kind` for a checker and return the ApprovalRequest.

    `amount` is an integer of minor units, a Money, or None for work that moves
    no money; `branch` None means head office. With `idempotency_key` (a form's
    token), a repeat returns the first request with `repeated` set. Locks nothing.
    """
    entry = registry.get(kind)
    if actor is None or not actor.is_authenticated or not actor.is_active:
        raise NotPermitted("Only a signed-in member of staff can make a request.")
    if isinstance(amount, Money):
        amount, currency = amount.minor, amount.currency
    if amount is not None:
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise InvalidAmount("The amount must be a whole number of paise.")
        if amount < 0:
            raise InvalidAmount("The amount cannot be negative.")
    minor_exponent(currency)
    summary = " ".join(str(summary or "").split())
    if not summary:
        raise ValidationFailed("A request needs a short summary for the checker.")
    if len(summary) > SUMMARY_MAX:
        summary = summary[: SUMMARY_MAX - 1] + "…"
    try:
        # Stored as the database will return it, so the handler sees what was queued.
        payload = json.loads(json.dumps(payload, cls=DjangoJSONEncoder))
    except (TypeError, ValueError):
        raise ValidationFailed("The request's details could not be stored.") from None
    now = timezone.now()
    expires_at = expires_at or now + entry.expires_after
    if expires_at <= now:
        raise ValidationFailed("A request must expire in the future.")
    work = {"kind": kind, "payload": payload, "amount": amount, "currency": currency, "maker_id": actor.pk,
            "branch_id": branch.pk if branch is not None else None}

    first = _sent_before(idempotency_key, work)
    if first is not None:
        return first
    try:
        with transaction.atomic():
            approval = ApprovalRequest.objects.create(
                **work, summary=summary, expires_at=expires_at, created_at=now, idempotency_key=idempotency_key,
            )
    except IntegrityError:
        # The same form, sent at the same moment, got there first.
        first = _sent_before(idempotency_key, work)
        if first is None:
            raise
        return first
    record_event(
        action="approvals.request_submitted", obj=approval, actor=actor,
        summary=f"Submitted {entry.label}: {summary}",
        after={
            "kind": kind, "amount": amount, "currency": currency, "branch": branch.code if branch else None,
            "expires_at": expires_at, "payload": payload,
        },
    )
    return approval


def approve_request(*, actor, request_id):
    """Approve a pending request and carry out its work; return the request.

    Locks the request row. Raises a BankingError when refused, and the handler's
    own BankingError when the work failed (the request is then marked failed).
    Retries deadlocks and serialization failures from the top.
    """

    def decide():
        approval = _locked(request_id)
        try:
            kind = _check_checker(approval, actor)
            _check_not_expired(approval, actor)
            _check_limit(approval, actor)
        except BankingError as refusal:
            _record_refusal(approval, actor, "approve", refusal)
            return approval, refusal
        return approval, _carry_out(approval, actor, kind)

    approval, outcome = retrying(decide)
    if outcome is not None:
        raise outcome
    return approval


def reject_request(*, actor, request_id, reason):
    """Reject a pending request with a reason the maker will read; return it.

    Locks the request row. Raises a BankingError when refused. Retries deadlocks
    and serialization failures from the top.
    """
    reason = str(reason or "").strip()
    if not reason:
        raise ValidationFailed("Give a reason for the rejection; the maker will read it.")
    if len(reason) > REASON_MAX:
        raise ValidationFailed(f"Keep the reason under {REASON_MAX} characters.")

    def decide():
        approval = _locked(request_id)
        try:
            kind = _check_checker(approval, actor)
            _check_not_expired(approval, actor)
        except BankingError as refusal:
            _record_refusal(approval, actor, "reject", refusal)
            return approval, refusal
        approval.reject(checker=actor, reason=reason)
        record_event(
            action="approvals.request_rejected", obj=approval, actor=actor,
            summary=f"Rejected {kind.label}: {approval.summary}",
            before={"status": Status.PENDING}, after={"status": Status.REJECTED, "reason": reason},
        )
        if kind.on_reject is not None:
            kind.on_reject(approval, actor)
        return approval, None

    approval, outcome = retrying(decide)
    if outcome is not None:
        raise outcome
    return approval


@transaction.atomic
def expire_requests(*, now=None):
    """Mark every pending request past its expiry as expired; return how many.

    Locks the overdue rows, skipping any that a checker holds at this moment (the
    checker's own expiry check covers those).
    """
    now = now or timezone.now()
    overdue = list(ApprovalRequest.objects.overdue(now).select_for_update(skip_locked=True).order_by("id"))
    for approval in overdue:
        _expire(approval, now, actor=None)
    return len(overdue)


# -- the steps ----------------------------------------------------------------


def _sent_before(idempotency_key, work):
    """The request already sent with this form's key, marked repeated; refuses the
    key reused for other work or by another maker."""
    first = ApprovalRequest.objects.for_key(idempotency_key).first()
    if first is None:
        return None
    if any(getattr(first, name) != value for name, value in work.items()):
        raise IdempotencyConflict("This form was already used for another request, so nothing was sent again. "
                                  "Start a new one.")
    first.repeated = True
    return first


def _locked(request_id):
    try:
        request_id = int(request_id)
    except (TypeError, ValueError):
        raise ValidationFailed("There is no such approval request.") from None
    approval = ApprovalRequest.objects.select_for_update().filter(pk=request_id).first()
    if approval is None:
        raise ValidationFailed("There is no such approval request.")
    return approval


def _check_checker(approval, actor):
    if approval.status != Status.PENDING:
        raise StaleRequest(_already_decided(approval, actor))
    if actor is None or not actor.is_authenticated or not actor.is_active:
        raise NotPermitted("Only a signed-in checker can decide a request.")
    if approval.maker_id == actor.pk:
        raise NotPermitted("You made this request, so another person must check it.")
    kind = registry.get(approval.kind)
    if not actor.has_perm(kind.checker_permission):
        raise NotPermitted(f"You are not allowed to check {kind.label} requests.")
    if approval.branch_id is not None and approval.branch_id != getattr(actor.branch, "pk", None):
        raise NotPermitted("This request belongs to another branch; that branch's supervisors check it.")
    return kind


def _check_not_expired(approval, actor):
    now = timezone.now()
    if approval.expires_at <= now:
        _expire(approval, now, actor=actor)
        raise StaleRequest(
            f"This request expired at {_when(approval.expires_at)} and can no longer be decided. "
            "The maker can submit it again."
        )


def _check_limit(approval, actor):
    if not approval.exceeds_limit_of(actor):
        return
    if approval.currency != LIMIT_CURRENCY:
        raise LimitExceeded(
            f"Approval limits are set in rupees, so a request in {approval.currency} cannot be approved here."
        )
    raise LimitExceeded(
        f"This request is for {format_money(approval.amount, approval.currency)}, above your approval limit "
        f"of {format_money(approval_limit_of(actor), LIMIT_CURRENCY)}. A checker with a higher limit must approve it."
    )


def _carry_out(approval, actor, kind):
    """Run the handler in a savepoint; return None when approved, or the handler's
    refusal after marking the request failed."""
    now = timezone.now()
    try:
        with transaction.atomic():
            result = kind.handler(approval, actor)
            result = json.loads(json.dumps(result if result is not None else {}, cls=DjangoJSONEncoder))
            approval.approve(checker=actor, result=result, at=now)
            record_event(
                action="approvals.request_approved", obj=approval, actor=actor,
                summary=f"Approved {kind.label}: {approval.summary}",
                before={"status": Status.PENDING}, after={"status": Status.APPROVED, "result": result},
            )
    except BankingError as refusal:
        approval.fail(checker=actor, reason=str(refusal), at=now)
        record_event(
            action="approvals.request_failed", obj=approval, actor=actor,
            summary=f"Approved {kind.label} but it could not be carried out: {refusal}",
            before={"status": Status.PENDING}, after={"status": Status.FAILED, "reason": str(refusal)},
        )
        if kind.on_lapse is not None:
            kind.on_lapse(approval, actor)
        return refusal
    return None


def _expire(approval, now, *, actor):
    approval.expire(at=now)
    record_event(
        action="approvals.request_expired", obj=approval, actor=actor,
        summary=f"Expired unchecked: {approval.summary}",
        before={"status": Status.PENDING}, after={"status": Status.EXPIRED, "expires_at": approval.expires_at},
    )
    kind = registry.find(approval.kind)
    if kind is not None and kind.on_lapse is not None:
        kind.on_lapse(approval, actor)


def _record_refusal(approval, actor, verb, refusal):
    record_event(
        action=f"approvals.{verb}_refused", obj=approval, actor=actor,
        summary=f"Could not {verb}: {refusal}", after={"reason": str(refusal)},
    )


def _already_decided(approval, actor):
    status = Status(approval.status)
    if status == Status.EXPIRED:
        return f"This request expired at {_when(approval.expires_at)} and can no longer be decided."
    who = "you" if approval.checker_id == getattr(actor, "pk", None) else approval.checker.display_name
    if status == Status.FAILED:
        return f"This request was already approved by {who} at {_when(approval.decided_at)}, but it failed."
    return f"This request was already {status.label.lower()} by {who} at {_when(approval.decided_at)}."


def _when(moment):
    return timezone.localtime(moment).strftime("%d %b %Y %H:%M")
