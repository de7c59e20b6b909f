"""The authenticator code that confirms a customer's sensitive steps (a new payee, a
larger payment, a collect request, a standing instruction)."""

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.urls import reverse

WRONG_CODE = "That authenticator code is not right, or it was used already. Enter the code your app shows now."


def code_problem(user, code):
    """None when `code` is a fresh code of the customer's authenticator app (allauth's
    own check: a code used before within its window is refused), else what to say."""
    authenticator = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if authenticator is None:
        return (f"Set up your authenticator app first, under Security ({reverse('mfa_activate_totp')}): "
                "its code confirms new payees and larger payments.")
    return None if TOTP(authenticator).validate_code(code) else WRONG_CODE
