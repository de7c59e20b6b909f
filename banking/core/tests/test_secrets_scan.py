"""No secret in the repository, and the scan of the browser journeys' server logs finds
what it is for (the scan itself runs at the end of every `pytest e2e`, e2e/conftest.py)."""

import ast
import subprocess
from pathlib import Path

from banking.core.identifiers import with_check_digit
from banking.core.secrets_scan import find_log_leaks, find_repository_secrets, scan_log_file
from banking.demo.data import DEMO_PASSWORD
from banking.testing import PASSWORD

ROOT = Path(__file__).resolve().parents[3]


def _production_defaults():
    """production.py's DEFAULT_* values, read without importing it (importing it
    refuses to start with those very defaults)."""
    tree = ast.parse((ROOT / "config/settings/production.py").read_text())
    return {
        node.targets[0].id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
        and node.targets[0].id.startswith("DEFAULT_") and isinstance(node.value, ast.Constant)
    }


DEFAULTS = _production_defaults()
DEFAULT_SECRET_KEY, DEFAULT_FIELD_KEY = DEFAULTS["DEFAULT_SECRET_KEY"], DEFAULTS["DEFAULT_FIELD_KEY"]

# The only literal values a secret-holding name may have outside the tests, each with its reason.
ALLOWED_VALUES = {
    DEFAULT_SECRET_KEY: "development default in config/settings/base.py; production.py refuses to start with it",
    DEFAULT_FIELD_KEY: "development default in config/settings/base.py; production.py refuses to start with it",
    DEMO_PASSWORD: "the demo data's password, published in the README for people trying the bank",
    PASSWORD: "banking/testing.py: the password of the users the tests make in throwaway databases",
    "Current password": "portals/credentials.py: a form field's label, not a password",
    "New password": "portals/credentials.py: a form field's label, not a password",
    "New password again": "portals/credentials.py: a form field's label, not a password",
    "correct horse battery": "portals/api/auth.py: the example in the token endpoint's OpenAPI description",
}


def _is_test_file(path):
    # Tests sign throwaway users in and out of throwaway databases with passwords of their
    # own (wrong ones included); keys there must still be the defaults above.
    return "/tests/" in f"/{path}" or path.startswith("e2e/")


# This file: its samples of every kind of secret are there on purpose, for the tests
# below that prove the scan finds each kind.
SAMPLES = Path(__file__).resolve().relative_to(ROOT).as_posix()


def test_no_file_git_tracks_holds_a_key_token_or_password():
    names = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    findings = []
    for name in filter(None, names.split("\0")):
        path = ROOT / name
        if name == SAMPLES or not path.is_file():  # not path: deleted in the working tree, not yet committed
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:  # images, fonts
            continue
        for finding in find_repository_secrets(text, where=name, allowed_values=ALLOWED_VALUES):
            if _is_test_file(name) and "PASSWORD" in finding.kind.upper():
                continue
            findings.append(str(finding))
    assert not findings, "Secrets in the repository:\n" + "\n".join(findings)


def test_repository_scan_finds_each_kind_of_secret():
    text = "\n".join([
        "-----BEGIN OPENSSH PRIVATE KEY-----",
        'aws = "AKIAIOSFODNN7EXAMPLE"',
        "token: ghp_" + "a1B2" * 9,
        "hook = 'xoxb-1234567890-abcdefghij'",
        'SECRET_KEY = "a-real-secret-key-from-production"',
        'FIELD_ENCRYPTION_KEY = env("FIELD_ENCRYPTION_KEY", "c29tZS1yZWFsLWtleQ==")',
        "CBS_CARD_VERIFICATION_KEY: 'an-actual-card-key-123'",
        '{"password": "hunter2-but-longer"}',
    ])
    found = [(f.line, f.kind) for f in find_repository_secrets(text, where="x", allowed_values=ALLOWED_VALUES)]
    assert found == [
        (1, "a private key"),
        (2, "an AWS access key"),
        (3, "a GitHub token"),
        (4, "a Slack token"),
        (5, "SECRET_KEY given a literal value"),
        (6, "FIELD_ENCRYPTION_KEY given a literal value"),
        (7, "CBS_CARD_VERIFICATION_KEY given a literal value"),
        (8, "password given a literal value"),
    ]


def test_repository_scan_passes_the_documented_defaults_and_names_that_hold_no_secret():
    text = "\n".join([
        f'SECRET_KEY = env("SECRET_KEY", "{DEFAULT_SECRET_KEY}")',
        f'DEMO_PASSWORD = "{DEMO_PASSWORD}"',
        'CBS_CARD_VERIFICATION_KEY = env("CBS_CARD_VERIFICATION_KEY", "")',
        '"reset_password": "portals.credentials.ResetPasswordForm",',
        '"reset_password": "5/m/ip,3/m/key",',
        "password = form.cleaned_data['password']",
    ])
    assert find_repository_secrets(text, where="x", allowed_values=ALLOWED_VALUES) == []


AADHAAR = with_check_digit("23456789012")  # Verhoeff-valid: 12 digits, not starting 0 or 1
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DP"


def test_log_scan_reports_each_kind_of_leak_with_its_line(tmp_path):
    log = tmp_path / "server.log"
    log.write_text("\n".join([
        "INFO django: sign-in for asha",
        f"INFO portals: login failed password={PASSWORD}",
        f"INFO demo: loaded, password {DEMO_PASSWORD}",
        f"INFO mfa: secret {TOTP_SECRET}",
        "INFO mfa: shown as " + " ".join(TOTP_SECRET[i:i + 4] for i in range(0, len(TOTP_SECRET), 4)),
        "WARNING kyc: PAN ABCPE1234F did not match",
        f"WARNING kyc: aadhaar {AADHAAR} refused",
        f"WARNING kyc: aadhaar {AADHAAR[:4]} {AADHAAR[4:8]} {AADHAAR[8:]} refused",
    ]) + "\n")

    findings = scan_log_file(log, passwords=[PASSWORD, DEMO_PASSWORD], totp_secrets=[TOTP_SECRET])

    assert [(f.line, f.kind) for f in findings] == [
        (2, "a password"),
        (3, "a password"),
        (4, "an authenticator (TOTP) secret"),
        (5, "an authenticator (TOTP) secret"),
        (6, "an unmasked PAN"),
        (7, "an unmasked Aadhaar number"),
        (8, "an unmasked Aadhaar number"),
    ]
    # The report names the file, the line and the kind, never the secret itself.
    report = "\n".join(map(str, findings))
    assert f"{log}:6: an unmasked PAN" in report
    for secret in (PASSWORD, DEMO_PASSWORD, TOTP_SECRET, "ABCPE1234F", AADHAAR):
        assert secret not in report


def test_log_scan_passes_masked_numbers_account_numbers_and_timestamps():
    not_aadhaar = AADHAAR[:-1] + str((int(AADHAAR[-1]) + 1) % 10)  # fails the check digit
    lines = [
        "INFO kyc: PAN ABXXXE12XF, Aadhaar XXXX-XXXX-9012",
        f"INFO ledger: posted to {with_check_digit('12345678901234')}",  # an account number, 15 digits
        f"INFO jobs: id {not_aadhaar} at 1765175935123 (2026-12-08T06:38:55)",
        f"INFO teller: {AADHAAR}7 and x{AADHAAR}",  # twelve digits inside longer words
        "INFO token: ABCDEABCPE1234FXYZ",
        "INFO mfa: TOTP activated for asha",
    ]
    assert find_log_leaks(lines, passwords=[PASSWORD, DEMO_PASSWORD], totp_secrets=[TOTP_SECRET]) == []
