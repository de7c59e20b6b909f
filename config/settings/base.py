"""Settings shared by every environment.

Anything that differs between machines comes from an environment variable; the
`local`, `test` and `production` modules choose the defaults for their setting.
"""

import datetime
import os
import sys
from pathlib import Path

import dj_database_url
from django.utils.csp import CSP

from config import embedded_db

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env(name, default=None):
    return os.environ.get(name, default)


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# ---------------------------------------------------------------------------
# Core
# ---------------------------------------------------------------------------
SECRET_KEY = env("SECRET_KEY", "insecure-local-development-key-change-me")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# On when the bank's own reverse proxy (nginx) sets X-Forwarded-For: the audit trail
# then records the client's address rather than the proxy's.
TRUSTED_PROXY = env_bool("TRUSTED_PROXY", False)

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "users.User"

LANGUAGE_CODE = "en-in"
TIME_ZONE = "Asia/Kolkata"
USE_I18N = True
USE_TZ = True

# ---------------------------------------------------------------------------
# Applications
# ---------------------------------------------------------------------------
DJANGO_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
]
THIRD_PARTY_APPS = [
    "django_htmx",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_tables2",
    "django_filters",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    # Background work (banking/core/jobs.py): its jobs live in this database.
    "procrastinate.contrib.django",
    # The mobile and partner API (portals/api): REST framework, JWT with its blacklist of
    # used refresh tokens, and the OpenAPI schema with its docs served from the sidecar.
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
]
LOCAL_APPS = [
    "banking.core",
    "banking.users",
    "banking.audit",
    "banking.ledger",
    "banking.approvals",
    "banking.customers",
    "banking.deposits",
    "banking.teller",
    "banking.payments",
    "banking.notifications",
    "banking.operations",
    "banking.demo",
    "banking.idempotency",
    "banking.partners",
    "banking.loans",
    "banking.cards",
    "portals",
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

# ---------------------------------------------------------------------------
# Middleware
# ---------------------------------------------------------------------------
MIDDLEWARE = [
    # Each request's time and database queries, by view, for /metrics (portals/monitoring.py).
    "portals.monitoring.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Permissions-Policy and Cross-Origin-Resource-Policy, which SecurityMiddleware lacks.
    "portals.middleware.BrowserPolicyMiddleware",
    # Under /api/, every answer (these middleware's refusals included) is JSON and never cached.
    "portals.api.middleware.ApiJsonMiddleware",
    # A body larger than its page accepts is refused (413) before anything reads it.
    "portals.limits.RequestSizeLimitMiddleware",
    # A NUL in the path, query, form or headers is a 400 before any view runs.
    "portals.hostile.RejectNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every answer to a signed-in person carries Cache-Control: no-store.
    "portals.middleware.NoStoreWhenSignedInMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Turns login redirects and 403s inside HTMX requests into HX-Redirect.
    "portals.middleware.HtmxAuthRedirectMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Who, from where, which request: read by the audit trail.
    "banking.audit.middleware.AuditContextMiddleware",
    "portals.middleware.SessionTimeoutMiddleware",
    "portals.middleware.StaffMFARequiredMiddleware",
    # The email, password and authenticator pages first ask for the password and code.
    "portals.credentials.CredentialChangeGuardMiddleware",
    # A request the database gave up on (a lock or statement limit) is asked to try again.
    "portals.busy.BankBusyMiddleware",
]
# Form fields (everything but files) of one request: 1 MB. Uploads may carry more,
# per page, in portals.limits. Files above 1 MB are spooled to a temporary file
# rather than held in a worker's memory.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

# ---------------------------------------------------------------------------
# Templates
# ---------------------------------------------------------------------------
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "portals.context_processors.bank",
            ],
            "builtins": ["banking.core.templatetags.money"],
        },
    }
]
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"
DJANGO_TABLES2_TEMPLATE = "django_tables2/bootstrap5-responsive.html"

