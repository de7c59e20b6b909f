"""Guards on people's roles, and the audit of superuser sign-ins.

- No path (the admin, the shell, a data fix in code) gives a person a role
  combination that roles.refused_combination refuses: adding groups to a user, or
  users to a group, raises RoleConflict before anything is written.
- A superuser exists only when someone ran `createsuperuser` on the server; every
  time one signs in, the audit trail says so in its own event.
"""

from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import m2m_changed
from django.dispatch import receiver

from banking.audit.actions import record_event
from banking.audit.middleware import client_ip
from banking.core.errors import ValidationFailed

from .models import User
from .roles import Role, refused_combination


class RoleConflict(ValidationFailed):
    """A person would hold roles the bank keeps apart."""


def _role_names(group_ids):
    return set(Group.objects.filter(pk__in=group_ids).values_list("name", flat=True))


def _check(user_id, names):
    roles = {Role(name) for name in names if name in Role.values}
    reason = refused_combination(roles)
    if reason:
        raise RoleConflict(reason, user_id=user_id)


@receiver(m2m_changed, sender=User.groups.through, dispatch_uid="cbs_guard_role_combinations")
def guard_role_combinations(sender, instance, action, reverse, pk_set, **kwargs):
    if action != "pre_add" or not pk_set:
        return
    if not reverse:  # groups added to one user
        held = set(instance.groups.values_list("name", flat=True))
        _check(instance.pk, held | _role_names(pk_set))
        return
    # users added to one group
    for user in User.objects.filter(pk__in=pk_set).prefetch_related("groups"):
        _check(user.pk, {group.name for group in user.groups.all()} | {instance.name})


@receiver(user_logged_in, dispatch_uid="cbs_audit_superuser_login")
def audit_superuser_login(sender, request, user, **kwargs):
    if not user.is_superuser:
        return
    context = {}
    if request is not None:
        context = {"ip": client_ip(request), "user_agent": request.headers.get("User-Agent", "")[:300],
                   "request_id": getattr(request, "request_id", ""), "channel": "web"}
    record_event(
        action="auth.superuser_login", object_type="users.user", object_id=str(user.pk), actor=user,
        summary=f"Superuser {user.get_username()} signed in", after={"superuser": True}, **context,
    )
