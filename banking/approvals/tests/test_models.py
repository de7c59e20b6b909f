import datetime
import types

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.utils import timezone

from banking.approvals import registry
from banking.approvals.models import ApprovalRequest, Status
from banking.testing import make_branch, make_user
from banking.users.roles import Role

from .factories import TEST_KIND, do_test_work, make_request

pytestmark = pytest.mark.usefixtures("payout_kind")


def test_for_checker_is_own_branch_and_head_office_never_own(teller, supervisor, branch):
    other_branch = make_branch()
    operations = make_user(Role.OPERATIONS, mfa=False)
    mine = make_request(teller)
    head_office = make_request(operations, branch=None)
    elsewhere = make_request(make_user(Role.TELLER, branch=other_branch, mfa=False))
    own = make_request(supervisor)

    visible = set(ApprovalRequest.objects.for_checker(supervisor))
    assert visible == {mine, head_office}
    assert own in ApprovalRequest.objects.for_checker(supervisor, include_own=True)
    assert elsewhere not in ApprovalRequest.objects.for_checker(supervisor, include_own=True)


def test_for_checker_needs_the_kinds_permission(teller, branch):
    make_request(teller)
    other_teller = make_user(Role.TELLER, branch=branch, mfa=False)
    operations = make_user(Role.OPERATIONS, mfa=False)
    assert not ApprovalRequest.objects.for_checker(other_teller).exists()
    assert not ApprovalRequest.objects.for_checker(operations).exists()


def test_for_checker_follows_a_kinds_own_permission(branch):
    registry.register("tests.journal", label="Test journal", handler=do_test_work,
                      checker_permission="users.post_manual_journal")
    try:
        maker = make_user(Role.OPERATIONS, mfa=False)
        second = make_user(Role.OPERATIONS, mfa=False)
        supervisor = make_user(Role.SUPERVISOR, branch=branch, mfa=False)
        journal = make_request(maker, kind="tests.journal", branch=None)
        assert list(ApprovalRequest.objects.for_checker(second)) == [journal]
        assert not ApprovalRequest.objects.for_checker(supervisor).exists()
    finally:
        registry.unregister("tests.journal")


def test_a_branchless_checker_sees_only_head_office(teller):
    head_office_supervisor = make_user(Role.SUPERVISOR, mfa=False)
    make_request(teller)
    assert not ApprovalRequest.objects.for_checker(head_office_supervisor).exists()


def test_pending_leaves_out_overdue_and_decided(teller, supervisor):
    waiting = make_request(teller)
    overdue = make_request(teller)
    ApprovalRequest.objects.filter(pk=overdue.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    overdue.refresh_from_db()

    assert list(ApprovalRequest.objects.pending()) == [waiting]
    assert list(ApprovalRequest.objects.overdue()) == [overdue]
    assert overdue.shown_status == Status.EXPIRED
    assert waiting.shown_status == Status.PENDING


def test_for_maker_and_newest_first(teller, supervisor):
    first = make_request(teller)
    second = make_request(teller)
    make_request(supervisor)
    assert list(ApprovalRequest.objects.for_maker(teller).newest_first()) == [second, first]


@pytest.mark.parametrize(
    "changes",
    [
        {"amount": -1},
        {"status": "approved"},  # no checker, no time
        {"status": "expired"},  # no time
        {"status": "bogus"},
        {"checker_id": None, "decided_at": timezone.now()},  # pending with a decision time
    ],
)
def test_database_constraints(teller, changes):
    approval = make_request(teller)
    with pytest.raises(IntegrityError), transaction.atomic():
        ApprovalRequest.objects.filter(pk=approval.pk).update(**changes)


def test_description_is_in_words(teller):
    approval = make_request(teller, payload={"payee": "Priya Sharma", "purpose": "Rent"})
    assert approval.description() == [("Pay to", "Priya Sharma"), ("Purpose", "Rent")]
    assert approval.kind_label == "Test payout"


def test_description_of_an_unregistered_kind_falls_back_to_plain_rows(teller):
    approval = make_request(teller, payload={"account_number": "1234", "joint": True})
    approval.kind = "tests.gone_away"
    assert approval.description() == [("Account number", "1234"), ("Joint", "Yes")]
    assert approval.kind_label == "Gone away"


# -- the registry ------------------------------------------------------------------


def test_registering_again_the_same_way_is_harmless_and_differently_is_an_error():
    registry.register(TEST_KIND, label="Test payout", handler=do_test_work,
                      describe=registry.find(TEST_KIND).describe)
    with pytest.raises(ImproperlyConfigured):
        registry.register(TEST_KIND, label="Something else", handler=do_test_work)


@pytest.mark.parametrize(
    "kind,options",
    [
        ("Bad Name", {}),
        ("tests.x", {"label": ""}),
        ("tests.x", {"handler": "not callable"}),
        ("tests.x", {"checker_permission": "approve"}),
        ("tests.x", {"expires_after": datetime.timedelta(0)}),
    ],
)
def test_register_refuses_bad_kinds(kind, options):
    arguments = {"label": "X", "handler": do_test_work}
    arguments.update(options)
    with pytest.raises(ImproperlyConfigured):
        registry.register(kind, **arguments)
    assert registry.find("tests.x") is None


def test_autodiscover_registers_kinds_declared_as_data(monkeypatch):
    from django.apps import apps

    config = apps.get_app_config("ledger")
    module = types.ModuleType("banking.ledger.approval_kinds")
    module.KINDS = [{"kind": "tests.declared", "label": "Declared kind", "handler": do_test_work}]
    monkeypatch.setattr(config.module, "approval_kinds", module, raising=False)
    monkeypatch.setattr(registry, "autodiscover_modules", lambda name: None)
    try:
        registry.autodiscover()
        assert registry.get("tests.declared").label == "Declared kind"
    finally:
        registry.unregister("tests.declared")


def test_naming_finds_requests_of_the_given_kinds_about_the_given_records(teller):
    about_7 = make_request(teller, payload={"account_id": 7})
    make_request(teller, payload={"account_id": 8})
    make_request(teller, payload={"customer_id": 7})
    found = ApprovalRequest.objects.naming(["tests."], "account_id", [7, 9])
    assert list(found) == [about_7]
    # Another kind's "account_id" is another table's: not looked at.
    assert not ApprovalRequest.objects.naming(["deposits."], "account_id", [7]).exists()
    assert not ApprovalRequest.objects.naming(["tests."], "account_id", []).exists()
