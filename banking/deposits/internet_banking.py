"""Internet banking for a customer: the login, and its one-time activation link.

Design overview
- A teller enables internet banking from customer 360 (`enable_internet_banking`).
  That creates a login in the "customer" role (or links the customer's existing
  customer login), named by the CIF, with no usable password, links it through
  `Customer.user`, and emails a one-time activation link valid for 24 hours.
- The link is a signed, timestamped token (django.core.signing) carrying the user's
  id and a fingerprint of the login's state (password hash, last sign-in, active
  flag). Setting the password changes the state, so a used link no longer matches;
  issuing a new link resets the password to a fresh unusable one, so an older link
  stops working too. An expired link and a used one get different messages.
- `activate_internet_banking` checks the token again under a row lock on the user,
  validates the password against the bank's rules (AUTH_PASSWORD_VALIDATORS, OWASP
  ASVS level 2) and sets it. The portal then signs the customer in and sends them to
  set up their authenticator app (allauth's TOTP flow).
- This lives with deposits, not customers, because what the login opens is the
  customer's deposit accounts; the customers module owns the CIF and KYC.

Locks: the Customer row (enable) or the User row (activate), FOR UPDATE.
Audited: deposits.internet_banking_enabled, deposits.internet_banking_activated.
"""

import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils.crypto import constant_time_compare, salted_hmac

from banking.audit.actions import record_event
from banking.core.errors import NotPermitted, ValidationFailed
from banking.users.roles import Role

LINK_LIFETIME = datetime.timedelta(hours=24)
SALT = "cbs.deposits.internet-banking-activation"


class ActivationLinkInvalid(ValidationFailed):
    default_message = "This activation link is not valid. Ask your branch for a new one."


class ActivationLinkExpired(ActivationLinkInvalid):
    default_message = "This activation link has expired: links last 24 hours. Ask your branch to send a new one."


class ActivationLinkUsed(ActivationLinkInvalid):
    default_message = ("This activation link has already been used, or a newer one was sent. "
                       "Sign in with your password, or ask your branch for a new link.")


def _state(user):
    last = user.last_login.replace(microsecond=0).isoformat() if user.last_login else ""
    return salted_hmac(SALT, f"{user.pk}|{user.password}|{last}|{user.is_active}", algorithm="sha256").hexdigest()[:32]


def make_activation_token(user):
    return signing.dumps({"u": user.pk, "s": _state(user)}, salt=SALT, compress=True)


def read_activation_token(token, *, lock=False):
    """The user the token was issued to, or one of the ActivationLink* refusals."""
    try:
        data = signing.loads(token, salt=SALT, max_age=LINK_LIFETIME)
    except signing.SignatureExpired:
        raise ActivationLinkExpired() from None
    except signing.BadSignature:
        raise ActivationLinkInvalid() from None
    users = get_user_model().objects
    if lock:
        users = users.select_for_update()
    user = users.filter(pk=data.get("u"), is_active=True).first()
    if user is None or not hasattr(user, "customer"):
        raise ActivationLinkInvalid()
    if not constant_time_compare(_state(user), data.get("s", "")):
        raise ActivationLinkUsed()
    return user


def has_internet_banking(customer):
    return customer.user_id is not None


def is_activated(customer):
    return customer.user_id is not None and customer.user.has_usable_password()


@transaction.atomic
def enable_internet_banking(*, actor, customer, link_for):
    """Create or link the customer's login and email a fresh activation link.

    `link_for(token)` turns the token into the absolute URL the customer opens (the
    portal knows its own address). A login that has already been activated is not
    reset here. Locks the Customer row. Returns the User.
    """
    from banking.customers.models import Customer

    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if not customer.is_kyc_verified:
        raise NotPermitted(f"{customer.display_name} is not KYC-verified yet; internet banking waits for that.")
    email = (customer.email or "").strip()
    if not email:
        raise ValidationFailed("Record the customer's email address first: the activation link is sent there.")
    users = get_user_model().objects
    user = customer.user
    if user is not None and user.has_usable_password():
        raise ValidationFailed(f"Internet banking is already active for {customer.display_name}.")
    if user is None:
        taken = ValidationFailed(f"The email address {email} belongs to another login; "
                                 "record the customer's own address first.")
        user = users.filter(email__iexact=email).first()
        if user is not None and (user.is_bank_staff or hasattr(user, "customer")):
            raise taken
        if user is None:
            try:
                # Its own savepoint: another customer with this address, enabled at
                # the same moment, meets this one at the unique index on the email.
                with transaction.atomic():
                    user = users.create_user(username=customer.cif, email=email, first_name=customer.first_name,
                                             last_name=customer.last_name or customer.legal_name[:150])
            except IntegrityError:
                if users.filter(email__iexact=email).exists():
                    raise taken from None
                raise
    user.groups.set([Group.objects.get(name=Role.CUSTOMER.value)])
    user.is_active = True
    # A fresh unusable password makes every earlier link stale.
    user.set_unusable_password()
    user.save()
    customer.user = user
    customer.save(update_fields=["user"])
    link = link_for(make_activation_token(user))
    record_event(action="deposits.internet_banking_enabled", obj=customer, actor=actor,
                 summary=f"Internet banking activation link sent to {mask_email(email)}",
                 after={"user": user.pk, "username": user.username})
    bank = settings.CBS_BANK_NAME
    body = (
        f"Dear {customer.display_name},\n\n"
        f"Internet banking with {bank} has been set up for you. Your username is {user.username}.\n\n"
        f"Open this link within 24 hours to choose your password and set up your authenticator app:\n\n"
        f"{link}\n\n"
        "The link works once. If you did not ask for internet banking, do not open it; call your branch.\n\n"
        f"{bank}"
    )
    transaction.on_commit(lambda: send_mail(f"{bank}: activate your internet banking", body, None, [email]))
    return user


@transaction.atomic
def activate_internet_banking(*, token, password):
    """Set the customer's first password through the one-time link. Locks the User.
    Raises ActivationLink* or ValidationFailed with the password rules' messages."""
    user = read_activation_token(token, lock=True)
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise ValidationFailed(" ".join(error.messages)) from None
    user.set_password(password)
    user.save(update_fields=["password"])
    record_event(action="deposits.internet_banking_activated", obj=user, actor=user,
                 summary="Internet banking activated; password chosen")
    return user


def mask_email(email):
    name, _, domain = email.partition("@")
    return f"{name[:2]}{'*' * max(len(name) - 2, 1)}@{domain}"
