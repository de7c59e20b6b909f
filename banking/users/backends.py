"""Authentication and permissions for the bank's staff and customers."""

from django.contrib.auth.backends import ModelBackend

from .roles import MONEY_PERMISSIONS, ROLE_PERMISSIONS, Role


class RoleBackend(ModelBackend):
    """Django's ModelBackend, with group permissions read from the role table.

    `sync_roles` keeps every role group's permissions equal to ROLE_PERMISSIONS
    after each migrate, and no one edits groups by hand (administrators may only
    view them), so a user's group permissions follow from the names of their groups.
    `user.roles` reads those names once per request (the audit trail needs them
    anyway), in the same query as the permissions given to the user directly
    (`User._grants`); a permission check then costs no query of its own.

    An administrator never holds a permission that approves or moves money
    (roles.MONEY_PERMISSIONS), whether from a group or given directly, even if the
    database was edited by hand past the guard on User.groups.
    """

    def get_user(self, user_id):
        """The signed-in user with their roles and permissions, in one statement
        (`User.with_grants`): a permission check then asks nothing more."""
        from .models import User

        user = User.with_grants(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None

    def get_user_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None or user_obj.is_superuser:
            return super().get_user_permissions(user_obj, obj)
        return _without_money_for_administrators(user_obj, user_obj.direct_permissions)

    def get_group_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None or user_obj.is_superuser:
            return super().get_group_permissions(user_obj, obj)
        if not hasattr(user_obj, "_group_perm_cache"):
            names = {name for role in user_obj.roles for name in ROLE_PERMISSIONS[role]}
            user_obj._group_perm_cache = _without_money_for_administrators(user_obj, names)
        return user_obj._group_perm_cache


def _without_money_for_administrators(user, names):
    if Role.ADMINISTRATOR in user.roles:
        return set(names) - MONEY_PERMISSIONS
    return names
