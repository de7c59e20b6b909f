"""The partners' maker-checker work, registered by the approvals app's autodiscovery.

- partners.key_issue       {"key_id", "prefix"}
- partners.key_rotation    {"key_id", "prefix", "replaces", "grace_hours"}
- partners.key_revocation  {"key_id", "prefix", "reason"}
"""

from .actions import (
    CHECKER_PERMISSION,
    ISSUE_KIND,
    REVOKE_KIND,
    ROTATE_KIND,
    activate_approved_key,
    drop_unapproved_key,
    revoke_approved_key,
)
from .models import ApiKey


def describe_key(payload):
    key = ApiKey.objects.select_related("partner__customer", "partner__payout_account").filter(
        pk=payload.get("key_id")).first()
    if key is None:
        return [("Key", f"{payload.get('prefix', '')} (no longer exists)")]
    partner = key.partner
    rows = [("Key", key.prefix), ("Partner", partner.name),
            ("Customer", f"{partner.customer.display_name} (CIF {partner.customer.cif})"),
            ("Scopes", ", ".join(key.scopes)), ("Allowed addresses", ", ".join(key.allowed_networks))]
    if partner.payout_account_id:
        rows.append(("Payout account", partner.payout_account.number))
    if payload.get("replaces"):
        rows.append(("Replaces", f"{payload['replaces']}, valid {payload.get('grace_hours')} more hours"))
    if payload.get("reason"):
        rows.append(("Reason", payload["reason"]))
    return rows


KINDS = [
    {"kind": ISSUE_KIND, "label": "Partner API key", "handler": activate_approved_key, "describe": describe_key,
     "checker_permission": CHECKER_PERMISSION, "on_reject": drop_unapproved_key, "on_lapse": drop_unapproved_key},
    {"kind": ROTATE_KIND, "label": "Partner API key rotation", "handler": activate_approved_key,
     "describe": describe_key, "checker_permission": CHECKER_PERMISSION, "on_reject": drop_unapproved_key,
     "on_lapse": drop_unapproved_key},
    {"kind": REVOKE_KIND, "label": "Partner API key revocation", "handler": revoke_approved_key,
     "describe": describe_key, "checker_permission": CHECKER_PERMISSION},
]
