"""Sign-in events into the audit trail: login, logout, failed login, MFA added,
removed, used or failed, password changed, set or reset."""

from allauth.account import signals as account_signals
from allauth.mfa import signals as mfa_signals
from django.contrib.auth import signals as auth_signals
from django.dispatch import receiver

from .actions import record_event
from .middleware import client_ip


def _request_context(request):
    if request is None:
        return {}
    return {
        "ip": client_ip(request),
        "user_agent": request.headers.get("User-Agent", "")[:300],
        "request_id": getattr(request, "request_id", ""),
        "channel": "web",
    }


def _user_event(action, request, user, summary="", after=None):
    record_event(
        action=action,
        object_type="users.user",
        object_id=str(user.pk) if user else "",
        summary=summary or (f"{action} {user.get_username()}" if user else action),
        after=after,
        actor=user,
        **_request_context(request),
    )


@receiver(auth_signals.user_logged_in)
def on_login(sender, request, user, **kwargs):
    _user_event("auth.login", request, user)


@receiver(auth_signals.user_logged_out)
def on_logout(sender, request, user, **kwargs):
    if user is not None:
        _user_event("auth.logout", request, user)


@receiver(auth_signals.user_login_failed)
def on_login_failed(sender, credentials, request=None, **kwargs):
    # The password is never recorded; the login that was tried is.
    tried = str(credentials.get("username") or credentials.get("email") or "")[:150]
    record_event(
        action="auth.login_failed",
        object_type="users.user",
        summary=f"Failed sign-in for {tried!r}",
        after={"login": tried},
        **_request_context(request),
    )


@receiver(account_signals.password_changed)
def on_password_changed(sender, request, user, **kwargs):
    _user_event("auth.password_changed", request, user)


@receiver(account_signals.password_set)
def on_password_set(sender, request, user, **kwargs):
    _user_event("auth.password_set", request, user)


@receiver(account_signals.password_reset)
def on_password_reset(sender, request, user, **kwargs):
    _user_event("auth.password_reset", request, user)


@receiver(mfa_signals.authenticator_added)
def on_mfa_added(sender, request, user, authenticator, **kwargs):
    _user_event("mfa.added", request, user, summary=f"{authenticator.type} added", after={"type": authenticator.type})


@receiver(mfa_signals.authenticator_removed)
def on_mfa_removed(sender, request, user, authenticator, **kwargs):
    _user_event(
        "mfa.removed", request, user, summary=f"{authenticator.type} removed", after={"type": authenticator.type}
    )


@receiver(mfa_signals.authenticator_reset)
def on_mfa_reset(sender, request, user, authenticator, **kwargs):
    _user_event("mfa.reset", request, user, summary=f"{authenticator.type} reset", after={"type": authenticator.type})


@receiver(mfa_signals.authentication_failed)
def on_mfa_failed(sender, request, user, authenticator, **kwargs):
    _user_event("mfa.failed", request, user, summary="Wrong authenticator code", after={"type": authenticator.type})