# ---------------------------------------------------------------------------
# Database
# ---------------------------------------------------------------------------
# PostgreSQL only. Without DATABASE_URL, the embedded server that `make run` starts
# (config/embedded_db.py), on its Unix socket under var/postgres; production refuses it.
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", embedded_db.database_url(embedded_db.DEFAULT_DATA_DIR, embedded_db.DEFAULT_DATABASE)),
        conn_max_age=int(env("DB_CONN_MAX_AGE", "60")),
    )
}


def postgresql_options(databases):
    """Let the hot paths' statements be prepared (banking.core.db.execute_prepared):
    psycopg prepares nothing while Django leaves `prepare_threshold` unset. Django's
    own queries bind on the client and are never prepared either way. Behind a
    transaction-pooling proxy, turn it off with DB_PREPARED_STATEMENTS=0.

    Those statements are planned once per connection: left to itself PostgreSQL
    re-plans them on every call, because a plan for the actual arrays of account ids
    always looks cheaper than the generic one, and planning the posting statement
    costs more than running it. Their plans do not depend on the values (every
    lookup is by key), so the generic plan is the right one. Only server-bound
    statements have a plan to reuse, so this touches no query of the ORM's."""
    db = databases["default"]
    options = db.setdefault("OPTIONS", {})
    if env("DB_PREPARED_STATEMENTS", "1") == "1":
        options.setdefault("prepare_threshold", 5)
        options["options"] = f"{options.get('options', '')} -c plan_cache_mode=force_generic_plan".strip()
    limits = " ".join(f"-c {name}={value}" for name, value in DATABASE_LIMITS[DATABASE_LIMITS_FOR].items())
    options["options"] = f"{options.get('options', '')} {limits}".strip()
    return databases


# How long the database waits on a client (banking.core.timeouts): short where a
# person waits for a web page, longer for management commands and background work.
# Processes that serve requests say so (config/wsgi.py, config/asgi.py; runserver
# here); DB_LIMITS=web or batch chooses for any process.
DATABASE_LIMITS = {
    "web": {
        "lock_timeout": env("DB_LOCK_TIMEOUT", "5s"),
        "statement_timeout": env("DB_STATEMENT_TIMEOUT", "30s"),
        "idle_in_transaction_session_timeout": env("DB_IDLE_IN_TRANSACTION_TIMEOUT", "30s"),
    },
    "batch": {
        "lock_timeout": env("DB_BATCH_LOCK_TIMEOUT", "1min"),
        "statement_timeout": env("DB_BATCH_STATEMENT_TIMEOUT", "30min"),
        "idle_in_transaction_session_timeout": env("DB_BATCH_IDLE_IN_TRANSACTION_TIMEOUT", "10min"),
    },
}
DATABASE_LIMITS_FOR = env("DB_LIMITS") or ("web" if sys.argv[1:2] == ["runserver"] else "batch")


DATABASES = postgresql_options(DATABASES)

# ---------------------------------------------------------------------------
# Cache, sessions and background tasks
# ---------------------------------------------------------------------------
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if env("REDIS_URL"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": env("REDIS_URL")}}

SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# Absolute lifetime of a session: 12 hours. The 15-minute idle limit is enforced by
# portals.middleware.SessionTimeoutMiddleware so that background polling does not
# keep an abandoned counter signed in.
SESSION_COOKIE_AGE = 12 * 60 * 60
SESSION_IDLE_SECONDS = int(env("SESSION_IDLE_SECONDS", str(15 * 60)))
SESSION_ABSOLUTE_SECONDS = SESSION_COOKIE_AGE
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}

# ---------------------------------------------------------------------------
# Monitoring (portals/monitoring.py)
# ---------------------------------------------------------------------------
# /metrics answers requests from these networks (CIDRs, comma-separated; production's
# default is none) ...
METRICS_ALLOWED_NETWORKS = env_list("METRICS_ALLOWED_NETWORKS", "127.0.0.1/32,::1/128")
# ... or carrying `Authorization: Bearer <METRICS_TOKEN>`. Empty: no token is accepted.
METRICS_TOKEN = env("METRICS_TOKEN", "")

