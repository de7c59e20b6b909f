import datetime

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from banking.approvals import registry
from banking.approvals.actions import approve_request, expire_requests, reject_request, submit_request
from banking.approvals.models import ApprovalRequest, Status
from banking.audit.models import AuditEvent
from banking.core.errors import (
    IdempotencyConflict,
    InsufficientFunds,
    InvalidAmount,
    LimitExceeded,
    NotPermitted,
    StaleRequest,
    ValidationFailed,
)
from banking.core.money import Money
from banking.ledger.tests.helpers import deadlock_once
from banking.testing import make_branch, make_user
from banking.users.roles import Role

from .factories import TEST_KIND, make_request, work_done_count

pytestmark = pytest.mark.usefixtures("payout_kind")


def events(approval, action):
    return AuditEvent.objects.filter(object_type="approvals.approvalrequest", object_id=str(approval.pk), action=action)


# -- submitting ----------------------------------------------------------------


def test_submit_queues_a_pending_request_and_audits_it(teller, branch):
    approval = make_request(teller, amount=2_50_000_00)

    assert approval.status == Status.PENDING
    assert approval.maker == teller
    assert approval.branch == branch
    assert approval.amount == 2_50_000_00
    assert approval.checker is None
    assert approval.expires_at > timezone.now() + datetime.timedelta(hours=23)
    event = events(approval, "approvals.request_submitted").get()
    assert event.actor_id == teller.pk
    assert event.after["amount"] == 2_50_000_00


def test_submit_accepts_money_and_takes_its_currency(teller):
    approval = make_request(teller, amount=Money(1_000_00, "INR"))
    assert (approval.amount, approval.currency) == (1_000_00, "INR")


@pytest.mark.parametrize(
    "changes,error",
    [
        ({"amount": -1}, InvalidAmount),
        ({"amount": 10.5}, InvalidAmount),
        ({"amount": True}, InvalidAmount),
        ({"currency": "XYZ"}, InvalidAmount),
        ({"summary": "   "}, ValidationFailed),
        ({"kind": "tests.nobody_registered_this"}, ValidationFailed),
        ({"payload": {"when": object()}}, ValidationFailed),
        ({"expires_at": timezone.now() - datetime.timedelta(minutes=1)}, ValidationFailed),
    ],
)
def test_submit_refuses_bad_input_and_writes_nothing(teller, changes, error):
    arguments = {
        "actor": teller, "kind": TEST_KIND, "payload": {"payee": "X"}, "amount": 100, "branch": teller.branch,
        "summary": "Payout",
    }
    arguments.update(changes)
    with pytest.raises(error):
        submit_request(**arguments)
    assert not ApprovalRequest.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="approvals.").exists()


def test_a_long_summary_is_shortened_not_refused(teller):
    approval = make_request(teller, summary="word " * 200)
    assert len(approval.summary) == 300
    assert approval.summary.endswith("…")


def test_the_same_key_returns_the_first_request_and_queues_nothing_more(teller):
    first = make_request(teller, idempotency_key="form-1")
    again = make_request(teller, idempotency_key="form-1")

    assert again.pk == first.pk
    assert (first.repeated, again.repeated) == (False, True)
    assert ApprovalRequest.objects.count() == 1
    assert events(first, "approvals.request_submitted").count() == 1
    assert make_request(teller).pk != first.pk  # no key, no deduplication


@pytest.mark.parametrize(
    "changes",
    [{"payload": {"payee": "Someone else"}}, {"amount": 1}, {"kind": "tests.other"}, {"maker": "another teller"}],
)
def test_a_key_reused_for_other_work_is_refused(teller, changes):
    make_request(teller, idempotency_key="form-1")
    if changes.get("kind"):
        registry.register("tests.other", label="Other", handler=lambda approval, checker: None)
    maker = make_user(Role.TELLER, branch=teller.branch) if changes.pop("maker", None) else teller
    try:
        with pytest.raises(IdempotencyConflict):
            make_request(maker, idempotency_key="form-1", **changes)
    finally:
        registry.unregister("tests.other")
    assert ApprovalRequest.objects.count() == 1


