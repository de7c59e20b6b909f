"""The teller module's kinds of maker-checker work (registered by the approvals app).

- `teller.vault_issue` / `teller.vault_return`: cash between the vault and a till,
  requested by the teller and confirmed by the head teller. Payload:
  {"till_id", "counts": {denomination: count}}.
- `teller.till_close`: the head teller's sign-off of a till's closing count, which
  takes the till's cash into the vault. Payload: {"till_day_id"}.
- `teller.cash_over_limit`: a deposit, withdrawal or counter transfer above the
  teller's cash limit, posted when a supervisor approves. It lapses after an hour:
  the customer is waiting at the counter. Payload: {"transaction_id", "till_id"}.
- `teller.reversal`: the reversal of a teller's posted transaction of today, which
  puts the till's notes back as well. Payload: {"transaction_id", "till_id", "reason"}.
- `deposits.account_opening`: the deposits module's kind (its payload and its
  description), handled here because an initial deposit in cash goes into the till
  that counted it (`actions.open_approved_account_at_counter`).

Handlers post with the approval's id in the idempotency key and name the checker.
"""

import datetime

from banking.core.money import format_money
from banking.deposits.actions import OPENING_KIND
from banking.deposits.approval_kinds import describe_opening

from . import actions
from .denominations import Denominations
from .models import CashBox, CounterTransaction, TillDay


def _till_name(till_id):
    till = CashBox.objects.select_related("teller", "branch").filter(pk=till_id).first()
    return till.name if till else f"till #{till_id}"


def describe_vault_transfer(payload, *, issue):
    counts = Denominations.of(payload.get("counts"))
    rows = [
        ("From", "The vault" if issue else _till_name(payload.get("till_id"))),
        ("To", _till_name(payload.get("till_id")) if issue else "The vault"),
        ("Amount", format_money(counts.value)),
    ]
    rows += [(label, f"{count} ({format_money(value)})" if name != "coins" else format_money(value))
             for name, label, count, value in counts.rows() if count]
    return rows


def describe_vault_issue(payload):
    return describe_vault_transfer(payload, issue=True)


def describe_vault_return(payload):
    return describe_vault_transfer(payload, issue=False)


def describe_till_close(payload):
    day = TillDay.objects.select_related("till__teller", "till__branch").filter(pk=payload.get("till_day_id")).first()
    if day is None:
        return [("Till closure", f"#{payload.get('till_day_id')} (not found)")]
    rows = [
        ("Till", day.till.name),
        ("Business date", f"{day.business_date:%d %b %Y}"),
        ("Expected", format_money(day.expected_counts.value) if day.expected is not None else "—"),
        ("Counted", format_money(day.counted_counts.value) if day.counted is not None else "—"),
        ("Difference", day.difference_label + (" — posted to teller suspense (1902)" if day.difference else "")),
    ]
    if day.counted is not None:
        expected = day.expected_counts
        for name, label, count, value in day.counted_counts.rows():
            was = getattr(expected, name)
            text = format_money(value) if name == "coins" else f"{count} ({format_money(value)})"
            if count != was:
                text += f", expected {format_money(was * 100) if name == 'coins' else was}"
            rows.append((label, text))
    rows.append(("On approval", "The counted cash moves from the till into the vault."))
    return rows


def _transaction_rows(txn):
    rows = [
        ("Transaction", f"{txn.number}, {txn.get_kind_display().lower()} taken by {txn.teller.display_name}"),
        ("Account", f"{txn.account.number}, {txn.account.product.name}"),
        ("Holder", txn.account.customer.display_name),
    ]
    if txn.to_account_id:
        rows.append(("To account", f"{txn.to_account.number} ({txn.to_account.customer.display_name})"))
    rows.append(("Amount", format_money(txn.amount)))
    if txn.is_withdrawal or txn.to_account_id:
        rows.append(("Available now", format_money(txn.account.available)))
    if txn.cheque_id:
        rows.append(("Cheque", txn.cheque.leaf))
    if txn.depositor_name:
        rows.append(("Brought by", txn.depositor_name + (f", {txn.depositor_mobile}" if txn.depositor_mobile else "")))
    if txn.is_cash:
        rows += [(label, format_money(value) if name == "coins" else f"{count} ({format_money(value)})")
                 for name, label, count, value in txn.counts.rows() if count]
    return rows


def _transaction(payload):
    return (CounterTransaction.objects
            .select_related("account__customer", "account__product", "account__ledger_account",
                            "to_account__customer", "teller", "cheque")
            .filter(pk=payload.get("transaction_id")).first())


def describe_cash_over_limit(payload):
    txn = _transaction(payload)
    if txn is None:
        return [("Transaction", f"#{payload.get('transaction_id')} (not found)")]
    return _transaction_rows(txn) + [("On approval", "It posts at once and the teller's screen shows the receipt.")]


def describe_reversal(payload):
    txn = _transaction(payload)
    if txn is None:
        return [("Transaction", f"#{payload.get('transaction_id')} (not found)")]
    rows = [("Reason", payload.get("reason", ""))] + _transaction_rows(txn)
    if txn.entry_id:
        rows.append(("Entry to reverse", txn.entry.number))
    if txn.is_deposit:
        rows.append(("On approval", "The account is debited and the notes go back to the customer from the till."))
    elif txn.is_withdrawal:
        rows.append(("On approval", "The account is credited back and the notes return to the till."))
    return rows


def describe_opening_with_cash(payload):
    rows = describe_opening(payload)
    txn = (CounterTransaction.objects.select_related("till__teller", "till__branch")
           .filter(account_id=payload.get("account_id"), approval__kind=OPENING_KIND).first())
    if txn is not None:
        rows.append(("Counted into", txn.till.name))
        rows += [(label, format_money(value) if name == "coins" else f"{count} ({format_money(value)})")
                 for name, label, count, value in txn.counts.rows() if count]
    return rows


KINDS = [
    {"kind": OPENING_KIND, "label": "Account opening", "handler": actions.open_approved_account_at_counter,
     "describe": describe_opening_with_cash},
    {"kind": actions.VAULT_ISSUE, "label": "Cash from the vault to a till",
     "handler": actions.carry_out_vault_transfer,
     "describe": describe_vault_issue},
    {"kind": actions.VAULT_RETURN, "label": "Cash from a till to the vault",
     "handler": actions.carry_out_vault_transfer,
     "describe": describe_vault_return},
    {"kind": actions.TILL_CLOSE, "label": "Till closure sign-off", "handler": actions.sign_off_till,
     "describe": describe_till_close},
    {"kind": actions.CASH_OVER_LIMIT, "label": "Cash over the teller's limit",
     "handler": actions.post_approved_transaction, "describe": describe_cash_over_limit,
     "expires_after": datetime.timedelta(hours=1)},
    {"kind": actions.COUNTER_REVERSAL, "label": "Reversal at the counter",
     "handler": actions.reverse_approved_transaction, "describe": describe_reversal},
]