# ---------------------------------------------------------------------------
# Authentication (django-allauth with MFA)
# ---------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "banking.users.backends.RoleBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "portals:home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_ADAPTER = "banking.users.adapters.BankAccountAdapter"
ACCOUNT_FORMS = {
    "login": "portals.forms.LoginForm",
    "reset_password": "portals.credentials.ResetPasswordForm",
    "change_password": "portals.credentials.ChangePasswordForm",
    "reset_password_from_key": "portals.credentials.ResetPasswordKeyForm",
}
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_PRESERVE_USERNAME_CASING = False
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
ACCOUNT_REAUTHENTICATION_REQUIRED = True
# One email address per login: a new one replaces it only once its owner clicks the
# link sent to it, and the old address is told (with password changes and resets).
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_EMAIL_NOTIFICATIONS = True
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
# Five failed sign-ins for one username within five minutes lock it out for the
# rest of the window; the IP limit stops spraying many usernames from one place.
ACCOUNT_RATE_LIMITS = {
    "login_failed": "20/m/ip,5/5m/key",
    "login": "30/m/ip",
    "reset_password": "5/m/ip,3/m/key",
    "reset_password_from_key": "20/m/ip",
    "reauthenticate": "10/m/user",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "CBS Bank"
MFA_TOTP_TOLERANCE = 1
MFA_RECOVERY_CODE_COUNT = 10
# Staff without MFA are sent to set it up before any portal page. Production
# refuses to start with this off; local settings may relax it for the demo.
CBS_REQUIRE_STAFF_MFA = env_bool("CBS_REQUIRE_STAFF_MFA", True)

# Password rules at OWASP ASVS level 2 (V2.1): at least 12 characters, up to 128,
# no composition rules, checked against common and breached-style passwords and
# against the user's own details.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "banking.users.validators.MaximumLengthValidator", "OPTIONS": {"max_length": 128}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.ScryptPasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

# ---------------------------------------------------------------------------
# Security headers and Content Security Policy
# ---------------------------------------------------------------------------
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Sent by portals.middleware.BrowserPolicyMiddleware. Behind nginx, /static/ never
# reaches the app: nginx sends CORP and nosniff on it (deploy/nginx/cbs-static.conf).
SECURE_CROSS_ORIGIN_RESOURCE_POLICY = "same-origin"
PERMISSIONS_POLICY = (
    "accelerometer=(), browsing-topics=(), camera=(), display-capture=(), geolocation=(), gyroscope=(),"
    " magnetometer=(), microphone=(), midi=(), payment=(), usb=()"
)
X_FRAME_OPTIONS = "DENY"
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
CSRF_FAILURE_VIEW = "portals.views.csrf_failure"

# ---------------------------------------------------------------------------
# Static files
# ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded KYC proofs live outside any URL space and are served only through views
# that check the viewer's role.
PRIVATE_MEDIA_ROOT = Path(env("PRIVATE_MEDIA_ROOT", str(BASE_DIR / "var" / "private")))
PRIVATE_STORAGE = {"BACKEND": "banking.customers.storage.PrivateStorage", "OPTIONS": {"location": PRIVATE_MEDIA_ROOT}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "private": PRIVATE_STORAGE,
}

# ---------------------------------------------------------------------------
# Email
# ---------------------------------------------------------------------------
# Every message goes through the outbox (banking.notifications): it is queued in the
# sender's transaction and handed to `deliver_with` after commit; what the mail server
# refuses is retried by `send_queued_mail`.
MAILERS = {
    "default": {
        "BACKEND": "banking.notifications.backends.OutboxBackend",
        "OPTIONS": {
            "deliver_with": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": env("SMTP_HOST", "localhost"), "port": int(env("SMTP_PORT", "25")), "timeout": 10},
            }
        },
    }
}
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "CBS Bank <no-reply@cbsbank.example>")

