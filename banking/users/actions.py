"""Staff roles, branches, limits and credentials, through maker-checker.

Design overview
- Nobody changes a member of staff's roles, branch, approval limit or cash limit,
  or resets their credentials, on their own say: one administrator asks
  (`request_staff_change`, `request_credentials_reset`) and another approves in
  the operations portal. The checker permission is `users.manage_staff`; the
  requests belong to head office (branch None) and move no money (amount None).
- Never for oneself: the maker cannot ask about themselves, and the person a
  request is about can neither approve nor reject it (`approve_staff_request`,
  `reject_staff_request`; the handlers refuse too, as a second line).
- `change_staff_roles` and `reset_staff_credentials` do the work once approved;
  each locks the person's user row (`SELECT ... FOR UPDATE`) and writes its audit
  event in the same transaction. Roles are groups; `is_staff` (the admin site's
  door) follows the administrator role. An administrator never holds a role that
  approves or moves money (roles.refused_combination, also guarded on
  User.groups for every other path).
- A credentials reset makes the password unusable, ends every session of the
  person (through the session store, so the cache forgets them too), removes
  their authenticators so that they enrol again, and emails them a link to
  allauth's password reset once the transaction commits. No password or hash is
  ever put in a request's payload or an audit event.
- Refusals are BankingErrors in words for the person: NotPermitted (no right,
  oneself), ValidationFailed (bad roles, no branch, nothing to change, no email).
"""

from importlib import import_module

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import Group
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from banking.approvals.actions import approve_request, reject_request, submit_request
from banking.approvals.models import ApprovalRequest
from banking.audit.actions import record_event
from banking.core.errors import NotPermitted, ValidationFailed
from banking.core.money import format_money

from .models import Branch, StaffProfile, User
from .roles import ROLE_PRECEDENCE, STAFF_ROLES, Role, refused_combination

STAFF_CHANGE = "users.staff_change"
CREDENTIALS_RESET = "users.staff_credentials_reset"
STAFF_KINDS = (STAFF_CHANGE, CREDENTIALS_RESET)
CHECKER_PERMISSION = "users.manage_staff"
# Roles that work at a counter of one branch.
BRANCH_ROLES = frozenset({Role.TELLER, Role.SUPERVISOR, Role.BRANCH_MANAGER})
# In paise: ₹10 lakh crore, far above any limit a person is given, well inside the column.
LIMIT_MAX = 10**15


# -- roles, branch and limits ---------------------------------------------------


def current_access(person):
    """The person's roles, branch and limits as a request's payload holds them."""
    profile = getattr(person, "staff_profile", None)
    return {
        "roles": [role.value for role in person.roles],
        "branch": profile.branch.code if profile and profile.branch else None,
        "approval_limit": profile.approval_limit if profile else 0,
        "cash_limit": profile.cash_limit if profile else 0,
    }