# -- approving -----------------------------------------------------------------


def test_checker_approves_and_the_work_runs_once_in_the_same_transaction(teller, supervisor):
    approval = make_request(teller)

    approved = approve_request(actor=supervisor, request_id=approval.pk)

    approved.refresh_from_db()
    assert approved.status == Status.APPROVED
    assert approved.checker == supervisor
    assert approved.decided_at is not None
    assert approved.result == {"paid_by": supervisor.username}
    assert work_done_count(approval) == 1
    event = events(approval, "approvals.request_approved").get()
    assert event.actor_id == supervisor.pk
    assert event.after["result"] == {"paid_by": supervisor.username}


def test_maker_cannot_approve_their_own_request(branch):
    # A supervisor can make requests too (cash over a teller's limit at their own counter).
    maker = make_user(Role.SUPERVISOR, branch=branch, approval_limit=10_00_000_00, mfa=False)
    approval = make_request(maker)

    with pytest.raises(NotPermitted, match="You made this request"):
        approve_request(actor=maker, request_id=approval.pk)

    approval.refresh_from_db()
    assert approval.status == Status.PENDING
    assert work_done_count() == 0
    assert events(approval, "approvals.approve_refused").get().actor_id == maker.pk


def test_database_refuses_a_checker_who_is_the_maker(teller):
    approval = make_request(teller)
    with pytest.raises(IntegrityError), transaction.atomic():
        ApprovalRequest.objects.filter(pk=approval.pk).update(
            status=Status.APPROVED, checker=teller, decided_at=timezone.now()
        )


def test_checker_whose_limit_is_too_low_cannot_approve(teller, branch):
    junior = make_user(Role.SUPERVISOR, branch=branch, approval_limit=1_00_000_00, mfa=False)
    approval = make_request(teller, amount=1_00_000_01)

    with pytest.raises(LimitExceeded, match=r"above your approval limit of ₹1,00,000.00"):
        approve_request(actor=junior, request_id=approval.pk)

    approval.refresh_from_db()
    assert approval.status == Status.PENDING
    assert work_done_count() == 0


def test_limit_equal_to_the_amount_is_enough(teller, branch):
    checker = make_user(Role.SUPERVISOR, branch=branch, approval_limit=1_00_000_00, mfa=False)
    approval = make_request(teller, amount=1_00_000_00)
    assert approve_request(actor=checker, request_id=approval.pk).status == Status.APPROVED


def test_request_in_another_currency_needs_a_limit_in_it(teller, supervisor):
    approval = make_request(teller, amount=Money(100_00, "USD"))
    with pytest.raises(LimitExceeded, match="in rupees"):
        approve_request(actor=supervisor, request_id=approval.pk)


def test_request_without_an_amount_needs_no_limit(teller, branch):
    checker = make_user(Role.SUPERVISOR, branch=branch, approval_limit=0, mfa=False)
    approval = make_request(teller, amount=None)
    assert approve_request(actor=checker, request_id=approval.pk).status == Status.APPROVED


def test_a_request_is_decided_once(teller, supervisor, branch):
    other = make_user(Role.BRANCH_MANAGER, branch=branch, approval_limit=1_00_00_000_00, mfa=False)
    approval = make_request(teller)
    approve_request(actor=supervisor, request_id=approval.pk)

    with pytest.raises(StaleRequest, match="already approved by you"):
        approve_request(actor=supervisor, request_id=approval.pk)
    with pytest.raises(StaleRequest, match=f"already approved by {supervisor.display_name}"):
        approve_request(actor=other, request_id=approval.pk)
    with pytest.raises(StaleRequest):
        reject_request(actor=other, request_id=approval.pk, reason="Too late")

    approval.refresh_from_db()
    assert approval.status == Status.APPROVED
    assert approval.checker == supervisor
    assert work_done_count() == 1


