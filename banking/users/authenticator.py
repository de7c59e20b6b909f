"""The authenticator code that confirms a customer's sensitive steps: a new payee, a
larger payment, a standing instruction, a loan payment, a card's PIN. One check for
all of them: allauth's TOTP, which refuses a code already used within its window."""

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.urls import reverse

from banking.core.errors import NotPermitted, ValidationFailed

WRONG_CODE = "That authenticator code is not right, or it was used already. Enter the code your app shows now."


def _authenticator(user):
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()


def code_problem(user, code, *, confirms="new payees and larger payments"):
    """None when `code` is a fresh code of the user's authenticator app, else what to
    say; `confirms` names what the code confirms, for a user who has no app yet."""
    authenticator = _authenticator(user)
    if authenticator is None:
        return (f"Set up your authenticator app first, under Security ({reverse('mfa_activate_totp')}): "
                f"its code confirms {confirms}.")
    code = str(code or "").strip()
    return None if code and TOTP(authenticator).validate_code(code) else WRONG_CODE


def require_code(user, code, *, confirms):
    """`code_problem` as an error: NotPermitted without an app, ValidationFailed for a
    wrong or used code."""
    problem = code_problem(user, code, confirms=confirms)
    if problem == WRONG_CODE:
        raise ValidationFailed(problem)
    if problem is not None:
        raise NotPermitted(problem)
