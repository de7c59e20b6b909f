"""Personal identifiers encrypted at rest.

`EncryptedTextField` stores Fernet tokens (AES-128-CBC with HMAC-SHA256) made with
the FIELD_ENCRYPTION_KEY setting; several comma-separated keys may be given, the
first encrypts and all decrypt, so keys rotate without downtime.

Encrypted values cannot be compared in SQL, so a field that must be unique or
searchable (PAN, Aadhaar) keeps a *blind index* beside it: an HMAC-SHA256 of the
normalised value under a key derived from the same secret. Equal values have
equal indexes; the index reveals nothing else.
"""

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@lru_cache(maxsize=4)
def _fernet(keys):
    try:
        return MultiFernet([Fernet(key.strip().encode()) for key in keys.split(",") if key.strip()])
    except (ValueError, TypeError) as error:
        raise ImproperlyConfigured(f"FIELD_ENCRYPTION_KEY is not a valid Fernet key: {error}") from None


def fernet():
    return _fernet(settings.FIELD_ENCRYPTION_KEY)


def encrypt(value):
    return fernet().encrypt(value.encode()).decode()


def decrypt(token):
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured("An encrypted value could not be read with FIELD_ENCRYPTION_KEY.") from None


@lru_cache(maxsize=4)
def _index_key(keys):
    primary = keys.split(",")[0].strip()
    return hashlib.sha256(b"cbs-blind-index:" + base64.urlsafe_b64decode(primary.encode())).digest()


def blind_index(value):
    """A stable HMAC of `value`, for uniqueness and exact search over encrypted data."""
    key = _index_key(settings.FIELD_ENCRYPTION_KEY)
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


class EncryptedTextField(models.TextField):
    """A text value stored encrypted; reads back as plain text in Python."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))

    def get_lookup(self, lookup_name):
        if lookup_name not in ("isnull",):
            return None  # encrypted: compare through the blind index instead
        return super().get_lookup(lookup_name)
