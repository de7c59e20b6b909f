"""Group permissions from the role table: the same answers as the database gives,
one query fewer."""

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission

from banking.testing import make_user
from banking.users.backends import RoleBackend
from banking.users.models import User
from banking.users.roles import Role

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", list(Role))
def test_role_permissions_match_what_the_groups_hold_in_the_database(role):
    user = make_user(role, mfa=False)
    from_table = RoleBackend().get_all_permissions(User.objects.get(pk=user.pk))
    from_database = ModelBackend().get_all_permissions(User.objects.get(pk=user.pk))
    assert from_table == from_database and from_table


def test_a_permission_given_to_the_user_directly_still_counts(django_assert_num_queries):
    user = make_user(Role.TELLER, mfa=False)
    user.user_permissions.add(Permission.objects.get(codename="view_compliance_reports"))
    fresh = User.objects.get(pk=user.pk)
    fresh.roles  # noqa: B018 read once per request by the audit trail
    with django_assert_num_queries(0):  # read with the roles; the groups' permissions come from the table
        assert fresh.has_perm("users.view_compliance_reports") and fresh.has_perm("users.access_teller_portal")
    assert not fresh.has_perm("users.approve_requests")
