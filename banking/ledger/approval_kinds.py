"""The ledger's kinds of maker-checker work, registered by the approvals app's
autodiscovery (the ledger itself imports no other domain app).

- `ledger.manual_journal`: a journal entered by operations, posted when a second
  person approves it. Payload: {"narration", "lines": [{"account_id", "side", "amount"}]}.
- `ledger.reversal`: the reversal of a posted entry. Payload: {"entry_id", "reason"}.

Both post with the approval's id as the idempotency key, so an approval that is
retried posts once; the maker is the entry's maker and the checker its checker.

- `ledger.holiday_add`: a bank holiday operations entered. Payload: {"date", "name"}.
- `ledger.holiday_remove`: a holiday entered earlier, made a working day again.
  Payload: {"date", "name"}.

Both are checked by a second member of operations (`operations.manage_holidays`) and
checked again when approved (holidays.py), since the business date may have moved.
"""

import datetime

from banking.core.errors import ValidationFailed
from banking.core.money import format_money

from .actions import Line, add_holiday, post_entry, remove_holiday, reverse_entry
from .models import Channel, EntryKind, JournalEntry, LedgerAccount, Side


def _lines(payload):
    try:
        return [Line(int(line["account_id"]), line["side"], int(line["amount"])) for line in payload["lines"]]
    except (KeyError, TypeError, ValueError):
        raise ValidationFailed("The journal's lines are incomplete.") from None


def post_approved_journal(approval, checker):
    entry = post_entry(
        actor=approval.maker, checker=checker, lines=_lines(approval.payload), kind=EntryKind.MANUAL,
        narration=approval.payload.get("narration", ""), channel=Channel.OPERATIONS,
        idempotency_key=f"approval-{approval.pk}", reference=f"AR{approval.pk}",
    )
    return {"entry_id": entry.pk, "entry_number": entry.number}


def describe_journal(payload):
    lines = payload.get("lines") or []
    names = LedgerAccount.objects.in_bulk([line.get("account_id") for line in lines])
    rows = [("Narration", payload.get("narration", ""))]
    for line in lines:
        account = names.get(line.get("account_id"))
        side = "Debit" if line.get("side") == Side.DEBIT else "Credit"
        label = f"{account.code} {account.name}" if account else f"account #{line.get('account_id')}"
        rows.append((side, f"{label}: {format_money(int(line.get('amount', 0)))}"))
    debits = sum(int(line.get("amount", 0)) for line in lines if line.get("side") == Side.DEBIT)
    rows.append(("Total", f"{format_money(debits)} debited and credited across {len(lines)} lines"))
    return rows


def reverse_approved_entry(approval, checker):
    entry = JournalEntry.objects.filter(pk=approval.payload.get("entry_id")).first()
    if entry is None:
        raise ValidationFailed("The entry to reverse no longer exists.")
    reason = approval.payload.get("reason", "")
    reversal = reverse_entry(
        actor=approval.maker, checker=checker, entry=entry, idempotency_key=f"approval-{approval.pk}",
        narration=f"Reversal of {entry.number}: {reason}"[:200],
    )
    return {"entry_id": reversal.pk, "entry_number": reversal.number, "reversed_entry_id": entry.pk}


def describe_reversal(payload):
    entry = JournalEntry.objects.filter(pk=payload.get("entry_id")).prefetch_related("postings__account").first()
    if entry is None:
        return [("Entry", f"#{payload.get('entry_id')} (not found)"), ("Reason", payload.get("reason", ""))]
    rows = [
        ("Entry to reverse", f"{entry.number}, {entry.get_kind_display()}, {entry.business_date:%d %b %Y}"),
        ("Its narration", entry.narration),
        ("Amount", format_money(entry.total, entry.currency)),
        ("Reason", payload.get("reason", "")),
    ]
    for posting in entry.postings.all():
        side = "Will credit" if posting.side == Side.DEBIT else "Will debit"
        rows.append((side, f"{posting.account.code} {posting.account.name}: {format_money(posting.amount)}"))
    return rows


def _holiday_date(payload):
    try:
        return datetime.date.fromisoformat(str(payload["date"]))
    except (KeyError, TypeError, ValueError):
        raise ValidationFailed("The holiday's date is missing from the request.") from None


def add_approved_holiday(approval, checker):
    holiday = add_holiday(actor=approval.maker, checker=checker, date=_holiday_date(approval.payload),
                          name=approval.payload.get("name", ""))
    return {"holiday_id": holiday.pk, "date": holiday.date.isoformat()}


def remove_approved_holiday(approval, checker):
    date = remove_holiday(actor=approval.maker, checker=checker, date=_holiday_date(approval.payload))
    return {"date": date.isoformat()}


def describe_holiday(payload):
    try:
        date = f"{_holiday_date(payload):%A, %d %B %Y}"
    except ValidationFailed as error:
        date = str(error)
    return [("Date", date), ("Holiday", payload.get("name", ""))]


HOLIDAY_CHECKER = "operations.manage_holidays"

KINDS = [
    {"kind": "ledger.manual_journal", "label": "Manual journal", "handler": post_approved_journal,
     "describe": describe_journal},
    {"kind": "ledger.reversal", "label": "Reversal of an entry", "handler": reverse_approved_entry,
     "describe": describe_reversal},
    {"kind": "ledger.holiday_add", "label": "Bank holiday", "handler": add_approved_holiday,
     "describe": describe_holiday, "checker_permission": HOLIDAY_CHECKER},
    {"kind": "ledger.holiday_remove", "label": "Removal of a bank holiday", "handler": remove_approved_holiday,
     "describe": describe_holiday, "checker_permission": HOLIDAY_CHECKER},
]
