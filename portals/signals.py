import time

from allauth.mfa import signals as mfa_signals
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

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