def _clean_access(*, person, roles, branch, approval_limit, cash_limit):
    """The change in payload form, or ValidationFailed in words."""
    try:
        roles = {Role(role) for role in roles}
    except ValueError:
        raise ValidationFailed("Choose the person's roles from the bank's staff roles.") from None
    if not roles:
        raise ValidationFailed("Choose at least one role; to stop someone working, make their login inactive.")
    if not roles <= STAFF_ROLES:
        raise ValidationFailed("Only staff roles can be given here; customers are enrolled at the counter.")
    reason = refused_combination(roles)
    if reason:
        raise ValidationFailed(reason)
    if roles & BRANCH_ROLES and branch is None:
        raise ValidationFailed("A teller, supervisor or branch manager works at a branch: choose one.")
    for label, value in (("approval limit", approval_limit), ("cash limit", cash_limit)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= LIMIT_MAX:
            raise ValidationFailed(f"The {label} must be between zero and {format_money(LIMIT_MAX)}.")
    if getattr(person, "staff_profile", None) is None:
        raise ValidationFailed(f"{person.display_name} is not a member of staff.")
    return {
        "roles": [role.value for role in ROLE_PRECEDENCE if role in roles],
        "branch": branch.code if branch is not None else None,
        "approval_limit": approval_limit,
        "cash_limit": cash_limit,
    }


def _check_manager(actor, person, doing):
    if actor is None or not actor.is_authenticated or not actor.is_active or not actor.has_perm(CHECKER_PERMISSION):
        raise NotPermitted("Only an administrator can manage staff.")
    if actor.pk == person.pk:
        raise NotPermitted(f"You cannot {doing} yourself; another administrator must ask for it.")


def _describe_access(access):
    roles = ", ".join(Role(role).label for role in access.get("roles") or []) or "No role"
    branch = access.get("branch")
    if branch:
        found = Branch.objects.filter(code=branch).first()
        branch = str(found) if found else branch
    return roles, branch or "Head office"


def request_staff_change(*, actor, person, roles, branch, approval_limit, cash_limit, idempotency_key=""):
    """Ask for `person`'s roles, branch and limits (in paise) to become these; returns
    the ApprovalRequest another administrator decides. Locks nothing."""
    _check_manager(actor, person, "change the roles or limits of")
    change = _clean_access(person=person, roles=roles, branch=branch, approval_limit=approval_limit,
                           cash_limit=cash_limit)
    before = current_access(person)
    if change == before:
        raise ValidationFailed(f"{person.display_name} already has these roles, branch and limits; "
                               "nothing was sent.")
    role_text, branch_text = _describe_access(change)
    summary = (f"{person.display_name}: {role_text} at {branch_text}, approval limit "
               f"{format_money(approval_limit)}, cash limit {format_money(cash_limit)}")
    payload = {"person_id": person.pk, "username": person.get_username(), "name": person.display_name,
               **change, "before": before}
    return submit_request(actor=actor, kind=STAFF_CHANGE, payload=payload, amount=None, branch=None,
                          summary=summary, idempotency_key=idempotency_key)


@transaction.atomic
def change_staff_roles(*, actor, person, roles, branch, approval_limit, cash_limit):
    """Give `person` these roles (groups), branch and limits (paise); returns the person.

    Called when a second administrator approves a staff change. Locks the person's
    user row. `is_staff` follows the administrator role (the admin site needs it).
    """
    _check_manager(actor, person, "change the roles or limits of")
    person = User.objects.select_for_update().get(pk=person.pk)
    change = _clean_access(person=person, roles=roles, branch=branch, approval_limit=approval_limit,
                           cash_limit=cash_limit)
    before = current_access(person)
    groups = list(Group.objects.filter(name__in=change["roles"]))
    # Remove first, then add, so the guard on User.groups judges the new set alone.
    person.groups.clear()
    person.groups.add(*groups)
    person.is_staff = Role.ADMINISTRATOR.value in change["roles"]
    person.save(update_fields=["is_staff"])
    StaffProfile.objects.filter(user=person).update(
        branch=branch, approval_limit=approval_limit, cash_limit=cash_limit,
    )
    for cached in ("_grants", "roles", "branch", "staff_profile"):
        person.__dict__.pop(cached, None)
    person._state.fields_cache.pop("staff_profile", None)
    role_text, branch_text = _describe_access(change)
    record_event(
        action="users.staff_changed", obj=person, actor=actor,
        summary=f"{person.display_name} is now {role_text} at {branch_text}",
        before=before, after={**change, "is_staff": person.is_staff},
    )
    return person


def _person(payload, checker):
    person = User.objects.filter(pk=payload.get("person_id")).select_related("staff_profile").first()
    if person is None:
        raise ValidationFailed("The person this request is about no longer has a login.")
    if checker.pk == person.pk:
        raise NotPermitted("This request is about you, so another administrator must decide it.")
    return person


def apply_staff_change(approval, checker):
    """The approval handler of STAFF_CHANGE."""
    payload = approval.payload
    person = _person(payload, checker)
    branch = None
    if payload.get("branch"):
        branch = Branch.objects.filter(code=payload["branch"]).first()
        if branch is None:
            raise ValidationFailed(f"Branch {payload['branch']} no longer exists.")
    change_staff_roles(actor=checker, person=person, roles=payload.get("roles") or [], branch=branch,
                       approval_limit=payload.get("approval_limit"), cash_limit=payload.get("cash_limit"))
    return {"person_id": person.pk}


def describe_staff_change(payload):
    role_text, branch_text = _describe_access(payload)
    before = payload.get("before") or {}
    old_roles, old_branch = _describe_access(before)
    return [
        ("Person", f"{payload.get('name', '')} ({payload.get('username', '')})"),
        ("Roles", f"{role_text} (now {old_roles})"),
        ("Branch", f"{branch_text} (now {old_branch})"),
        ("Approval limit", f"{format_money(payload.get('approval_limit') or 0)} "
                           f"(now {format_money(before.get('approval_limit') or 0)})"),
        ("Cash limit", f"{format_money(payload.get('cash_limit') or 0)} "
                       f"(now {format_money(before.get('cash_limit') or 0)})"),
    ]


# -- credentials ------------------------------------------------------------------


def is_customer_login(person):
    """A customer's login (and no staff role): its credentials are the customer's alone."""
    return Role.CUSTOMER in person.roles and not person.is_bank_staff


def _check_resettable(person, nothing):
    if is_customer_login(person):
        raise ValidationFailed("Customers reset their own password from the sign-in page; staff never set it.")
    if not person.is_bank_staff and getattr(person, "staff_profile", None) is None:
        raise ValidationFailed(f"{person.display_name} is not a member of staff.")
    if not person.email:
        raise ValidationFailed(f"{person.display_name} has no email address, so the link to choose a new "
                               f"password could not reach them. {nothing}")


def request_credentials_reset(*, actor, person, idempotency_key=""):
    """Ask for `person`'s password and authenticators to be reset; returns the
    ApprovalRequest another administrator decides. Locks nothing."""
    _check_manager(actor, person, "reset the password of")
    _check_resettable(person, "Nothing was sent.")
    payload = {"person_id": person.pk, "username": person.get_username(), "name": person.display_name,
               "email": person.email}
    return submit_request(actor=actor, kind=CREDENTIALS_RESET, payload=payload, amount=None, branch=None,
                          summary=f"Reset the password and authenticator of {person.display_name}",
                          idempotency_key=idempotency_key)


@transaction.atomic
def reset_staff_credentials(*, actor, person):
    """Make `person`'s password unusable, end their sessions, remove their
    authenticators and, once committed, email them a link to choose a new password.
    Returns what was done, in counts. Locks the person's user row.

    The link comes from allauth's password reset; it is built from the request
    being served (allauth's context), so call this while serving one.
    """
    from allauth.mfa.models import Authenticator

    _check_manager(actor, person, "reset the password of")
    person = User.objects.select_for_update().get(pk=person.pk)
    _check_resettable(person, "Nothing was changed.")
    person.set_unusable_password()
    person.save(update_fields=["password"])
    sessions = end_sessions(person)
    authenticators = Authenticator.objects.filter(user=person)
    removed = sorted(authenticators.values_list("type", flat=True))
    authenticators.delete()
    link = password_reset_link(person)
    record_event(
        action="users.credentials_reset", obj=person, actor=actor,
        summary=f"Password and authenticators of {person.display_name} reset; a link went to their email",
        after={"sessions_ended": sessions, "authenticators_removed": removed, "email": person.email},
    )
    name, email = person.display_name, person.email
    transaction.on_commit(lambda: _send_reset_mail(name, email, link))
    return {"sessions_ended": sessions, "authenticators_removed": len(removed)}


def end_sessions(person):
    """Delete every live session of `person` through the session store (the cache
    too); returns how many. Sessions last 12 hours at most, so the table holds
    only the day's sign-ins."""
    from django.contrib.sessions.models import Session

    store = import_module(settings.SESSION_ENGINE).SessionStore
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.get_decoded().get(SESSION_KEY) == str(person.pk):
            store(session_key=session.session_key).delete()
            ended += 1
    return ended


def password_reset_link(person):
    """allauth's link for `person` to choose a new password (valid until used or
    until the password changes)."""
    from allauth.account.adapter import get_adapter
    from allauth.account.forms import default_token_generator
    from allauth.account.utils import user_pk_to_url_str

    key = f"{user_pk_to_url_str(person)}-{default_token_generator.make_token(person)}"
    return get_adapter().get_reset_password_from_key_url(key)


def _send_reset_mail(name, email, link):
    send_mail(
        subject="CBS Bank: choose a new password",
        message=(
            f"Dear {name},\n\n"
            "An administrator of CBS Bank reset your sign-in, with a second administrator's approval. "
            "Your old password no longer works, you were signed out everywhere and your authenticator "
            "app was removed.\n\n"
            f"Choose a new password here:\n{link}\n\n"
            "When you next sign in you will be asked to set up your authenticator app again.\n"
            "If you did not expect this, tell the bank's security team at once.\n"
        ),
        from_email=None,
        recipient_list=[email],
    )


def apply_credentials_reset(approval, checker):
    """The approval handler of CREDENTIALS_RESET."""
    person = _person(approval.payload, checker)
    return reset_staff_credentials(actor=checker, person=person)


def describe_credentials_reset(payload):
    return [
        ("Person", f"{payload.get('name', '')} ({payload.get('username', '')})"),
        ("What happens", "Their password stops working, they are signed out everywhere, their authenticator "
                         "is removed, and a link to choose a new password goes to their email."),
        ("Link goes to", payload.get("email", "")),
    ]


# -- deciding ---------------------------------------------------------------------


def _check_not_subject(actor, request_id):
    approval = ApprovalRequest.objects.filter(pk=request_id, kind__in=STAFF_KINDS).first()
    if approval is None:
        raise ValidationFailed("There is no such staff request.")
    if actor is not None and approval.payload.get("person_id") == actor.pk:
        raise NotPermitted("This request is about you, so another administrator must decide it.")


def approve_staff_request(*, actor, request_id):
    """approvals' approve_request, refused to the person the request is about.
    Opens its transaction inside, as approve_request does."""
    _check_not_subject(actor, request_id)
    return approve_request(actor=actor, request_id=request_id)


def reject_staff_request(*, actor, request_id, reason):
    """approvals' reject_request, refused to the person the request is about."""
    _check_not_subject(actor, request_id)
    return reject_request(actor=actor, request_id=request_id, reason=reason)
