"""Access policies for API views: each API view carries exactly one, as every portal
view does (portals/policies.py; the system check in portals/checks.py covers both).

An API policy sets, on the REST framework view it decorates, who may call it: the
authentication it accepts, the permission that decides, and the rate limit that
applies. Put it outermost, above `@api_view`:

    @api_customer
    @api_view(["GET"])
    def accounts(request): ...

- `api_public(reason)`: anyone (the sign-in endpoints, the schema and its docs);
  the reason says why, for reviewers. Sign-in endpoints add `SignInRate`.
- `api_customer`: a customer of internet banking with a JWT access token; 60
  requests a minute per customer. Queries must still start from the customer's own
  records (`request.user.customer`).
- `api_policy(...)` builds another (the partner API's, on its own authentication).

REST framework's defaults (settings.REST_FRAMEWORK) refuse everyone, so a view without
a policy serves nobody even before the check fails it.
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission
from rest_framework.throttling import SimpleRateThrottle
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.utils import get_md5_hash_password

from portals.policies import Policy


class CustomerJWTAuthentication(JWTAuthentication):
    """simplejwt's authentication, with the token's user read together with their roles,
    permissions and customer record in one prepared statement (`User.with_grants`), as
    the web site's role backend reads a signed-in user: the policy's permission check
    (`IsCustomer`) and the view's `request.user.customer` then ask nothing more. The
    checks on the user are simplejwt's own."""

    def get_user(self, validated_token):
        from banking.customers.models import Customer
        from banking.users.models import User

        try:
            user_id = int(validated_token[jwt_settings.USER_ID_CLAIM])
        except (KeyError, TypeError, ValueError):
            raise InvalidToken("Token contained no recognizable user identification") from None
        user = User.with_grants(user_id, also=Customer)
        if user is None:
            raise AuthenticationFailed("User not found", code="user_not_found")
        if jwt_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise AuthenticationFailed("User is inactive", code="user_inactive")
        if jwt_settings.CHECK_REVOKE_TOKEN and validated_token.get(
                jwt_settings.REVOKE_TOKEN_CLAIM) != get_md5_hash_password(user.password):
            raise AuthenticationFailed("The user's password has been changed.", code="password_changed")
        return user


class CustomerJWTScheme(SimpleJWTScheme):
    """In the OpenAPI schema it is simplejwt's bearer token (`jwtAuth`), as before."""

    target_class = "portals.api.policies.CustomerJWTAuthentication"


class Nobody(BasePermission):
    """The default: a view must name its policy."""

    def has_permission(self, request, view):
        return False


class IsCustomer(BasePermission):
    """A signed-in, active customer of internet banking (never staff)."""

    message = "Only customers of internet banking may use this API."

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.is_active
                     and user.has_perm("users.access_customer_portal")
                     and getattr(user, "customer", None) is not None)


class Anyone(BasePermission):
    def has_permission(self, request, view):
        return True


class Rate(SimpleRateThrottle):
    """A rate from settings.CBS_API_RATES[scope], read when the request comes (so tests
    and deployments can change it)."""

    scope = None

    def __init__(self):
        self.rate = settings.CBS_API_RATES[self.scope]
        self.num_requests, self.duration = self.parse_rate(self.rate)

    def get_cache_key(self, request, view):
        ident = self.identity(request)
        return None if ident is None else f"cbs-api-rate:{self.scope}:{ident}"

    def identity(self, request):
        raise NotImplementedError


class CustomerRate(Rate):
    """60 requests a minute per customer."""

    scope = "customer"

    def identity(self, request):
        return request.user.pk if request.user and request.user.is_authenticated else self.get_ident(request)


class SignInRate(Rate):
    """10 sign-in attempts a minute from one address (on top of the web site's own
    sign-in limits, which the token endpoint shares)."""

    scope = "sign_in"

    def identity(self, request):
        from banking.audit.middleware import client_ip

        return client_ip(request) or self.get_ident(request)


def api_policy(name, *, authentication=(), permissions=(), throttles=(), anonymous=False, reason=""):
    """A policy decorator for REST framework views (the result of `@api_view` or
    `SomeAPIView.as_view()`)."""
    policy = Policy(name, anonymous=anonymous, reason=reason)

    def decorator(view):
        cls = getattr(view, "cls", None)
        if cls is None:
            raise ImproperlyConfigured(f"{view.__module__}.{view.__name__}: an API policy goes above @api_view")
        if hasattr(view, "access_policy") or "access_policy" in cls.__dict__:
            raise ImproperlyConfigured(f"{view.__module__}.{view.__name__} has more than one access policy")
        cls.authentication_classes = list(authentication)
        cls.permission_classes = list(permissions)
        cls.throttle_classes = list(throttles)
        cls.access_policy = policy
        view.access_policy = policy
        return view

    return decorator


def api_public(reason, *, throttles=()):
    """Open to anyone: `reason` says why."""
    if not reason:
        raise ImproperlyConfigured("A public API view must say why it is public")
    return api_policy("api_public", permissions=[Anyone], throttles=throttles, anonymous=True, reason=reason)


api_customer = api_policy("api_customer", authentication=[CustomerJWTAuthentication], permissions=[IsCustomer],
                          throttles=[CustomerRate])