# ---------------------------------------------------------------------------
# The bank
# ---------------------------------------------------------------------------
# Key for personal identifiers encrypted at rest (Fernet, url-safe base64 of 32 bytes).
FIELD_ENCRYPTION_KEY = env("FIELD_ENCRYPTION_KEY", "bG9jYWwtZGV2ZWxvcG1lbnQta2V5LWNoYW5nZS1tZSE=")
# The card-verification key the CVV is derived from (banking/cards/mailer.py): the CVV
# is never stored; the mailer prints it once. Empty: a key derived from
# FIELD_ENCRYPTION_KEY (which production refuses to leave at its default).
CBS_CARD_VERIFICATION_KEY = env("CBS_CARD_VERIFICATION_KEY", "")
CBS_BANK_NAME = "CBS Bank"
CBS_IFSC_PREFIX = "CBSB"
# Maker-checker: approving a request above this amount (in paise) asks the checker
# to confirm their password again first. Default ₹10,00,000.
CBS_REAUTH_APPROVAL_ABOVE = int(env("CBS_REAUTH_APPROVAL_ABOVE", str(10_00_000_00)))

# Payments (DESIGN §5, "Payment rails"). Amounts in paise.
# The bank's UPI handle: customers' UPI IDs read name@cbsb.
CBS_UPI_HANDLE = "cbsb"
# A new payee can receive at most this much in its first 24 hours.
CBS_PAYEE_COOLING_PERIOD = datetime.timedelta(hours=24)
CBS_PAYEE_COOLING_LIMIT = 50_000_00
# Internet banking asks for an authenticator code to confirm a payment above this.
CBS_PAYMENT_TOTP_ABOVE = int(env("CBS_PAYMENT_TOTP_ABOVE", str(25_000_00)))
# Where the clearing network adapter lives: the bundled simulator, or a real gateway.
CBS_CLEARING_NETWORK = env("CBS_CLEARING_NETWORK", "banking.payments.simulator.SimulatedNetwork")
# A merchant's UPI collect request waits this long for the customer.
CBS_COLLECT_REQUEST_TTL = datetime.timedelta(minutes=30)
# A standing instruction short of funds is tried again at the next runs, this many times in all.
CBS_STANDING_INSTRUCTION_ATTEMPTS = 3

# End of day (banking/operations). A step over accounts runs in parts of this many
# accounts, each a job on the queue.
CBS_EOD_PARTITION_SIZE = int(env("CBS_EOD_PARTITION_SIZE", "10000"))
# Sundays and the second and fourth Saturdays are bank holidays (banking/ledger/holidays.py).
# The test suite turns the rule off, so that it passes on any day of the week; the
# holiday tests turn it back on.
CBS_WEEKLY_HOLIDAYS = env_bool("CBS_WEEKLY_HOLIDAYS", True)

# ---------------------------------------------------------------------------
# The API (portals/api): REST framework, JWT, OpenAPI
# ---------------------------------------------------------------------------
# Every API view carries one policy from portals/api/policies.py, which sets its
# authentication, permissions and rate limits; these defaults refuse everyone, so a
# view that slipped past the system check still serves nobody.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["portals.api.policies.Nobody"],
    "DEFAULT_THROTTLE_CLASSES": [],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "portals.api.problems.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "UNAUTHENTICATED_TOKEN": None,
    "DEFAULT_VERSIONING_CLASS": None,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "COERCE_DECIMAL_TO_STRING": True,
}
# Requests a minute: per customer, per partner key, and sign-in attempts per address.
CBS_API_RATES = {"customer": "60/min", "partner": "600/min", "sign_in": "10/min"}
# An Idempotency-Key and its answer are kept this long.
CBS_IDEMPOTENCY_TTL = datetime.timedelta(hours=24)
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": datetime.timedelta(minutes=5),
    "REFRESH_TOKEN_LIFETIME": datetime.timedelta(hours=12),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CBS Bank API",
    "DESCRIPTION": "The mobile and partner API of CBS Bank. Money is a string of rupees with two decimals; "
                   "errors are RFC 9457 problem details with a stable `code`.",
    "VERSION": "1.0.0",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The security schemes come from the views' authentication classes (jwtAuth for
    # customers, the partner API's own extension for API keys).
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # Procrastinate tells every process at start which tasks it found: only a
        # worker's own lines (jobs started, finished, failed) are worth reading.
        "procrastinate.blueprints": {"level": "WARNING"},
        "procrastinate.periodic": {"level": "WARNING"},
        "procrastinate.jobs": {"level": "WARNING"},  # "Deferred 1 job", at every defer
    },
}
