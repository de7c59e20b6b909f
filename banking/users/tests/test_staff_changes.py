"""Roles, branches and limits change through maker-checker, never for oneself; an
administrator never holds a role that approves or moves money; a staff password
reset is approved by a second administrator and revokes sessions and authenticators."""

import pytest
from allauth.core import context as allauth_context
from allauth.mfa.models import Authenticator
from django.contrib.auth.models import Group, Permission
from django.contrib.sessions.models import Session
from django.core import mail
from django.db import transaction
from django.test import RequestFactory

from banking.approvals.models import ApprovalRequest, Status
from banking.audit.models import AuditEvent
from banking.core.errors import NotPermitted, ValidationFailed
from banking.testing import make_branch, make_user
from banking.users.actions import (
    approve_staff_request,
    change_staff_roles,
    reject_staff_request,
    request_credentials_reset,
    request_staff_change,
)
from banking.users.models import User
from banking.users.roles import Role, refused_combination
from banking.users.signals import RoleConflict

pytestmark = pytest.mark.django_db


@pytest.fixture
def admins():
    return make_user(Role.ADMINISTRATOR), make_user(Role.ADMINISTRATOR)


@pytest.fixture
def teller():
    return make_user(Role.TELLER, branch=make_branch())


def fresh(user):
    return User.objects.select_related("staff_profile").get(pk=user.pk)


# -- the roles that never go together ------------------------------------------------


@pytest.mark.parametrize("money_role", [Role.TELLER, Role.SUPERVISOR, Role.BRANCH_MANAGER, Role.OPERATIONS])
def test_an_administrator_never_holds_a_money_role(money_role):
    assert refused_combination({Role.ADMINISTRATOR, money_role})
    assert refused_combination({money_role}) is None
    assert refused_combination({Role.ADMINISTRATOR, Role.AUDITOR}) is None


def test_no_path_gives_an_administrator_a_money_role(admins, teller):
    admin = admins[0]
    with pytest.raises(RoleConflict), transaction.atomic():
        admin.groups.add(Group.objects.get(name="branch_manager"))
    with pytest.raises(RoleConflict), transaction.atomic():  # from the group's side
        Group.objects.get(name="supervisor").user_set.add(admin)
    with pytest.raises(RoleConflict), transaction.atomic():  # a teller made administrator
        teller.groups.add(Group.objects.get(name="administrator"))
    with pytest.raises(RoleConflict), transaction.atomic():
        admin.groups.set([Group.objects.get(name="administrator"), Group.objects.get(name="operations")])
    assert fresh(admin).roles == [Role.ADMINISTRATOR]
    assert fresh(teller).roles == [Role.TELLER]


def test_the_backend_gives_an_administrator_no_money_permission_even_from_a_hand_edited_database(admins):
    admin = admins[0]
    through = User.groups.through
    through.objects.create(user_id=admin.pk, group=Group.objects.get(name="supervisor"))  # bypasses the guard
    admin.user_permissions.add(Permission.objects.get(codename="approve_requests"))
    admin = fresh(admin)
    assert not admin.has_perm("users.approve_requests")
    assert not admin.has_perm("users.access_supervisor_portal")
    assert admin.has_perm("users.manage_staff")


# -- roles, branch and limits through maker-checker --------------------------------


def test_one_administrator_asks_and_another_approves(admins, teller):
    maker, checker = admins
    branch = teller.branch
    approval = request_staff_change(actor=maker, person=teller, roles=["supervisor"], branch=branch,
                                    approval_limit=10_00_000_00, cash_limit=5_00_000_00)
    assert approval.branch is None and approval.amount is None
    assert fresh(teller).roles == [Role.TELLER]  # nothing yet
    approve_staff_request(actor=checker, request_id=approval.pk)
    person = fresh(teller)
    assert person.roles == [Role.SUPERVISOR]
    assert person.staff_profile.approval_limit == 10_00_000_00
    assert person.staff_profile.cash_limit == 5_00_000_00
    assert person.has_perm("users.approve_requests")
    event = AuditEvent.objects.get(action="users.staff_changed")
    assert event.actor_id == checker.pk and event.before["roles"] == ["teller"]


