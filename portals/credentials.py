"""Credentials: confirming who you are before changing one, and where a reset goes.

Whoever holds a signed-in session could otherwise add their own email address and
reset the password to it, and keep the login for good. So the email page, the
password pages and the authenticator pages first ask for the password, plus the
authenticator code where the person has one, unless both were given within
ACCOUNT_REAUTHENTICATION_TIMEOUT (signing in counts). allauth's own
reauthentication takes either one; a bank asks for both.
"""

import time

from allauth.account.forms import ChangePasswordForm as AllauthChangePasswordForm
from allauth.account.forms import ResetPasswordForm as AllauthResetPasswordForm
from allauth.account.forms import ResetPasswordKeyForm as AllauthResetPasswordKeyForm
from allauth.account.internal.flows.login import get_authentication_records
from allauth.account.internal.flows.reauthentication import reauthenticate_by_password
from allauth.account.models import EmailAddress
from allauth.core import ratelimit
from allauth.mfa.base.forms import ReauthenticateForm
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.views import ViewRecoveryCodesView
from django import forms
from django.conf import settings
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import resolve, reverse
from django.urls.exceptions import Resolver404
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_GET, require_http_methods

from .policies import signed_in

# The pages that change how a person signs in or recovers their login.
GUARDED_URL_NAMES = frozenset({
    "account_email",
    "account_change_password",
    "account_set_password",
    "mfa_activate_totp",
    "mfa_deactivate_totp",
    "mfa_generate_recovery_codes",
})


def has_totp(user):
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def recently_confirmed(request):
    """The password, and the code for someone with an authenticator, were both given
    in this session within the reauthentication timeout."""
    horizon = time.time() - settings.ACCOUNT_REAUTHENTICATION_TIMEOUT
    recent = {record.get("method") for record in get_authentication_records(request, request.user)
              if isinstance(record, dict) and isinstance(record.get("at"), int | float) and record["at"] >= horizon}
    return "password" in recent and ("mfa" in recent or not has_totp(request.user))


def _url_name(request):
    try:
        return resolve(request.path_info).url_name
    except Resolver404:
        return None


class CredentialChangeGuardMiddleware:
    """Sends a person to confirm who they are before any guarded page, GET or POST."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name = _url_name(request) if request.user.is_authenticated else None
        if name in GUARDED_URL_NAMES and not recently_confirmed(request):
            target = reverse("portals:confirm-identity") + "?" + _next_query(request.get_full_path())
            return HttpResponseRedirect(target)
        if name == "account_email":
            keep_login_address_verified(request.user)
        return self.get_response(request)


def keep_login_address_verified(user):
    """The address on the login was recorded by the bank when it enabled internet
    banking (and proved by the activation link), or verified by its owner since: it
    is the login's verified, primary address. allauth would otherwise take it for an
    unverified one and drop it the moment a new address is added."""
    email = (user.email or "").strip()
    if email and not EmailAddress.objects.filter(user=user, email__iexact=email, verified=True).exists():
        EmailAddress.objects.filter(user=user, email__iexact=email).delete()
        EmailAddress.objects.filter(user=user, primary=True).update(primary=False)
        EmailAddress.objects.create(user=user, email=email.lower(), verified=True, primary=True)


def _next_query(path):
    return urlencode({"next": path})


class ConfirmIdentityForm(forms.Form):
    password = forms.CharField(label="Your password", strip=False, widget=forms.PasswordInput(
        attrs={"autocomplete": "current-password"}))
    code = forms.CharField(label="Code from your authenticator app", required=False, max_length=20,
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.wants_code = has_totp(user)
        if not self.wants_code:
            del self.fields["code"]

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That password is not correct.")
        return password

    def clean(self):
        cleaned = super().clean()
        if self.wants_code and not self.errors:
            code = cleaned.get("code", "")
            if not code:
                self.add_error("code", "Enter the code your authenticator app shows now.")
                return cleaned
            self.code_form = ReauthenticateForm({"code": code}, user=self.user)
            if not self.code_form.is_valid():
                self.add_error("code", "That code is not correct, or it was already used. Wait for the next one.")
        return cleaned


@require_http_methods(["GET", "POST"])
@signed_in
def confirm_identity(request):
    """Ask for the password, plus the authenticator code where there is one, then go on."""
    next_url = request.POST.get("next") or request.GET.get("next") or reverse("portals:home")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        next_url = reverse("portals:home")
    form = ConfirmIdentityForm(request.POST or None, user=request.user)
    if request.method == "POST":
        if not ratelimit.consume(request, action="reauthenticate", user=request.user):
            form.add_error(None, "Too many attempts. Wait a minute and try again.")
        elif form.is_valid():
            reauthenticate_by_password(request)
            if form.wants_code:
                form.code_form.save()
            return HttpResponseRedirect(next_url)
    return render(request, "portals/confirm_identity.html", {"form": form, "next": next_url})


# Set when an authenticator app is activated; the recovery codes page that allauth
# shows next takes it (once) and is then the last step of setting up sign-in.
READY_KEY = "cbs_sign_in_ready"


class RecoveryCodesView(ViewRecoveryCodesView):
    """allauth's recovery codes page. Straight after an authenticator app is
    activated it ends the set-up: "You're ready", and one clear way on to the
    person's home; making new codes is a secondary action there."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["ready"] = bool(self.request.session.pop(READY_KEY, False))
        has_customer = getattr(self.request.user, "customer", None) is not None
        context["home_url"] = reverse("customer:home" if has_customer else "portals:home")
        context["home_label"] = "Go to my accounts" if has_customer else "Go to my home page"
        return context


recovery_codes = require_GET(signed_in(RecoveryCodesView.as_view()))


class ResetPasswordForm(AllauthResetPasswordForm):
    """allauth's reset form, sending only to an address the login owns for sure: the
    one on the login (set by the bank when it enabled internet banking, or a new one
    after its owner clicked the verification link), or a verified address. An
    address added but not yet verified gets nothing, so a stolen session cannot
    route a reset to itself."""

    def clean_email(self):
        email = super().clean_email()
        verified = set(EmailAddress.objects.filter(email__iexact=email, verified=True)
                       .values_list("user_id", flat=True))
        self.users = [user for user in self.users
                      if (user.email or "").lower() == email.lower() or user.pk in verified]
        return email


class _BankLabels:
    """allauth's password fields, labelled in the bank's sentence case (the label
    says it all; allauth's Title Case placeholders would only repeat it)."""

    LABELS = {"oldpassword": "Current password", "password1": "New password", "password2": "New password again"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, label in self.LABELS.items():
            if name in self.fields:
                self.fields[name].label = label
                self.fields[name].widget.attrs.pop("placeholder", None)


class ChangePasswordForm(_BankLabels, AllauthChangePasswordForm):
    pass


class ResetPasswordKeyForm(_BankLabels, AllauthResetPasswordKeyForm):
    pass
