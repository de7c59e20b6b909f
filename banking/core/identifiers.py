"""Identifiers the bank uses and their validation.

- IFSC: 4 letters, a zero, 6 letters or digits. The bank's own prefix is CBSB.
- PAN: 5 letters, 4 digits, a letter.
- Aadhaar: 12 digits, not starting with 0 or 1, the last a Verhoeff check digit.
- UPI ID (VPA): name@handle; the name 2–50 of letters, digits, dot, hyphen and
  underscore, the handle 2–30 letters and digits (NPCI's published shape).
- Payment references: NEFT UTR 16 characters, RTGS UTR 22 (XXXXRCYYYYMMDD########),
  IMPS and UPI RRN 12 digits.
- Account numbers and CIF numbers: digits with a trailing Verhoeff check digit,
  which catches every single-digit error and every adjacent transposition.
- Tokens (a form's idempotency key, a request's id): 32 hex digits, time-ordered.
"""

import re
import secrets
import time

IFSC_RE = re.compile(r"^[A-Z]{4}0[A-Z0-9]{6}$")
PAN_RE = re.compile(r"^[A-Z]{5}[0-9]{4}[A-Z]$")
AADHAAR_RE = re.compile(r"^[2-9][0-9]{11}$")
VPA_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,49}@[a-z][a-z0-9]{1,29}$")
REFERENCE_RE = {
    "NEFT": re.compile(r"^[A-Z]{4}N[0-9]{11}$"),
    "RTGS": re.compile(r"^[A-Z]{4}RC[0-9]{8}[0-9]{8}$"),
    "IMPS": re.compile(r"^[0-9]{12}$"),
    "UPI": re.compile(r"^[0-9]{12}$"),
}

_VERHOEFF_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_VERHOEFF_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0),
    (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5),
    (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)
_VERHOEFF_INV = (0, 4, 3, 2, 1, 5, 6, 7, 8, 9)


def verhoeff_check_digit(digits):
    c = 0
    for i, ch in enumerate(reversed(digits)):
        c = _VERHOEFF_D[c][_VERHOEFF_P[(i + 1) % 8][int(ch)]]
    return str(_VERHOEFF_INV[c])


def verhoeff_valid(number):
    if not number.isdigit():
        return False
    c = 0
    for i, ch in enumerate(reversed(number)):
        c = _VERHOEFF_D[c][_VERHOEFF_P[i % 8][int(ch)]]
    return c == 0


def normalise(value):
    return re.sub(r"[\s-]", "", str(value or "")).upper()


def is_valid_ifsc(value):
    return bool(IFSC_RE.match(normalise(value)))


def normalise_vpa(value):
    return str(value or "").strip().lower()


def is_valid_vpa(value):
    return bool(VPA_RE.match(normalise_vpa(value)))


def is_valid_reference(rail, value):
    pattern = REFERENCE_RE.get(rail)
    return bool(pattern and pattern.match(str(value or "")))


def is_valid_pan(value):
    return bool(PAN_RE.match(normalise(value)))


def is_valid_aadhaar(value):
    value = normalise(value)
    return bool(AADHAAR_RE.match(value)) and verhoeff_valid(value)


def with_check_digit(body):
    """Append the Verhoeff check digit to a string of digits."""
    if not body.isdigit():
        raise ValueError("check digits are computed over digits only")
    return body + verhoeff_check_digit(body)


def is_valid_account_number(value):
    value = normalise(value)
    return len(value) >= 6 and verhoeff_valid(value)


def mask_aadhaar(value):
    value = normalise(value)
    return f"XXXX-XXXX-{value[-4:]}" if value else ""


def mask_pan(value):
    value = normalise(value)
    return f"{value[:2]}XXX{value[5:6]}XX{value[-2:]}" if len(value) == 10 else ""


def mask_tail(value, keep=4):
    value = normalise(value)
    return "X" * max(len(value) - keep, 0) + value[-keep:]


def new_token():
    """A fresh token for a form's idempotency key or a request's id: 32 hex digits,
    the time in milliseconds (12) then 80 random bits (20), the layout of a version 7
    UUID (RFC 9562). Later tokens sort later, so the unique indexes they are kept in
    grow at one end; a random uuid4 put every insert on a random leaf page, and after
    each checkpoint every such page costs a full-page image in the WAL."""
    return f"{time.time_ns() // 1_000_000:012x}{secrets.token_hex(10)}"
