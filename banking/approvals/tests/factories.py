"""Test helpers for maker-checker: a kind of request that exists only in tests.

Its handler leaves a visible trace (an audit event "tests.work_done") so that tests
can count how often the work ran, and refuses when the payload asks it to.
"""

from contextlib import contextmanager

from banking.approvals import registry
from banking.audit.actions import record_event
from banking.audit.models import AuditEvent
from banking.core.errors import InsufficientFunds

TEST_KIND = "tests.payout"
WORK_DONE = "tests.work_done"


def do_test_work(approval, checker):
    record_event(action=WORK_DONE, obj=approval, actor=checker, summary=f"Paid out for request #{approval.pk}")
    if approval.payload.get("fail"):
        raise InsufficientFunds("The paying account does not have enough available balance.")
    return {"paid_by": checker.username}


def describe_test_work(payload):
    return [("Pay to", payload.get("payee", "")), ("Purpose", payload.get("purpose", ""))]


@contextmanager
def registered_test_kind(**options):
    options.setdefault("label", "Test payout")
    registry.register(TEST_KIND, handler=do_test_work, describe=describe_test_work, **options)
    try:
        yield registry.get(TEST_KIND)
    finally:
        registry.unregister(TEST_KIND)


def work_done_count(approval=None):
    events = AuditEvent.objects.filter(action=WORK_DONE)
    if approval is not None:
        events = events.filter(object_id=str(approval.pk))
    return events.count()


def make_request(maker, *, amount=5_000_00, branch=None, payload=None, kind=TEST_KIND, **extra):
    from banking.approvals.actions import submit_request

    return submit_request(
        actor=maker, kind=kind, payload=payload or {"payee": "Priya Sharma", "purpose": "Rent"},
        amount=amount, branch=branch if branch is not None else maker.branch,
        summary=extra.pop("summary", "Payout to Priya Sharma"), **extra,
    )
