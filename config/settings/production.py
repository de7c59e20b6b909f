"""Production: refuses to start with an unsafe value.

Run `manage.py check --deploy --settings=config.settings.production` with the
production environment; it must print no warnings.
"""

import ipaddress

from django.core.exceptions import ImproperlyConfigured

from config import embedded_db

from .base import *  # noqa: F403
from .base import CBS_CARD_VERIFICATION_KEY, DATABASES, FIELD_ENCRYPTION_KEY, SECRET_KEY, env, env_bool, env_list

DEBUG = env_bool("DEBUG", False)
CBS_REQUIRE_STAFF_MFA = env_bool("CBS_REQUIRE_STAFF_MFA", True)

DEFAULT_SECRET_KEY = "insecure-local-development-key-change-me"
DEFAULT_FIELD_KEY = "bG9jYWwtZGV2ZWxvcG1lbnQta2V5LWNoYW5nZS1tZSE="


def refuse_unsafe():
    problems = []
    if DEBUG:
        problems.append("DEBUG must be off")
    if SECRET_KEY == DEFAULT_SECRET_KEY or len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        problems.append("SECRET_KEY must be set to a random value of at least 50 characters")
    if not env("DATABASE_URL"):
        problems.append("DATABASE_URL must be set to the bank's PostgreSQL")
    elif DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        problems.append("DATABASE_URL must point to PostgreSQL")
    if env(embedded_db.MARKER):
        # The launcher of `make run` marks its command's environment (config/embedded_db.py).
        problems.append("the embedded development PostgreSQL is not for production: set DATABASE_URL")
    if not CBS_REQUIRE_STAFF_MFA:
        problems.append("CBS_REQUIRE_STAFF_MFA cannot be relaxed in production")
    if FIELD_ENCRYPTION_KEY == DEFAULT_FIELD_KEY:
        problems.append("FIELD_ENCRYPTION_KEY must be set")
    # Card verification values are derived under this key (banking/cards/mailer.py):
    # its own secret, so that it is not tied to the identifiers' key and its rotation.
    if len(CBS_CARD_VERIFICATION_KEY) < 32 or len(set(CBS_CARD_VERIFICATION_KEY)) < 5:
        problems.append("CBS_CARD_VERIFICATION_KEY must be set to a random value of at least 32 characters")
    if problems:
        raise ImproperlyConfigured("Refusing to start: " + "; ".join(problems) + ".")


refuse_unsafe()

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 63072000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    "private": PRIVATE_STORAGE,  # noqa: F405
}
if not env("REDIS_URL"):
    raise ImproperlyConfigured("Refusing to start: REDIS_URL must be set for the shared cache.")

# /metrics (portals/monitoring.py): no network is trusted unless named. Behind nginx
# without TRUSTED_PROXY every request would come from 127.0.0.1, so a loopback default
# here would open the metrics to anyone who reaches nginx.
METRICS_ALLOWED_NETWORKS = env_list("METRICS_ALLOWED_NETWORKS", "")
METRICS_TOKEN = env("METRICS_TOKEN", "")
for _network in METRICS_ALLOWED_NETWORKS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError:
        raise ImproperlyConfigured(f"Refusing to start: METRICS_ALLOWED_NETWORKS: {_network!r} is no CIDR.") from None
if METRICS_TOKEN and len(METRICS_TOKEN) < 32:
    raise ImproperlyConfigured("Refusing to start: METRICS_TOKEN must be at least 32 characters when set.")
