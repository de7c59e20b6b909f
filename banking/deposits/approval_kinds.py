"""The deposit module's maker-checker work, registered by the approvals app's
autodiscovery. Each handler runs inside the approval's transaction; a BankingError
it raises marks the request failed and rolls its work back. Account opening is
registered by the teller module (banking/teller/approval_kinds.py), whose handler
opens the account with `open_approved_account` and then posts any initial cash into
the till that counted it; its description is `describe_opening`, here.

- deposits.account_opening  {"account_id", "number", "initial_deposit", "overdraft_limit"}
- deposits.freeze           {"account_id", "number", "freeze": "debit" | "total", "reason"}
- deposits.unfreeze         {"account_id", "number", "reason"}
- deposits.closure          {"account_id", "number", "reason", "payout_to": account id or None}
"""

from banking.core.money import format_money

from .actions import (
    CLOSURE_KIND,
    FREEZE_KIND,
    UNFREEZE_KIND,
    close_approved_account,
    freeze_approved_account,
    unfreeze_approved_account,
)
from .models import DepositAccount


def _account(payload):
    return (
        DepositAccount.objects.select_related("product", "customer", "branch", "ledger_account")
        .filter(pk=payload.get("account_id"))
        .first()
    )


def _account_rows(account, payload):
    if account is None:
        return [("Account", f"{payload.get('number', '')} (no longer exists)")]
    rows = [
        ("Account", f"{account.number} · {account.product.name}"),
        ("Customer", f"{account.customer.display_name} (CIF {account.customer.cif})"),
        ("KYC", account.customer.get_kyc_status_display()),
        ("Branch", str(account.branch)),
    ]
    if account.ledger_account_id:
        rows.append(("Balance now", format_money(account.ledger_account.balance)))
        if account.ledger_account.on_hold:
            rows.append(("On hold", format_money(account.ledger_account.on_hold)))
        rows.append(("Status now", account.get_status_display()))
    return rows


def describe_opening(payload):
    account = _account(payload)
    rows = _account_rows(account, payload)
    if account is not None:
        holders = [f"{h.customer.display_name} (CIF {h.customer.cif}, KYC {h.customer.get_kyc_status_display()})"
                   for h in account.holders.select_related("customer")]
        rows.append(("Joint holders", "; ".join(holders) or "None"))
        rows.append(("Mode of operation", account.get_mode_of_operation_display()))
        if account.nominee_name:
            nominee = f"{account.nominee_name} ({account.nominee_relationship})"
            if account.nominee_guardian_name:
                nominee += f", a minor; guardian {account.nominee_guardian_name}"
            rows.append(("Nominee", nominee))
        else:
            rows.append(("Nominee", "None"))
    deposit = int(payload.get("initial_deposit") or 0)
    rows.append(("Initial cash deposit", format_money(deposit) if deposit else "None"))
    if payload.get("overdraft_limit"):
        rows.append(("Overdraft limit", format_money(int(payload["overdraft_limit"]))))
    return rows


def describe_freeze(payload):
    if payload.get("freeze") == "debit":
        kind = "Debit freeze: credits still allowed"
    else:
        kind = "Total freeze: no debits or credits"
    return [*_account_rows(_account(payload), payload), ("Freeze", kind), ("Reason", payload.get("reason", ""))]


def describe_unfreeze(payload):
    return [*_account_rows(_account(payload), payload), ("Reason", payload.get("reason", ""))]


def describe_closure(payload):
    rows = [*_account_rows(_account(payload), payload), ("Reason", payload.get("reason", ""))]
    target = DepositAccount.objects.filter(pk=payload.get("payout_to")).first() if payload.get("payout_to") else None
    rows.append(("Balance paid out to", f"{target.number} · {target.product.name}" if target else "Nothing to pay out"))
    return rows


KINDS = [
    {"kind": FREEZE_KIND, "label": "Account freeze", "handler": freeze_approved_account, "describe": describe_freeze},
    {"kind": UNFREEZE_KIND, "label": "Lifting a freeze", "handler": unfreeze_approved_account,
     "describe": describe_unfreeze},
    {"kind": CLOSURE_KIND, "label": "Account closure", "handler": close_approved_account,
     "describe": describe_closure},
]
