"""A card's PIN, kept as a salted, keyed, slow hash: never reversibly, and never
checkable from the database alone.

A PIN has only 10,000 values, so no work factor by itself keeps a copied table from
giving them all up: trying every PIN against a password-strength scrypt hash takes
minutes. What protects a PIN is a key the database does not hold, as an issuer's PIN
verification key does for its PIN verification values: the PIN goes through an
HMAC under a key derived from FIELD_ENCRYPTION_KEY before it is hashed. The hash is
then scrypt with the card's own salt, at a lighter work factor than a password's
(2^10, 1 MiB, against Django's 2^14, 16 MiB): the switch checks a PIN on every
withdrawal, enquiry and statement, and 2^14 cost 60 ms of a processor each time,
where the rest of an authorisation costs a few.
"""

import base64
import hashlib
import hmac
from functools import lru_cache

from django.conf import settings
from django.contrib.auth.hashers import ScryptPasswordHasher


@lru_cache(maxsize=4)
def _pin_key(keys):
    primary = keys.split(",")[0].strip()
    return hashlib.sha256(b"cbs-card-pin:" + base64.urlsafe_b64decode(primary.encode())).digest()


def _keyed(pin):
    return hmac.new(_pin_key(settings.FIELD_ENCRYPTION_KEY), pin.encode(), hashlib.sha256).hexdigest()


class PinHasher(ScryptPasswordHasher):
    algorithm = "cbspin"  # short: the encoded hash fits the field's 128 characters
    work_factor = 2**10

    def encode(self, password, salt, n=None, r=None, p=None):
        return super().encode(_keyed(password), salt, n, r, p)


def hash_pin(pin):
    hasher = PinHasher()
    return hasher.encode(pin, hasher.salt())


def pin_matches(pin, encoded):
    """Whether `pin` is the one `encoded` was made from (False for no PIN set)."""
    return bool(encoded) and encoded.startswith(f"{PinHasher.algorithm}$") and PinHasher().verify(pin, encoded)
