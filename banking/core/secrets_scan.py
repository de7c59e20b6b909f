"""Looking for secrets where they must never be: a server's log lines and the repository.

A log line may carry a customer's PAN or Aadhaar number only masked (`mask_pan`,
`mask_aadhaar`), and never a password or an authenticator's secret. The browser
journeys write the live server's log to a file and `find_log_leaks` reads it
afterwards (e2e/conftest.py); the repository's files are read by
banking/core/tests/test_no_secrets_in_repository.py with `find_repository_secrets`.

Findings name the place and the kind of secret, never the secret itself, so that the
report of a leak does not leak it again.
"""

import re
from dataclasses import dataclass

from .identifiers import verhoeff_valid

# An income-tax PAN standing alone (not inside a longer word such as a token).
PAN_IN_TEXT = re.compile(r"(?<![A-Za-z0-9])[A-Z]{5}[0-9]{4}[A-Z](?![A-Za-z0-9])")
# Twelve digits standing alone, written together or in groups of four as on the card.
# Account numbers (15 digits), timestamps and ids are longer or shorter; a twelve-digit
# number that passes Aadhaar's Verhoeff check is taken for one (nine in ten others fail it).
AADHAAR_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])([0-9]{4})([ -]?)([0-9]{4})\2([0-9]{4})(?![0-9A-Za-z])")

# Shapes of credentials that have no business in a file of this repository.
PRIVATE_KEY = re.compile(r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----")
TOKEN_SHAPES = {
    "an AWS access key": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "a GitHub token": re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})\b"),
    "a Slack token": re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
}
# `SECRET_KEY = "..."`, `password="..."`, `"FIELD_ENCRYPTION_KEY": "..."`, env("X", "default"):
# a name that holds a secret, given a literal value.
SECRET_ASSIGNMENT = re.compile(
    r"""(?ix)
    (?P<env>\benv\(\s*["'])?                     # env("NAME", "default")
    \b(?P<name>\w*(?:secret_key|field_encryption_key|card_verification_key|password\d?))\b
    ["']?\s*(?(env),|[=:])\s*                     # = or : (a dict, YAML), or the , after env's name
    (?P<prefix>[rbuf]?)(?P<quote>["'])(?P<value>[^"'\n]{8,})(?P=quote)
    """
)
# Values that name something rather than hold a secret: allauth's settings key forms and
# rate limits by the name of the step they are for ("reset_password": "5/m/ip").
NOT_A_SECRET = re.compile(r"^(?:[a-z_]+(?:\.\w+)+|\d+/\w+(?:/\w+)?(?:,\d+/\w+(?:/\w+)?)*)$")


@dataclass(frozen=True)
class Finding:
    where: str
    line: int
    kind: str

    def __str__(self):
        return f"{self.where}:{self.line}: {self.kind}"


def _aadhaar_numbers(text):
    for match in AADHAAR_IN_TEXT.finditer(text):
        number = match.group(1) + match.group(3) + match.group(4)
        # Aadhaar numbers never start with 0 or 1.
        if number[0] not in "01" and verhoeff_valid(number):
            yield number


def find_log_leaks(lines, *, where="log", passwords=(), totp_secrets=()):
    """The findings in `lines` (an iterable of strings): a known password, a known
    authenticator secret, an unmasked PAN or an unmasked Aadhaar number."""
    passwords = [p for p in passwords if p]
    totp_secrets = [s for s in totp_secrets if s]
    findings = []
    for number, line in enumerate(lines, start=1):
        kinds = []
        if any(password in line for password in passwords):
            kinds.append("a password")
        # allauth shows a secret in groups of four on some pages; look for it both ways.
        squeezed = line.replace(" ", "")
        if any(secret in line or secret in squeezed for secret in totp_secrets):
            kinds.append("an authenticator (TOTP) secret")
        if PAN_IN_TEXT.search(line):
            kinds.append("an unmasked PAN")
        if any(_aadhaar_numbers(line)):
            kinds.append("an unmasked Aadhaar number")
        findings.extend(Finding(where, number, kind) for kind in kinds)
    return findings


def scan_log_file(path, *, passwords=(), totp_secrets=()):
    with open(path, encoding="utf-8", errors="replace") as lines:
        return find_log_leaks(lines, where=str(path), passwords=passwords, totp_secrets=totp_secrets)


def find_repository_secrets(text, *, where, allowed_values=frozenset()):
    """The findings in one file's `text`: a private key, a token of a known shape, or a
    secret-holding name given a literal value that is not in `allowed_values`."""
    findings = []
    for number, line in enumerate(text.splitlines(), start=1):
        if PRIVATE_KEY.search(line):
            findings.append(Finding(where, number, "a private key"))
        findings.extend(Finding(where, number, kind) for kind, shape in TOKEN_SHAPES.items() if shape.search(line))
        for match in SECRET_ASSIGNMENT.finditer(line):
            value = match.group("value")
            computed = "f" in match.group("prefix").lower() and "{" in value  # an f-string: not a literal
            if value not in allowed_values and not NOT_A_SECRET.match(value) and not computed:
                findings.append(Finding(where, number, f"{match.group('name')} given a literal value"))
    return findings
