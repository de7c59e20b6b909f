"""The cards module's kinds of maker-checker work (registered by the approvals app).

- `cards.register_terminal`: a terminal operations asked for. Payload:
  {"terminal_id", "branch_id", "location"} (cash.py).
- `cards.replenish_terminal`: notes from the branch's vault into an ATM, with the
  count of what was left. Payload: {"terminal_id", "left", "expected", "loaded"}
  (cash.py; the Replenishment row is found by its approval).
- `cards.resolve_journal_exception`: the resolution of an exception of an ATM's
  electronic journal. Payload: {"exception_id", "resolution", "reason"}, where
  resolution is reverse, suspense or close (journal.py).

Handlers post with the approval's id in the idempotency key and name the checker; an
approval runs its handler once.
"""

from django.utils import timezone

from banking.core.errors import ValidationFailed
from banking.core.money import format_money
from banking.ledger.actions import Line, post_entry
from banking.ledger.chart import ATM_SHORTAGE, ensure_standard_chart
from banking.ledger.models import Channel, EntryKind, LedgerAccount

from . import cash, journal
from .cash_models import JournalException, JournalExceptionStatus, JournalResolution
from .models import Cassette, MessageKind, SwitchMessage, Terminal


def _locked_exception(approval):
    item = JournalException.objects.select_for_update(of=("self",)).select_related(
        "message__card", "reconciliation__terminal").filter(pk=approval.payload.get("exception_id")).first()
    if item is None:
        raise ValidationFailed("The journal exception no longer exists.")
    if item.status == JournalExceptionStatus.RESOLVED:
        raise ValidationFailed(f"This exception was already resolved ({item.get_resolution_display().lower()}).")
    if item.approval_id != approval.pk:
        raise ValidationFailed("Another resolution of this exception was asked for after this one.")
    return item


def _reverse_at_switch(item):
    """A 0420 for the withdrawal, built as the terminal would have sent it, through the
    switch's own reversal path: the switch keeps one reversal per STAN and date."""
    from .switch import handle_message, rupees

    original = item.message
    terminal = item.reconciliation.terminal
    answer = handle_message(terminal=terminal, message={
        "mti": "0420", "processing_code": "01", "stan": original.stan, "terminal_id": terminal.terminal_id,
        "card_number": original.card.number, "amount": rupees(original.amount),
        "dispensed_amount": rupees(item.journal_amount or 0),
        "local_time": f"{original.local_date.isoformat()}T00:00:00"})
    reversal = SwitchMessage.objects.filter(terminal=terminal, kind=MessageKind.REVERSAL, stan=original.stan,
                                            local_date=original.local_date, original=original).first()
    if answer.get("response_code") != "00" or reversal is None or reversal.entry_id is None:
        raise ValidationFailed(f"The switch did not reverse STAN {original.stan}: "
                               f"{answer.get('message') or 'response ' + str(answer.get('response_code'))}.")
    return reversal


def _write_to_shortage(item, approval, checker, reason):
    """Notes the journal paid out beyond the switch's approval: Dr ATM cash shortage,
    Cr the ATM's cash GL, the cassettes losing those notes with the entry."""
    terminal = Terminal.objects.select_for_update().get(pk=item.reconciliation.terminal_id)
    change = {d: (item.switch_notes or {}).get(d, 0) - (item.journal_notes or {}).get(d, 0)
              for d in ("500", "200", "100")}
    counts = {str(c.denomination): c.count for c in Cassette.objects.filter(terminal=terminal)}
    if any(counts[d] + n < 0 for d, n in change.items()):
        raise ValidationFailed(f"The switch's counts of ATM {terminal.terminal_id} hold fewer notes than the "
                               "journal says went out; count the terminal at its next replenishment.")
    amount = item.journal_amount - (item.switch_amount or 0)
    ensure_standard_chart()
    return post_entry(
        actor=approval.maker, checker=checker, kind=EntryKind.CASH_MOVEMENT, channel=Channel.OPERATIONS,
        lines=[Line.debit(LedgerAccount.objects.get(code=ATM_SHORTAGE), amount),
               Line.credit(terminal.ledger_account_id, amount)],
        idempotency_key=f"approval-{approval.pk}", reference=f"{terminal.terminal_id}{item.stan}",
        narration=f"ATM {terminal.terminal_id} STAN {item.stan} paid out beyond approval: {reason}"[:200],
        riders=[cash._cassette_rider(terminal, change)])


