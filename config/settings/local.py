"""A developer's machine and the demo bank: console email, demo logins without MFA.

The database is DATABASE_URL, or else the embedded PostgreSQL that `make run` starts
on a Unix socket under var/postgres (config/embedded_db.py)."""

from .base import *  # noqa: F403
from .base import env_bool

DEBUG = env_bool("DEBUG", True)
MAILERS = {
    "default": {
        "BACKEND": "banking.notifications.backends.OutboxBackend",
        "OPTIONS": {"deliver_with": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}},
    }
}
# The demo logins have no authenticator yet; set CBS_REQUIRE_STAFF_MFA=1 to try the
# production behaviour locally.
CBS_REQUIRE_STAFF_MFA = env_bool("CBS_REQUIRE_STAFF_MFA", False)
