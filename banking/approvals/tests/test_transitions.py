"""A request's status moves only as ApprovalRequest.pipeline allows, and one rule
(ApprovalRequest.exceeds_limit_of) says whether a checker's limit covers it."""

import itertools

import pytest
from django.utils import timezone

from banking.approvals import actions
from banking.approvals.models import ApprovalRequest, Status
from banking.core.errors import LimitExceeded, StaleRequest
from banking.testing import make_user
from banking.users.roles import Role

from .factories import make_request, work_done_count

pytestmark = pytest.mark.usefixtures("payout_kind")

# Each decided status, reached by its transition method.
MOVES = {
    Status.APPROVED: lambda approval, checker: approval.approve(checker=checker, result={"paid": True}),
    Status.REJECTED: lambda approval, checker: approval.reject(checker=checker, reason="No documents"),
    Status.FAILED: lambda approval, checker: approval.fail(checker=checker, reason="Not enough money"),
    Status.EXPIRED: lambda approval, checker: approval.expire(),
}
ALLOWED = {(Status.PENDING, target) for target in MOVES}


def _in_status(approval, status, checker):
    """Put `approval` in `status` as the database's constraints want it."""
    fields = {"status": status}
    if status != Status.PENDING:
        fields["decided_at"] = timezone.now()
    if status in (Status.APPROVED, Status.REJECTED, Status.FAILED):
        fields["checker"] = checker
    if status in (Status.REJECTED, Status.FAILED):
        fields["decision_reason"] = "Decided before"
    ApprovalRequest.objects.filter(pk=approval.pk).update(**fields)
    approval.refresh_from_db()
    return approval


@pytest.mark.parametrize(("source", "target"), list(itertools.product(Status, MOVES)))
def test_every_allowed_transition_works_and_every_other_raises(teller, supervisor, source, target):
    approval = _in_status(make_request(teller), source, supervisor)
    if (source, target) in ALLOWED:
        MOVES[target](approval, supervisor)
        approval.refresh_from_db()
        assert approval.status == target
        assert approval.decided_at is not None
        if target != Status.EXPIRED:
            assert approval.checker == supervisor
    else:
        with pytest.raises(StaleRequest, match="already"):
            MOVES[target](approval, supervisor)
        approval.refresh_from_db()
        assert approval.status == source


def test_the_table_names_every_status_and_nothing_returns_to_pending():
    assert set(ApprovalRequest.pipeline) == set(Status)
    assert not any(Status.PENDING in targets for targets in ApprovalRequest.pipeline.values())
    assert {(source, target) for source, targets in ApprovalRequest.pipeline.items()
            for target in targets} == ALLOWED


def test_the_transition_methods_alter_data():
    for name in ("approve", "reject", "fail", "expire"):
        assert getattr(ApprovalRequest, name).alters_data is True


@pytest.mark.parametrize(("amount", "currency", "limit", "exceeds"), [
    (None, "INR", 0, False),          # moves no money
    (10_000_00, "INR", 10_000_00, False),
    (10_000_01, "INR", 10_000_00, True),
    (1_00, "USD", 10_000_00, True),   # limits are in rupees
    (1_00, "INR", None, True),        # no staff profile: no limit
])
def test_exceeds_limit_of(branch, amount, currency, limit, exceeds):
    if limit is None:
        checker = make_user(Role.CUSTOMER)
    else:
        checker = make_user(Role.SUPERVISOR, branch=branch, approval_limit=limit, mfa=False)
    assert ApprovalRequest(amount=amount, currency=currency).exceeds_limit_of(checker) is exceeds


def test_approving_follows_the_one_limit_rule(teller, supervisor, monkeypatch):
    approval = make_request(teller, amount=1_00)
    monkeypatch.setattr(ApprovalRequest, "exceeds_limit_of", lambda self, user: True)
    with pytest.raises(LimitExceeded):
        actions.approve_request(actor=supervisor, request_id=approval.pk)
    approval.refresh_from_db()
    assert approval.status == Status.PENDING and work_done_count(approval) == 0