def test_checker_without_the_kind_permission_cannot_approve(teller, branch):
    operations = make_user(Role.OPERATIONS, branch=branch, approval_limit=10_00_000_00, mfa=False)
    approval = make_request(teller)
    with pytest.raises(NotPermitted, match="not allowed to check Test payout"):
        approve_request(actor=operations, request_id=approval.pk)
    assert work_done_count() == 0


def test_checker_of_another_branch_cannot_approve(teller):
    elsewhere = make_user(Role.SUPERVISOR, branch=make_branch(), approval_limit=10_00_000_00, mfa=False)
    approval = make_request(teller)
    with pytest.raises(NotPermitted, match="another branch"):
        approve_request(actor=elsewhere, request_id=approval.pk)
    assert work_done_count() == 0


def test_head_office_requests_are_checked_by_any_branch(branch):
    operations = make_user(Role.OPERATIONS, mfa=False)
    supervisor = make_user(Role.SUPERVISOR, branch=branch, approval_limit=10_00_000_00, mfa=False)
    approval = make_request(operations, branch=None)
    assert approval.branch is None
    assert approve_request(actor=supervisor, request_id=approval.pk).status == Status.APPROVED


def test_expired_request_cannot_be_approved_and_is_marked_expired(teller, supervisor):
    approval = make_request(teller)
    ApprovalRequest.objects.filter(pk=approval.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))

    with pytest.raises(StaleRequest, match="expired"):
        approve_request(actor=supervisor, request_id=approval.pk)

    approval.refresh_from_db()
    assert approval.status == Status.EXPIRED
    assert approval.checker is None
    assert approval.decided_at is not None
    assert work_done_count() == 0
    assert events(approval, "approvals.request_expired").count() == 1
    with pytest.raises(StaleRequest, match="expired"):
        approve_request(actor=supervisor, request_id=approval.pk)


def test_a_failing_handler_marks_the_request_failed_and_leaves_nothing_behind(teller, supervisor):
    approval = make_request(teller, payload={"payee": "X", "fail": True})

    with pytest.raises(InsufficientFunds, match="not have enough available balance"):
        approve_request(actor=supervisor, request_id=approval.pk)

    approval.refresh_from_db()
    assert approval.status == Status.FAILED
    assert approval.checker == supervisor
    assert approval.decision_reason == "The paying account does not have enough available balance."
    assert approval.result is None
    # The handler wrote its trace before refusing; the savepoint took it back.
    assert work_done_count() == 0
    assert not events(approval, "approvals.request_approved").exists()
    assert events(approval, "approvals.request_failed").get().after["reason"] == approval.decision_reason


def test_unknown_request_is_refused_clearly(supervisor):
    with pytest.raises(ValidationFailed, match="no such approval request"):
        approve_request(actor=supervisor, request_id=999_999)
    with pytest.raises(ValidationFailed, match="no such approval request"):
        approve_request(actor=supervisor, request_id="not-a-number")


# -- rejecting -----------------------------------------------------------------


def test_checker_rejects_with_a_reason(teller, supervisor):
    approval = make_request(teller)

    reject_request(actor=supervisor, request_id=approval.pk, reason="  Signature does not match.  ")

    approval.refresh_from_db()
    assert approval.status == Status.REJECTED
    assert approval.checker == supervisor
    assert approval.decision_reason == "Signature does not match."
    assert work_done_count() == 0
    event = events(approval, "approvals.request_rejected").get()
    assert event.after == {"status": "rejected", "reason": "Signature does not match."}


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_rejecting_needs_a_reason(teller, supervisor, reason):
    approval = make_request(teller)
    with pytest.raises(ValidationFailed, match="Give a reason"):
        reject_request(actor=supervisor, request_id=approval.pk, reason=reason)
    approval.refresh_from_db()
    assert approval.status == Status.PENDING


