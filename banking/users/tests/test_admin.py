"""The admin gives no one access, and sets no one's password."""

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages

from banking.approvals.models import ApprovalRequest
from banking.testing import PASSWORD, make_branch, make_user
from banking.users.actions import CREDENTIALS_RESET
from banking.users.models import StaffProfile, User
from banking.users.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user():
    return make_user(Role.ADMINISTRATOR)


def _change_form(user, **overrides):
    """What the admin's change form would send for `user`, with its staff profile."""
    profile = StaffProfile.objects.filter(user=user).first()
    data = {
        "username": user.username, "first_name": user.first_name, "last_name": user.last_name,
        "email": user.email, "mobile": user.mobile, "is_active": "on",
        "date_joined_0": "2026-01-01", "date_joined_1": "10:00:00",
        "staff_profile-TOTAL_FORMS": "1", "staff_profile-INITIAL_FORMS": "1" if profile else "0",
        "staff_profile-MIN_NUM_FORMS": "0", "staff_profile-MAX_NUM_FORMS": "1",
    }
    if profile:
        data.update({
            "staff_profile-0-id": str(profile.pk), "staff_profile-0-user": str(user.pk),
            "staff_profile-0-employee_id": profile.employee_id, "staff_profile-0-designation": "Admin",
            "staff_profile-0-approval_limit": str(profile.approval_limit),
            "staff_profile-0-cash_limit": str(profile.cash_limit),
        })
    data.update(overrides)
    return data


def test_an_administrator_cannot_make_themselves_superuser(client, admin_user):
    client.force_login(admin_user)
    response = client.post(f"/admin/users/user/{admin_user.pk}/change/",
                           _change_form(admin_user, is_superuser="on", is_staff="on"))
    assert response.status_code == 302  # the rest of the form is saved
    admin_user.refresh_from_db()
    assert admin_user.is_superuser is False
    assert admin_user.first_name  # still there


def test_an_administrator_cannot_make_themselves_branch_manager_with_any_limit(client, admin_user):
    branch = make_branch()
    groups = [str(Group.objects.get(name=name).pk) for name in ("administrator", "branch_manager")]
    client.force_login(admin_user)
    client.post(f"/admin/users/user/{admin_user.pk}/change/", _change_form(
        admin_user, groups=groups, **{"staff_profile-0-approval_limit": "10000000000",
                                      "staff_profile-0-branch": str(branch.pk)}))
    fresh = User.objects.get(pk=admin_user.pk)
    assert fresh.roles == [Role.ADMINISTRATOR]
    assert fresh.staff_profile.approval_limit == 0 and fresh.staff_profile.branch is None
    assert client.get("/supervisor/queue/").status_code == 403


def test_the_change_page_shows_access_read_only(client, admin_user):
    teller = make_user(Role.TELLER, branch=make_branch())
    client.force_login(admin_user)
    page = client.get(f"/admin/users/user/{teller.pk}/change/").text
    assert 'name="is_superuser"' not in page and 'name="groups"' not in page
    assert 'name="staff_profile-0-approval_limit"' not in page
    assert "Staff and roles" in page


def test_a_login_added_in_the_admin_gets_no_roles_and_no_password(client, admin_user):
    client.force_login(admin_user)
    group = str(Group.objects.get(name="supervisor").pk)
    response = client.post("/admin/users/user/add/", {
        "username": "newcomer", "first_name": "New", "last_name": "Comer", "email": "new@example.in",
        "password1": "typed-by-admin-99", "password2": "typed-by-admin-99", "groups": [group],
        "is_superuser": "on", "staff_profile-TOTAL_FORMS": "1", "staff_profile-INITIAL_FORMS": "0",
        "staff_profile-MIN_NUM_FORMS": "0", "staff_profile-MAX_NUM_FORMS": "1",
        "staff_profile-0-employee_id": "E5555", "staff_profile-0-approval_limit": "999999",
    })
    assert response.status_code == 302
    newcomer = User.objects.get(username="newcomer")
    assert newcomer.roles == [] and not newcomer.is_superuser
    assert not newcomer.has_usable_password()
    assert newcomer.staff_profile.approval_limit == 0


def test_the_password_form_is_refused_for_a_customer(client, admin_user):
    customer = make_user(Role.CUSTOMER)
    client.force_login(admin_user)
    url = f"/admin/users/user/{customer.pk}/password/"
    page = client.get(url, follow=True)
    assert "Customers set and reset their own password" in page.text
    response = client.post(url, {"password1": "taken-over-123", "password2": "taken-over-123",
                                 "usable_password": "true", "set_usable_password": "true"})
    assert response.status_code == 302
    assert "Customers set and reset" in " ".join(str(m) for m in get_messages(response.wsgi_request))
    customer.refresh_from_db()
    assert customer.check_password(PASSWORD)


def test_a_customers_login_is_read_only_apart_from_being_active(client, admin_user):
    customer = make_user(Role.CUSTOMER)
    client.force_login(admin_user)
    page = client.get(f"/admin/users/user/{customer.pk}/change/").text
    assert 'name="email"' not in page and 'name="username"' not in page
    assert 'name="is_active"' in page
    client.post(f"/admin/users/user/{customer.pk}/change/",
                _change_form(customer, email="thief@example.in", username="stolen", is_active=""))
    customer.refresh_from_db()
    assert customer.email.endswith("@example.in") and customer.email != "thief@example.in"
    assert customer.username != "stolen"
    assert customer.is_active is False


def test_a_staff_password_becomes_a_reset_request_for_another_administrator(client, admin_user):
    teller = make_user(Role.TELLER, branch=make_branch())
    client.force_login(admin_user)
    url = f"/admin/users/user/{teller.pk}/password/"
    page = client.get(url)
    assert f"Request a password reset for {teller.display_name}" in page.text
    assert 'name="password1"' not in page.text
    response = client.post(url, {"password1": "chosen-by-admin-1", "password2": "chosen-by-admin-1",
                                 "idempotency_key": "k1"})
    assert response.status_code == 302
    teller.refresh_from_db()
    assert teller.check_password(PASSWORD)  # unchanged until approved
    approval = ApprovalRequest.objects.get(kind=CREDENTIALS_RESET)
    assert approval.payload["person_id"] == teller.pk
    assert "password" not in str(approval.payload).replace("'kind'", "")  # no password, no hash


def test_a_staff_member_without_email_cannot_be_reset(client, admin_user):
    teller = make_user(Role.TELLER, branch=make_branch())
    User.objects.filter(pk=teller.pk).update(email="")
    client.force_login(admin_user)
    response = client.post(f"/admin/users/user/{teller.pk}/password/", {"idempotency_key": "k2"}, follow=True)
    assert "has no email address" in response.text
    assert not ApprovalRequest.objects.exists()
