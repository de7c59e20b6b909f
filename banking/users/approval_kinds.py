"""Staff changes through maker-checker, registered by the approvals app's autodiscovery.

- `users.staff_change`: a person's roles, branch, approval limit and cash limit.
  Payload: {"person_id", "username", "name", "roles", "branch", "approval_limit",
  "cash_limit", "before"}, limits in paise, branch by code (None: head office).
- `users.staff_credentials_reset`: a person's password and authenticators reset,
  with a link to choose a new password sent to their email. Payload: {"person_id",
  "username", "name", "email"}: never a password or its hash.

Both are checked by administrators (`users.manage_staff`), never by the person
the request is about.
"""

from .actions import (
    CHECKER_PERMISSION,
    CREDENTIALS_RESET,
    STAFF_CHANGE,
    apply_credentials_reset,
    apply_staff_change,
    describe_credentials_reset,
    describe_staff_change,
)

KINDS = [
    {"kind": STAFF_CHANGE, "label": "Staff role change", "handler": apply_staff_change,
     "describe": describe_staff_change, "checker_permission": CHECKER_PERMISSION},
    {"kind": CREDENTIALS_RESET, "label": "Staff password reset", "handler": apply_credentials_reset,
     "describe": describe_credentials_reset, "checker_permission": CHECKER_PERMISSION},
]
