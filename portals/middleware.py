"""Session limits, staff MFA and HTMX-aware redirects."""

import time
from urllib.parse import urlparse

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponseRedirect
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django_htmx.http import HttpResponseClientRedirect

SESSION_AUTH_AT = "cbs_auth_at"
SESSION_LAST_SEEN = "cbs_last_seen"
MFA_OK_KEY = "cbs_mfa_ok"
# Live feeds and queues poll with this header; polling must not keep an
# abandoned session alive.
BACKGROUND_HEADER = "X-CBS-Background"
TOUCH_EVERY = 30


def login_url_for(request):
    current = request.headers.get("HX-Current-URL") if getattr(request, "htmx", False) else None
    next_path = urlparse(current).path if current else request.get_full_path()
    return redirect_to_login(next_path).url


class NoStoreWhenSignedInMiddleware:
    """Nothing shown to a signed-in person is kept by the browser or a proxy: a
    balance or a statement must not come back from a shared computer's history
    or cache once they have signed out. Covers the answer that signs them out."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        signed_in = request.user.is_authenticated
        response = self.get_response(request)
        if signed_in or request.user.is_authenticated:
            add_never_cache_headers(response)
        return response


class HtmxAuthRedirectMiddleware:
    """Inside an HTMX request, a redirect to the login page or a 403 would swap a
    login form or an error into a fragment. Send the whole browser to the login
    page instead (HX-Redirect). A refusal keeps its 403 status, so logs and
    metrics count it as one; htmx follows HX-Redirect whatever the status."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not getattr(request, "htmx", False):
            return response
        login_path = resolve_url(settings.LOGIN_URL)
        to_login = response.status_code in (301, 302) and urlparse(response.get("Location", "")).path == login_path
        if to_login or response.status_code == 403:
            redirect = HttpResponseClientRedirect(login_url_for(request))
            if response.status_code == 403:
                redirect.status_code = 403
            return redirect
        return response


class SessionTimeoutMiddleware:
    """Signs a person out after SESSION_IDLE_SECONDS without activity or
    SESSION_ABSOLUTE_SECONDS after signing in, whichever comes first."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            session = request.session
            auth_at = session.setdefault(SESSION_AUTH_AT, now)
            last_seen = session.setdefault(SESSION_LAST_SEEN, now)
            idle = now - last_seen > settings.SESSION_IDLE_SECONDS
            too_old = now - auth_at > settings.SESSION_ABSOLUTE_SECONDS
            if idle or too_old:
                return self.expire(request, idle)
            if not request.headers.get(BACKGROUND_HEADER) and now - last_seen >= TOUCH_EVERY:
                session[SESSION_LAST_SEEN] = now
        return self.get_response(request)

    @staticmethod
    def expire(request, idle):
        target = login_url_for(request)
        logout(request)
        if idle:
            minutes = settings.SESSION_IDLE_SECONDS // 60
            text = f"You were signed out after {minutes} minutes without activity. Sign in again to continue."
        else:
            text = "Your session reached its 12-hour limit. Sign in again to continue."
        messages.warning(request, text)
        if getattr(request, "htmx", False):
            return HttpResponseClientRedirect(target)
        return HttpResponseRedirect(target)


class StaffMFARequiredMiddleware:
    """With CBS_REQUIRE_STAFF_MFA on, bank staff without an authenticator app are
    sent to set one up before any page other than sign-in and MFA setup."""

    EXEMPT_PREFIXES = ("/accounts/", "/static/", "/healthz", "/readyz", "/metrics")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.CBS_REQUIRE_STAFF_MFA and self.needs_mfa(request):
            messages.warning(request, "Set up two-factor authentication before you use the bank's systems.")
            target = reverse("mfa_activate_totp")
            if getattr(request, "htmx", False):
                return HttpResponseClientRedirect(target)
            return HttpResponseRedirect(target)
        return self.get_response(request)

    def needs_mfa(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or request.path.startswith(self.EXEMPT_PREFIXES):
            return False
        if request.session.get(MFA_OK_KEY):
            return False
        if not (user.is_bank_staff or user.is_superuser):
            return False
        if Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
            request.session[MFA_OK_KEY] = True
            return False
        return True


class BrowserPolicyMiddleware:
    """The two browser policies Django's SecurityMiddleware does not send, on every
    answer the app gives: `Permissions-Policy` (no page of the bank uses the camera,
    microphone, location or the Payment Request API, so none may, framed or not) and
    `Cross-Origin-Resource-Policy` (no other site may load the bank's pages or files)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.PERMISSIONS_POLICY:
            response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        if settings.SECURE_CROSS_ORIGIN_RESOURCE_POLICY:
            response.headers.setdefault("Cross-Origin-Resource-Policy", settings.SECURE_CROSS_ORIGIN_RESOURCE_POLICY)
        return response
