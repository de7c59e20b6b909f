"""The bank's roles, as Django groups carrying permissions.

Portals and actions check permissions, never group names, so a role's reach is
decided here in one table. `sync_roles` runs after every migrate and keeps the
groups equal to this table.
"""

from django.db import models


class Role(models.TextChoices):
    TELLER = "teller", "Teller"
    SUPERVISOR = "supervisor", "Supervisor (head teller)"
    BRANCH_MANAGER = "branch_manager", "Branch manager"
    OPERATIONS = "operations", "Operations"
    COMPLIANCE = "compliance", "Compliance"
    AUDITOR = "auditor", "Auditor"
    ADMINISTRATOR = "administrator", "Administrator"
    CUSTOMER = "customer", "Customer"


# The first matching role names a person who holds several.
ROLE_PRECEDENCE = [
    Role.ADMINISTRATOR,
    Role.BRANCH_MANAGER,
    Role.SUPERVISOR,
    Role.TELLER,
    Role.OPERATIONS,
    Role.COMPLIANCE,
    Role.AUDITOR,
    Role.CUSTOMER,
]
STAFF_ROLES = frozenset(ROLE_PRECEDENCE) - {Role.CUSTOMER}

# Permissions granted per role, as "app_label.codename". The portal permissions are
# declared on users.User. Administrators are not superusers: they get the admin
# rights listed here and nothing at the counter.
ADMIN_MODEL_PERMISSIONS = [
    f"{app}.{verb}_{model}"
    for app, model, verbs in [
        ("users", "user", ("add", "change", "view")),
        ("users", "branch", ("add", "change", "view")),
        ("users", "staffprofile", ("add", "change", "view")),
        ("auth", "group", ("view",)),
        ("audit", "auditevent", ("view",)),
        ("payments", "channellimit", ("add", "change", "view")),
        ("payments", "bankbranch", ("add", "change", "view")),
    ]
    for verb in verbs
]
ROLE_PERMISSIONS = {
    Role.TELLER: ["users.access_teller_portal"],
    Role.SUPERVISOR: ["users.access_teller_portal", "users.access_supervisor_portal", "users.approve_requests",
                      "loans.sanction_up_to_10_lakh"],
    # Loan sanction authority by amount; above ₹1 crore it is the credit committee's
    # permission, given to its members directly (no role carries it).
    Role.BRANCH_MANAGER: ["users.access_teller_portal", "users.access_supervisor_portal", "users.approve_requests",
                          "loans.sanction_up_to_10_lakh", "loans.sanction_up_to_1_crore"],
    Role.OPERATIONS: ["users.access_ops_portal", "users.post_manual_journal", "users.operate_payments",
                      "core.retry_jobs",
                      "operations.run_end_of_day", "operations.manage_holidays", "partners.manage_partners",
                      "loans.manage_loan_products", "cards.operate_atms"],
    Role.COMPLIANCE: ["users.access_ops_portal", "users.view_compliance_reports"],
    Role.AUDITOR: ["users.access_ops_portal", "users.view_audit_trail"],
    Role.ADMINISTRATOR: ["users.access_ops_portal", "users.view_audit_trail", "users.manage_staff"]
    + ADMIN_MODEL_PERMISSIONS,
    Role.CUSTOMER: ["users.access_customer_portal"],
}

# Roles that approve or move money. An administrator manages the people who hold
# them and so may never hold one: whoever sets up staff cannot also approve a
# payment or take cash (segregation of duties).
MONEY_ROLES = frozenset({Role.TELLER, Role.SUPERVISOR, Role.BRANCH_MANAGER, Role.OPERATIONS})
# What those roles grant and an administrator's own role does not.
MONEY_PERMISSIONS = frozenset(
    name for role in MONEY_ROLES for name in ROLE_PERMISSIONS[role]
) - frozenset(ROLE_PERMISSIONS[Role.ADMINISTRATOR])


def refused_combination(roles):
    """Why a person may not hold all of `roles` together, or None when they may.

    The one place that decides it: the staff-change action, the guard on
    User.groups (signals.py) and the permission backend all ask here.
    """
    roles = {Role(role) for role in roles}
    if Role.ADMINISTRATOR in roles and roles & MONEY_ROLES:
        names = ", ".join(role.label.lower() for role in ROLE_PRECEDENCE if role in roles & MONEY_ROLES)
        return (f"An administrator cannot also be a {names}: whoever manages staff must not approve or move "
                "money.")
    return None


# Where each role lands after signing in.
ROLE_HOME = {
    Role.TELLER: "teller:home",
    Role.SUPERVISOR: "supervisor:home",
    Role.BRANCH_MANAGER: "supervisor:home",
    Role.OPERATIONS: "ops:home",
    Role.COMPLIANCE: "ops:home",
    Role.AUDITOR: "ops:home",
    Role.ADMINISTRATOR: "admin:index",
    Role.CUSTOMER: "customer:home",
}


def sync_roles_after_every_app(sender, **kwargs):
    """post_migrate's receiver. The signal is sent once per app, each app's permissions
    made at its own: the roles are synced at the last app's, once every permission exists
    (not once per app, which made each `flush` run it some thirty times)."""
    from django.apps import apps

    last = [config for config in apps.get_app_configs() if config.models_module is not None][-1]
    if sender is last:
        sync_roles()


def sync_roles(**kwargs):
    """Create the role groups and set their permissions to ROLE_PERMISSIONS."""
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.models import ContentType

    from .models import User

    user_type = ContentType.objects.get_for_model(User)
    for codename, name in User._meta.permissions:
        Permission.objects.get_or_create(content_type=user_type, codename=codename, defaults={"name": name})
    by_name = {
        f"{p.content_type.app_label}.{p.codename}": p for p in Permission.objects.select_related("content_type")
    }
    for role, names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role.value)
        group.permissions.set([by_name[name] for name in names if name in by_name])