def resolve_approved_journal_exception(approval, checker):
    item = _locked_exception(approval)
    resolution, reason = approval.payload.get("resolution"), approval.payload.get("reason", "")
    journal.check_journal_resolution(item, resolution)
    result = {"exception_id": item.pk, "resolution": resolution}
    if resolution == JournalResolution.REVERSE:
        item.reversal = _reverse_at_switch(item)
        item.entry_id = item.reversal.entry_id
        result["reversal_id"] = item.reversal.pk
    elif resolution == JournalResolution.SUSPENSE:
        item.entry = _write_to_shortage(item, approval, checker, reason)
    if item.entry_id:
        result["entry_id"] = item.entry_id
    item.status, item.resolution, item.resolved_at = JournalExceptionStatus.RESOLVED, resolution, timezone.now()
    item.save(update_fields=["status", "resolution", "resolved_at", "entry", "reversal"])
    return result


def reopen_journal_exception(approval, checker):
    JournalException.objects.filter(pk=approval.payload.get("exception_id"), approval=approval,
                                    status=JournalExceptionStatus.PENDING).update(status=JournalExceptionStatus.OPEN)


def describe_journal_resolution(payload):
    item = JournalException.objects.select_related("message", "reconciliation__terminal").filter(
        pk=payload.get("exception_id")).first()
    resolution = payload.get("resolution", "")
    label = JournalResolution(resolution).label if resolution in JournalResolution.values else resolution
    if item is None:
        return [("Exception", f"#{payload.get('exception_id')} (not found)"), ("Resolution", label),
                ("Reason", payload.get("reason", ""))]

    def amount(value):
        return "None: not on this side" if value is None else format_money(value)

    rows = [("Exception", f"{item.get_kind_display()}: ATM {item.reconciliation.terminal.terminal_id}, STAN "
                          f"{item.stan} of {item.local_date:%d %b %Y}"),
            ("Journal", f"{item.reconciliation.name}" + (f", line {item.line_number}" if item.line_number else "")),
            ("The journal paid out", amount(item.journal_amount)),
            ("The switch approved", amount(item.switch_amount)),
            ("The ledger moved", amount(item.ledger_amount))]
    difference = abs((item.journal_amount or 0) - (item.switch_amount or 0))
    if resolution == JournalResolution.REVERSE:
        rows.append(("Resolution", f"Reverse {format_money(difference)} to the customer's account through the "
                                   "switch (a 0420 for this STAN)"))
    elif resolution == JournalResolution.SUSPENSE:
        rows.append(("Resolution", f"Write {format_money(difference)} to ATM cash shortage ({ATM_SHORTAGE}), out "
                                   "of the ATM's cash GL and its cassettes"))
    else:
        rows.append(("Resolution", label))
    rows.append(("Reason", payload.get("reason", "")))
    return rows


KINDS = [
    {"kind": cash.REGISTER_KIND, "label": "ATM registration", "handler": cash.register_approved_terminal,
     "describe": cash.describe_registration},
    {"kind": cash.REPLENISH_KIND, "label": "ATM replenishment from the vault",
     "handler": cash.replenish_approved_terminal, "describe": cash.describe_replenishment,
     "on_reject": cash.close_unapproved_replenishment, "on_lapse": cash.close_unapproved_replenishment},
    {"kind": journal.RESOLVE_KIND, "label": "ATM journal exception resolution",
     "handler": resolve_approved_journal_exception, "describe": describe_journal_resolution,
     "on_reject": reopen_journal_exception, "on_lapse": reopen_journal_exception},
]
