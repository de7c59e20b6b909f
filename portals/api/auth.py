"""Signing in to the API: a customer's username, password and authenticator code
give a short-lived access token and a refresh token.

- The password is checked through allauth's adapter, so the web site's sign-in rate
  limits and lockout (ACCOUNT_RATE_LIMITS "login_failed") count API attempts too, in
  the same counters; the endpoint adds 10 attempts a minute per address.
- Staff never get a token (403 `staff_not_allowed`): the API is for customers and
  partners; staff work in the portals, behind MFA.
- A customer with an authenticator must send its code (`otp`): missing 401
  `otp_required`, wrong or reused 401 `otp_invalid`.
- Refresh tokens rotate: a refresh gives a new pair and blacklists the old refresh
  token, so it cannot be used twice. Logout blacklists it.
"""

from allauth.account.adapter import get_adapter
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.response import Response
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.serializers import TokenRefreshSerializer
from rest_framework_simplejwt.tokens import RefreshToken

from banking.audit.actions import record_event

from .policies import SignInRate, api_public
from .problems import ApiProblem
from .schema import problem_responses
from .serializers import OtpField, StrictSerializer


class TokenRequest(StrictSerializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False)
    otp = OtpField()


class RefreshRequest(StrictSerializer):
    refresh = serializers.CharField(max_length=2000)


TokenPair = inline_serializer("TokenPair", {
    "access": serializers.CharField(), "refresh": serializers.CharField(),
    "access_expires_in": serializers.IntegerField()})
RefreshedPair = inline_serializer("RefreshedPair", {
    "access": serializers.CharField(), "refresh": serializers.CharField()})


def _is_staff(user):
    return user.is_staff or user.is_superuser or hasattr(user, "staff_profile")


def _check_otp(user, code):
    authenticator = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if authenticator is None:
        return
    if not code:
        raise ApiProblem(401, "otp_required", "Send the code of your authenticator app as otp.")
    if not TOTP(authenticator).validate_code(code):
        raise ApiProblem(401, "otp_invalid", "That authenticator code is not right, or it was used already.")


def _access_lifetime():
    return int(settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds())


@extend_schema(
    operation_id="auth_token", request=TokenRequest,
    responses={200: TokenPair, **problem_responses(401, 403, 422, 429)},
    auth=[], tags=["auth"], summary="Sign in: a token pair for a customer",
    examples=[OpenApiExample("Sign in", request_only=True,
                             value={"username": "asha", "password": "correct horse battery", "otp": "123456"}),
              OpenApiExample("Tokens", response_only=True, status_codes=["200"],
                             value={"access": "eyJhbGciOi...", "refresh": "eyJhbGciOi...", "access_expires_in": 300})])
@api_public("Signing in is how a customer gets a token.", throttles=[SignInRate])
@api_view(["POST"])
def token(request):
    body = TokenRequest(data=request.data)
    body.is_valid(raise_exception=True)
    data = body.validated_data
    try:
        user = get_adapter(request._request).authenticate(
            request._request, username=data["username"], password=data["password"])
    except DjangoValidationError:
        raise ApiProblem(429, "rate_limited", "Too many failed sign-ins: wait a few minutes and try again.",
                         headers={"Retry-After": "300"}) from None
    if user is None or not user.is_active:
        raise ApiProblem(401, "invalid_credentials", "The username or password is not right.")
    if _is_staff(user):
        raise ApiProblem(403, "staff_not_allowed", "Staff sign in to the bank's portals, not to this API.")
    if not (user.has_perm("users.access_customer_portal") and getattr(user, "customer", None) is not None):
        raise ApiProblem(403, "not_a_customer", "This login is not enabled for internet banking.")
    _check_otp(user, data.get("otp"))
    refresh = RefreshToken.for_user(user)
    record_event(action="api.token_issued", obj=user, actor=user, summary=f"API sign-in by {user.get_username()}")
    return Response({"access": str(refresh.access_token), "refresh": str(refresh),
                     "access_expires_in": _access_lifetime()})


@extend_schema(
    operation_id="auth_token_refresh", request=RefreshRequest,
    responses={200: RefreshedPair, **problem_responses(401, 422, 429)}, auth=[], tags=["auth"],
    summary="A new token pair for a refresh token, which is then spent",
    examples=[OpenApiExample("Refresh", request_only=True, value={"refresh": "eyJhbGciOi..."}),
              OpenApiExample("New pair", response_only=True, status_codes=["200"],
                             value={"access": "eyJhbGciOi...", "refresh": "eyJhbGciOi..."})])
@api_public("The refresh token in the body is the credential.", throttles=[SignInRate])
@api_view(["POST"])
def token_refresh(request):
    body = RefreshRequest(data=request.data)
    body.is_valid(raise_exception=True)
    pair = TokenRefreshSerializer(data={"refresh": body.validated_data["refresh"]})
    try:
        pair.is_valid(raise_exception=True)
    except (TokenError, InvalidToken, serializers.ValidationError):
        raise ApiProblem(401, "token_not_valid", "The refresh token is expired, revoked, used already or not "
                                                 "valid.") from None
    return Response({"access": pair.validated_data["access"], "refresh": pair.validated_data["refresh"]})


@extend_schema(
    operation_id="auth_logout", request=RefreshRequest, responses={204: None, **problem_responses(401, 422, 429)},
    auth=[], tags=["auth"], summary="Revoke a refresh token",
    examples=[OpenApiExample("Logout", request_only=True, value={"refresh": "eyJhbGciOi..."})])
@api_public("The refresh token in the body is the credential it revokes.", throttles=[SignInRate])
@api_view(["POST"])
def logout(request):
    body = RefreshRequest(data=request.data)
    body.is_valid(raise_exception=True)
    try:
        RefreshToken(body.validated_data["refresh"]).blacklist()
    except TokenError:
        raise ApiProblem(401, "token_not_valid", "The refresh token is expired, revoked or not valid.") from None
    return Response(status=204)

