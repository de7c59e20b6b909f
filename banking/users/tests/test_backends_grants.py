"""The role backend reads a signed-in user and their grants in one statement."""

import pytest
from django.contrib.auth.models import Permission

from banking.testing import make_user
from banking.users.backends import RoleBackend
from banking.users.roles import Role

pytestmark = pytest.mark.django_db


def test_the_signed_in_user_comes_with_roles_and_permissions(django_assert_num_queries):
    teller = make_user(Role.TELLER, username="grants.teller")
    teller.user_permissions.add(Permission.objects.get(codename="view_audit_trail"))
    user = RoleBackend().get_user(teller.pk)
    with django_assert_num_queries(0):
        assert user.role == Role.TELLER
        assert user.has_perm("users.view_audit_trail")
        assert user.has_perm("users.access_teller_portal") and not user.has_perm("users.access_ops_portal")
    fresh = type(teller).objects.get(pk=teller.pk)  # the lazy path reads the same grants
    assert (fresh.roles, fresh.direct_permissions) == (user.roles, {"users.view_audit_trail"})


def test_no_user_and_an_inactive_user_are_not_signed_in():
    teller = make_user(Role.TELLER, username="grants.gone")
    assert RoleBackend().get_user(teller.pk + 1000) is None
    type(teller).objects.filter(pk=teller.pk).update(is_active=False)
    assert RoleBackend().get_user(teller.pk) is None
