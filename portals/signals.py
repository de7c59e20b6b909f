import time

from allauth.account import signals as account_signals
from allauth.account.adapter import get_adapter
from allauth.mfa import signals as mfa_signals
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from .credentials import READY_KEY
from .middleware import MFA_OK_KEY, SESSION_AUTH_AT, SESSION_LAST_SEEN


@receiver(user_logged_in)
def start_session_clock(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        now = int(time.time())
        request.session[SESSION_AUTH_AT] = now
        request.session[SESSION_LAST_SEEN] = now


@receiver(mfa_signals.authenticator_removed)
def forget_mfa_check(sender, request, **kwargs):
    if request is not None and hasattr(request, "session"):
        request.session.pop(MFA_OK_KEY, None)


@receiver(mfa_signals.authenticator_added)
def end_sign_in_setup(sender, request, authenticator, **kwargs):
    if request is not None and hasattr(request, "session") and authenticator.type == authenticator.Type.TOTP:
        request.session[READY_KEY] = True


@receiver(account_signals.email_added)
def tell_the_current_address(sender, request, user, email_address, **kwargs):
    """Someone asked to move the login to a new address: its current owner hears of
    it at once, before the new address is verified, and can call the bank."""
    current = (user.email or "").strip()
    if current and current.lower() != email_address.email.lower():
        get_adapter(request).send_notification_mail(
            "account/email/email_change_requested", user, {"new_email": email_address.email}, email=current)