def test_a_new_administrator_gets_the_admin_site(admins):
    maker, checker = admins
    auditor = make_user(Role.AUDITOR)
    approval = request_staff_change(actor=maker, person=auditor, roles=["administrator"], branch=None,
                                    approval_limit=0, cash_limit=0)
    approve_staff_request(actor=checker, request_id=approval.pk)
    assert fresh(auditor).is_staff and fresh(auditor).roles == [Role.ADMINISTRATOR]
    approval = request_staff_change(actor=maker, person=auditor, roles=["auditor"], branch=None,
                                    approval_limit=0, cash_limit=0)
    approve_staff_request(actor=checker, request_id=approval.pk)
    assert not fresh(auditor).is_staff


def test_the_maker_cannot_approve_their_own_request(admins, teller):
    maker, _ = admins
    approval = request_staff_change(actor=maker, person=teller, roles=["supervisor"], branch=teller.branch,
                                    approval_limit=0, cash_limit=0)
    with pytest.raises(NotPermitted, match="another person must check it"):
        approve_staff_request(actor=maker, request_id=approval.pk)
    assert fresh(teller).roles == [Role.TELLER]


def test_nobody_asks_about_themselves(admins):
    maker, _ = admins
    with pytest.raises(NotPermitted, match="yourself"):
        request_staff_change(actor=maker, person=maker, roles=["administrator", "auditor"], branch=None,
                             approval_limit=0, cash_limit=0)
    assert not ApprovalRequest.objects.exists()


def test_the_person_a_request_is_about_cannot_decide_it(admins):
    maker, subject = admins
    approval = request_staff_change(actor=maker, person=subject, roles=["administrator", "auditor"], branch=None,
                                    approval_limit=0, cash_limit=0)
    with pytest.raises(NotPermitted, match="about you"):
        approve_staff_request(actor=subject, request_id=approval.pk)
    with pytest.raises(NotPermitted, match="about you"):
        reject_staff_request(actor=subject, request_id=approval.pk, reason="No")
    approval.refresh_from_db()
    assert approval.status == Status.PENDING
    assert fresh(subject).roles == [Role.ADMINISTRATOR]


def test_a_rejected_change_changes_nothing(admins, teller):
    maker, checker = admins
    approval = request_staff_change(actor=maker, person=teller, roles=["branch_manager"], branch=teller.branch,
                                    approval_limit=1_00_00_000_00, cash_limit=0)
    reject_staff_request(actor=checker, request_id=approval.pk, reason="Not promoted yet")
    approval.refresh_from_db()
    assert approval.status == Status.REJECTED
    assert fresh(teller).roles == [Role.TELLER] and fresh(teller).staff_profile.approval_limit == 0


@pytest.mark.parametrize("roles,branch,limit,message", [
    (["administrator", "teller"], None, 0, "cannot also be a teller"),
    (["supervisor"], None, 0, "works at a branch"),
    ([], None, 0, "at least one role"),
    (["customer"], None, 0, "Only staff roles"),
    (["nobody"], None, 0, "staff roles"),
    (["auditor"], None, -1, "between zero"),
    (["auditor"], None, 10**20, "between zero"),
])
def test_a_change_the_bank_refuses_is_not_sent(admins, teller, roles, branch, limit, message):
    with pytest.raises(ValidationFailed, match=message):
        request_staff_change(actor=admins[0], person=teller, roles=roles, branch=branch, approval_limit=limit,
                             cash_limit=0)
    assert not ApprovalRequest.objects.exists()


