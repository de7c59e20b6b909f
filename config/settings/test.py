"""The test suite: PostgreSQL from DATABASE_URL, fast hashing, production's MFA rule."""

import os

import dj_database_url

from .base import *  # noqa: F403
from .base import env, postgresql_options

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cbs"),
        conn_max_age=0,
    )
}
DATABASES = postgresql_options(DATABASES)
# One test database per run, so that runs on one machine never trip over each other.
DATABASES["default"]["TEST"] = {"NAME": env("TEST_DATABASE_NAME", f"test_cbs_{os.getpid()}")}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
CBS_REQUIRE_STAFF_MFA = True
# allauth's rate limits are relaxed for the suite; the tests that check them turn
# them back on with override_settings.
ACCOUNT_RATE_LIMITS = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "private": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
}
# The suite runs on any day of the week: Sundays and the second and fourth Saturdays are
# ordinary days in it, except in the tests of the holiday rule, which turn it back on.
CBS_WEEKLY_HOLIDAYS = False
