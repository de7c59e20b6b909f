"""People and branches.

`User` is the login for staff and customers alike; its role comes from its group
(see roles.py). Staff carry a `StaffProfile` with their branch, employee id and
the amount up to which they may approve queued work.
"""

import functools

from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.functional import cached_property

from banking.core.identifiers import IFSC_RE

from .roles import ROLE_PRECEDENCE, STAFF_ROLES, Role


class Branch(models.Model):
    code = models.CharField(max_length=6, unique=True, help_text="Six-digit branch code, the tail of the IFSC.")
    name = models.CharField(max_length=120)
    ifsc = models.CharField(
        "IFSC", max_length=11, unique=True, validators=[RegexValidator(IFSC_RE, "Enter a valid IFSC.")]
    )
    address = models.TextField()
    city = models.CharField(max_length=80)
    state = models.CharField(max_length=80)
    pincode = models.CharField(max_length=6)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "branches"

    def __str__(self):
        return f"{self.name} ({self.code})"


class User(AbstractUser):
    email = models.EmailField("email address", blank=True)
    mobile = models.CharField(max_length=15, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_unique_ci", condition=~models.Q(email="")),
        ]
        permissions = [
            ("access_teller_portal", "Can use the teller portal"),
            ("access_supervisor_portal", "Can use the supervisor portal"),
            ("access_customer_portal", "Can use internet banking"),
            ("access_ops_portal", "Can use the operations portal"),
            ("approve_requests", "Can approve queued requests"),
            ("post_manual_journal", "Can enter manual journals"),
            ("operate_payments", "Can run payment batches, reconciliation and the clearing simulator"),
            ("view_compliance_reports", "Can view compliance reports"),
            ("view_audit_trail", "Can browse the audit trail"),
            ("manage_staff", "Can manage staff and roles"),
        ]

    @cached_property
    def _grants(self):
        """(group names, permissions given to the user directly as "app.codename"),
        read in one query: every signed-in request needs the first (the audit trail
        records the role) and every permission check the second. A user signed in
        through the role backend comes with both, read with the user (`with_grants`)."""
        if self.pk is None:
            return set(), set()
        if "cbs_grants" in self.__dict__:
            groups, permissions = self.__dict__.pop("cbs_grants")
            return set(groups), set(permissions)
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {grants_sql('%s')}", [self.pk, self.pk])  # noqa: S608 names from the models
            groups, permissions = cursor.fetchone()
        return set(groups), set(permissions)

    @classmethod
    def with_grants(cls, pk, *, also=None):
        """The user `pk` (None if there is none) with their grants, in one prepared
        statement: the first query of every signed-in request. `also`: a model with a
        one-to-one `user` field (the customer record, for the API), read in the same
        statement and cached on the user (None when the user has none)."""
        from banking.core.db import execute_prepared, from_row

        rows = execute_prepared(_user_sql(also), [pk])
        if not rows:
            return None
        user, groups, permissions, *rest = from_row(rows[0], cls)
        user.__dict__["cbs_grants"] = groups, permissions
        if also is not None:
            link = also._meta.get_field("user")
            found = from_row(rest, also)[0] if rest[0] is not None else None
            link.remote_field.set_cached_value(user, found)
            if found is not None:
                link.set_cached_value(found, user)
        return user

    @cached_property
    def roles(self):
        names = self._grants[0]
        return [role for role in ROLE_PRECEDENCE if role.value in names]

    @property
    def direct_permissions(self):
        return self._grants[1]

    @property
    def role(self):
        """The person's main role, or None for a login without one."""
        return self.roles[0] if self.roles else None

    @property
    def role_label(self):
        return self.role.label if self.role else "No role"

    @property
    def is_bank_staff(self):
        return any(role in STAFF_ROLES for role in self.roles)

    @property
    def display_name(self):
        return self.get_full_name() or self.username

    @cached_property
    def branch(self):
        profile = getattr(self, "staff_profile", None)
        return profile.branch if profile else None


class StaffProfile(models.Model):
    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="staff_profile")
    employee_id = models.CharField(max_length=12, unique=True)
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="staff", null=True, blank=True)
    designation = models.CharField(max_length=80, blank=True)
    # In paise. A checker may approve a request only up to this amount.
    approval_limit = models.BigIntegerField(default=0)
    # In paise. Cash over this in one transaction needs a supervisor's approval.
    cash_limit = models.BigIntegerField(default=2_00_000_00)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(approval_limit__gte=0), name="staff_approval_limit_nonneg"),
            models.CheckConstraint(condition=models.Q(cash_limit__gte=0), name="staff_cash_limit_nonneg"),
        ]

    def __str__(self):
        return f"{self.employee_id} {self.user.display_name}"


__all__ = ["Branch", "Role", "StaffProfile", "User"]


def grants_sql(user_id):
    """Two arrays, the names of a user's groups and their direct permissions
    ("app.codename"), for the user whose id is the SQL `user_id`."""
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.models import ContentType

    groups, permissions = User.groups.through._meta.db_table, User.user_permissions.through._meta.db_table
    return (f"ARRAY(SELECT g.name FROM {Group._meta.db_table} g JOIN {groups} ug ON ug.group_id = g.id"  # noqa: S608
            f" WHERE ug.user_id = {user_id}),"
            f" ARRAY(SELECT ct.app_label || '.' || p.codename FROM {Permission._meta.db_table} p"
            f" JOIN {permissions} up ON up.permission_id = p.id"
            f" JOIN {ContentType._meta.db_table} ct ON ct.id = p.content_type_id WHERE up.user_id = {user_id})")


@functools.cache
def _user_sql(also=None):
    from banking.core.db import columns_of

    if also is None:
        return f"SELECT {columns_of(User, 'u')}, {grants_sql('u.id')} FROM {User._meta.db_table} u WHERE u.id = %s"  # noqa: S608
    column = also._meta.get_field("user").column
    return (f"SELECT {columns_of(User, 'u')}, {grants_sql('u.id')}, {columns_of(also, 'a')}"  # noqa: S608 names
            f" FROM {User._meta.db_table} u LEFT JOIN {also._meta.db_table} a ON a.{column} = u.id WHERE u.id = %s")