def test_only_an_administrator_asks_or_changes(teller):
    supervisor = make_user(Role.SUPERVISOR, branch=teller.branch, approval_limit=10**9)
    with pytest.raises(NotPermitted):
        request_staff_change(actor=supervisor, person=teller, roles=["supervisor"], branch=teller.branch,
                             approval_limit=0, cash_limit=0)
    with pytest.raises(NotPermitted):
        change_staff_roles(actor=supervisor, person=teller, roles=["supervisor"], branch=teller.branch,
                           approval_limit=0, cash_limit=0)


# -- a staff member's credentials ------------------------------------------------------


def _signed_in(client, user):
    client.force_login(user)
    return client.session.session_key


def test_a_staff_password_reset_needs_approval_and_revokes_sessions_and_authenticators(
        admins, teller, client, django_capture_on_commit_callbacks):
    maker, checker = admins
    session_key = _signed_in(client, teller)
    assert Authenticator.objects.filter(user=teller).exists()
    approval = request_credentials_reset(actor=maker, person=teller)
    assert "password" not in approval.payload and teller.password not in str(approval.payload)
    assert fresh(teller).has_usable_password() and Session.objects.filter(session_key=session_key).exists()

    with allauth_context.request_context(RequestFactory().get("/")), \
            django_capture_on_commit_callbacks(execute=True):
        approve_staff_request(actor=checker, request_id=approval.pk)

    person = fresh(teller)
    assert not person.has_usable_password()
    assert not Session.objects.filter(session_key=session_key).exists()
    assert client.get("/teller/").status_code == 302  # signed out
    assert not Authenticator.objects.filter(user=teller).exists()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [teller.email]
    assert "/accounts/password/reset/key/" in mail.outbox[0].body
    event = AuditEvent.objects.get(action="users.credentials_reset")
    assert event.actor_id == checker.pk and event.after["sessions_ended"] == 1
    for text in (str(event.before), str(event.after)):
        assert person.password not in text and teller.password not in text


def test_the_link_lets_the_person_choose_a_new_password(admins, teller, client, django_capture_on_commit_callbacks):
    maker, checker = admins
    approval = request_credentials_reset(actor=maker, person=teller)
    with allauth_context.request_context(RequestFactory().get("/")), \
            django_capture_on_commit_callbacks(execute=True):
        approve_staff_request(actor=checker, request_id=approval.pk)
    link = next(line for line in mail.outbox[0].body.splitlines() if "/password/reset/key/" in line)
    path = link.split("testserver", 1)[1]
    form = client.get(path, follow=True)
    response = client.post(form.redirect_chain[-1][0] if form.redirect_chain else path,
                           {"password1": "a-new-long-secret-42", "password2": "a-new-long-secret-42"})
    assert response.status_code == 302
    assert fresh(teller).check_password("a-new-long-secret-42")


def test_nobody_resets_their_own_or_a_customers_credentials(admins):
    maker, _ = admins
    with pytest.raises(NotPermitted):
        request_credentials_reset(actor=maker, person=maker)
    with pytest.raises(ValidationFailed, match="Customers reset their own"):
        request_credentials_reset(actor=maker, person=make_user(Role.CUSTOMER))


def test_the_person_cannot_approve_their_own_reset(admins):
    maker, subject = admins
    approval = request_credentials_reset(actor=maker, person=subject)
    with pytest.raises(NotPermitted, match="about you"):
        approve_staff_request(actor=subject, request_id=approval.pk)
    assert fresh(subject).has_usable_password()


# -- superusers ------------------------------------------------------------------------


def test_a_superuser_sign_in_is_audited_as_such(client):
    root = User.objects.create_superuser("root", "root@example.in", "root-pass-1234567")
    client.force_login(root)
    event = AuditEvent.objects.get(action="auth.superuser_login")
    assert event.actor_id == root.pk and "Superuser root" in event.summary
    client.logout()
    client.force_login(make_user(Role.AUDITOR))
    assert AuditEvent.objects.filter(action="auth.superuser_login").count() == 1