def test_database_refuses_a_rejection_without_reason(teller, supervisor):
    approval = make_request(teller)
    with pytest.raises(IntegrityError), transaction.atomic():
        ApprovalRequest.objects.filter(pk=approval.pk).update(
            status=Status.REJECTED, checker=supervisor, decided_at=timezone.now()
        )


def test_maker_cannot_reject_their_own_request(teller):
    approval = make_request(teller)
    with pytest.raises(NotPermitted):
        reject_request(actor=teller, request_id=approval.pk, reason="Changed my mind")
    assert events(approval, "approvals.reject_refused").exists()


def test_a_checker_under_the_limit_may_still_reject(teller, branch):
    junior = make_user(Role.SUPERVISOR, branch=branch, approval_limit=0, mfa=False)
    approval = make_request(teller, amount=50_00_000_00)
    assert reject_request(actor=junior, request_id=approval.pk, reason="Not documented").status == Status.REJECTED


# -- expiring ------------------------------------------------------------------


def test_expire_requests_marks_only_overdue_pending_ones(teller, supervisor):
    overdue = make_request(teller)
    fresh = make_request(teller)
    decided = make_request(teller)
    reject_request(actor=supervisor, request_id=decided.pk, reason="No")
    past = timezone.now() - datetime.timedelta(minutes=5)
    ApprovalRequest.objects.filter(pk__in=[overdue.pk, decided.pk]).update(expires_at=past)

    assert expire_requests() == 1

    assert ApprovalRequest.objects.get(pk=overdue.pk).status == Status.EXPIRED
    assert ApprovalRequest.objects.get(pk=fresh.pk).status == Status.PENDING
    assert ApprovalRequest.objects.get(pk=decided.pk).status == Status.REJECTED
    assert events(overdue, "approvals.request_expired").count() == 1
    assert expire_requests() == 0


def test_expire_requests_uses_the_given_time(teller):
    approval = make_request(teller)
    assert expire_requests(now=timezone.now()) == 0
    assert expire_requests(now=approval.expires_at + datetime.timedelta(seconds=1)) == 1


def test_expire_command(teller):
    from io import StringIO

    from django.core.management import call_command

    approval = make_request(teller)
    ApprovalRequest.objects.filter(pk=approval.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    out = StringIO()
    call_command("expire_approvals", stdout=out)
    assert "Expired 1 approval request(s)." in out.getvalue()
    assert events(approval, "approvals.request_expired").get().actor_username == "expire_approvals"


# -- deadlocks ---------------------------------------------------------------------
# Transactional: inside a test's own transaction the decision would run once and
# leave retrying to that transaction's owner.


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("sqlstate", ["40P01", "40001"])
def test_a_deadlocked_approval_is_retried_from_the_top_and_the_work_runs_once(teller, supervisor, monkeypatch,
                                                                              sqlstate):
    approval = make_request(teller)
    # Fails after the handler has done its work, as the approval is recorded.
    calls = deadlock_once(monkeypatch, "banking.approvals.actions.record_event", sqlstate)

    approved = approve_request(actor=supervisor, request_id=approval.pk)

    assert len(calls) == 2
    assert approved.status == Status.APPROVED
    approval.refresh_from_db()
    assert (approval.status, approval.checker) == (Status.APPROVED, supervisor)
    assert work_done_count(approval) == 1
    assert events(approval, "approvals.request_approved").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_deadlocked_rejection_is_retried(teller, supervisor, monkeypatch):
    approval = make_request(teller)
    calls = deadlock_once(monkeypatch, "banking.approvals.actions.record_event")

    reject_request(actor=supervisor, request_id=approval.pk, reason="Not today")

    assert len(calls) == 2
    approval.refresh_from_db()
    assert (approval.status, approval.decision_reason) == (Status.REJECTED, "Not today")
    assert events(approval, "approvals.request_rejected").count() == 1
