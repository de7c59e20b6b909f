"""Access policies: every portal view carries exactly one.

A policy decides who may call a view:
- anonymous visitors are sent to sign in (HTMX requests get HX-Redirect, see
  middleware.HtmxAuthRedirectMiddleware);
- signed-in people without the permission get the 403 page.

`checks.check_view_policies` fails `manage.py check` (and so the test suite and
the server's start) for any portal view without a policy, and applying a second
policy to a view raises at import time.
"""

from dataclasses import dataclass
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ImproperlyConfigured, PermissionDenied


@dataclass(frozen=True)
class Policy:
    name: str
    permissions: tuple = ()
    anonymous: bool = False
    reason: str = ""

    def allows(self, user):
        if self.anonymous:
            return True
        if not user.is_authenticated or not user.is_active:
            return False
        return all(user.has_perm(p) for p in self.permissions)


def _apply(policy):
    def decorator(view):
        if hasattr(view, "access_policy"):
            raise ImproperlyConfigured(f"{view.__module__}.{view.__name__} has more than one access policy")

        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not policy.anonymous:
                if not request.user.is_authenticated:
                    return redirect_to_login(request.get_full_path())
                if not policy.allows(request.user):
                    raise PermissionDenied(f"{policy.name} policy")
            return view(request, *args, **kwargs)

        wrapper.access_policy = policy
        return wrapper

    return decorator


def public(reason):
    """Open to anyone, signed in or not. `reason` says why, for reviewers."""
    if not reason:
        raise ImproperlyConfigured("A public view must say why it is public")
    return _apply(Policy("public", anonymous=True, reason=reason))


signed_in = _apply(Policy("signed_in"))


def requires(*permissions, name=None):
    return _apply(Policy(name or "requires " + ",".join(permissions), permissions=tuple(permissions)))


def teller(view):
    """Tellers, supervisors and branch managers at the counter."""
    return requires("users.access_teller_portal", name="teller")(view)


def supervisor(view):
    """Supervisors (head tellers) and branch managers."""
    return requires("users.access_supervisor_portal", name="supervisor")(view)


def customer(view):
    """Customers of the bank in internet banking. Queries must still start from
    the customer's own records."""
    return requires("users.access_customer_portal", name="customer")(view)


def operations(view):
    """Operations, compliance, audit and administrators."""
    return requires("users.access_ops_portal", name="operations")(view)


def auditor(view):
    """Auditors and administrators."""
    return requires("users.access_ops_portal", "users.view_audit_trail", name="auditor")(view)


def ops_journal(view):
    """Operations staff who may enter manual journals."""
    return requires("users.access_ops_portal", "users.post_manual_journal", name="ops_journal")(view)


def ops_payments(view):
    """Operations staff who run NEFT batches, reconciliation and the clearing simulator."""
    return requires("users.access_ops_portal", "users.operate_payments", name="ops_payments")(view)


def staff_admin(view):
    """Administrators managing staff: roles, branches, limits and password resets."""
    return requires("users.access_ops_portal", "users.manage_staff", name="staff_admin")(view)


def ops_end_of_day(view):
    """Operations staff who start end of day."""
    return requires("users.access_ops_portal", "operations.run_end_of_day", name="ops_end_of_day")(view)


def ops_holidays(view):
    """Operations staff who ask for bank holidays and approve one another's."""
    return requires("users.access_ops_portal", "operations.manage_holidays", name="ops_holidays")(view)


def ops_jobs(view):
    """Operations staff who send failed background jobs back to the queue."""
    return requires("users.access_ops_portal", "core.retry_jobs", name="ops_jobs")(view)


def ops_partners(view):
    """Operations staff who issue, rotate and revoke partner API keys (maker-checker
    between two of them) and replay webhook deliveries."""
    return requires("users.access_ops_portal", "partners.manage_partners", name="ops_partners")(view)


def ops_atms(view):
    """Operations staff who acknowledge ATM alerts and drive the ATM simulator."""
    return requires("users.access_ops_portal", "cards.operate_atms", name="ops_atms")(view)
