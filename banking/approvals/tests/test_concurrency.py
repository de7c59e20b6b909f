"""Two checkers approving the same request at the same moment, and one form sent
twice at the same moment, in real threads with their own PostgreSQL connections."""

import threading
import time

import pytest
from django.db import connection

from banking.approvals import registry
from banking.approvals.actions import approve_request
from banking.approvals.models import ApprovalRequest, Status
from banking.core.errors import BankingError, StaleRequest
from banking.testing import make_branch, make_user, run_together
from banking.users.roles import Role

from .factories import do_test_work, make_request, registered_test_kind, work_done_count

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]

SLOW_KIND = "tests.slow_payout"


def waiting_on_locks():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def wait_until(condition, what, timeout=20):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.01)


def test_two_supervisors_approving_at_once_run_the_work_exactly_once():
    inside = threading.Event()
    release = threading.Event()

    def slow_work(approval, checker):
        # Hold the row lock until the other checker is queued behind it.
        inside.set()
        assert release.wait(20), "the test never released the first checker"
        return do_test_work(approval, checker)

    registry.register(SLOW_KIND, label="Slow payout", handler=slow_work)
    try:
        branch = make_branch()
        teller = make_user(Role.TELLER, branch=branch, mfa=False)
        checkers = [
            make_user(Role.SUPERVISOR, branch=branch, approval_limit=10_00_000_00, mfa=False),
            make_user(Role.BRANCH_MANAGER, branch=branch, approval_limit=10_00_000_00, mfa=False),
        ]
        approval = make_request(teller, kind=SLOW_KIND)
        outcomes = {}
        start = threading.Barrier(len(checkers))

        def check(user):
            try:
                start.wait(5)
                approve_request(actor=user, request_id=approval.pk)
                outcomes[user.pk] = "approved"
            except BankingError as refusal:
                outcomes[user.pk] = refusal
            finally:
                connection.close()

        threads = [threading.Thread(target=check, args=(user,)) for user in checkers]
        for thread in threads:
            thread.start()
        wait_until(inside.is_set, "one checker is carrying out the work")
        wait_until(lambda: waiting_on_locks() >= 1, "the other checker waits on the request's row lock")
        release.set()
        for thread in threads:
            thread.join(30)
            assert not thread.is_alive()
    finally:
        registry.unregister(SLOW_KIND)

    results = list(outcomes.values())
    assert results.count("approved") == 1, results
    refusals = [result for result in results if result != "approved"]
    assert len(refusals) == 1 and isinstance(refusals[0], StaleRequest), refusals
    assert "already approved" in str(refusals[0])
    assert work_done_count(approval) == 1
    approval = ApprovalRequest.objects.get(pk=approval.pk)
    assert approval.status == Status.APPROVED
    assert outcomes[approval.checker_id] == "approved"


def test_one_form_sent_twice_at_once_queues_one_request():
    with registered_test_kind():
        teller = make_user(Role.TELLER, branch=make_branch(), mfa=False)
        for round_ in range(5):
            key = f"form-{round_}"
            approvals, errors = run_together(*[lambda: make_request(teller, idempotency_key=key)] * 2)
            assert errors == []
            assert approvals[0].pk == approvals[1].pk
            assert sorted(approval.repeated for approval in approvals) == [False, True]
            assert ApprovalRequest.objects.filter(idempotency_key=key).count() == 1
