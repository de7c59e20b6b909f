"""Reconciliation of an ATM's electronic journal (EJ) with the switch's log and the ledger.

Design overview
- The journal is CSV, a header row first: STAN,TIME,N500,N200,N100,RESULT. TIME is
  the terminal's local time in ISO 8601 (2026-12-07T10:15:00+05:30); N500, N200 and
  N100 are the notes that went out; RESULT is DISPENSED (notes went out),
  NOT_DISPENSED (the terminal took the approval but put out no notes) or DECLINED
  (the switch said no). A file with any bad line is refused as a whole, every
  problem named by its line, and nothing is written (`parse_journal`); so is the
  same file uploaded again for the same terminal.
- Three sources are matched per transaction (terminal, STAN, the date of its local
  time), in one pass over three queries (`reconcile_journal`):
    the journal    the notes that went out;
    the switch     its withdrawal and any reversal: what it approved net of what
                   reversals gave back, and the notes it chose;
    the ledger     what the entries of those messages took out of the ATM's cash GL.
- Exceptions:
    approved but not dispensed   the switch approved and nothing went out;
    dispensed but not approved   notes went out that the switch declined or never saw;
    count mismatch               both sides have it, but amounts or notes differ;
    missing at the switch        a journal line (no notes) the switch never saw;
    missing in the journal       an approved withdrawal of the journal's dates that
                                 the journal does not list;
    missing in the ledger        the ledger's amount differs from the switch's.
- Each exception is resolved through maker-checker (`request_journal_resolution`,
  the kind `cards.resolve_journal_exception`), as payments reconciliation does:
    reverse    what the switch approved and the journal did not pay out goes back to
               the customer through the switch's own reversal path (a 0420 built
               from the withdrawal, with the journal's dispensed amount): once,
               because the switch keeps one reversal per STAN and date, and the
               resolution is refused when one exists;
    suspense   notes the journal paid out beyond the switch's approval: Dr ATM cash
               shortage (1903), Cr the ATM's cash GL, and the cassettes' counts lose
               the notes, so the GL still equals the cassettes;
    close      nothing to post (the amounts agree, or the sides are explained).
  A resolution that does not fit is refused when asked for and again when approved.

Errors: ValidationFailed.
"""

import csv
import datetime
import hashlib
import io
import re
from collections import defaultdict

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from banking.audit.actions import record_event
from banking.core.errors import ValidationFailed
from banking.core.money import format_money
from banking.ledger.models import Posting

from .cash_models import (
    JournalException,
    JournalExceptionKind,
    JournalExceptionStatus,
    JournalReconciliation,
    JournalResolution,
)
from .models import DENOMINATIONS, MessageKind, SwitchMessage

HEADER = ["STAN", "TIME", "N500", "N200", "N100", "RESULT"]
RESULTS = ("DISPENSED", "NOT_DISPENSED", "DECLINED")
RESOLVE_KIND = "cards.resolve_journal_exception"
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_PROBLEMS_SHOWN = 10
APPROVED = "00"
STAN = re.compile(r"[0-9]{6}")
COUNT = re.compile(r"[0-9]{1,5}")


class JournalLine:
    __slots__ = ("number", "stan", "date", "notes", "result")

    def __init__(self, number, stan, date, notes, result):
        self.number, self.stan, self.date, self.notes, self.result = number, stan, date, notes, result

    @property
    def amount(self):
        return sum(int(d) * n for d, n in self.notes.items()) * 100


def _local_date(text):
    try:
        moment = datetime.datetime.fromisoformat(text)
    except (ValueError, OverflowError):
        return None
    return timezone.localtime(moment).date() if timezone.is_aware(moment) else moment.date()


def _problem_of(row):
    """(what is wrong with the row, or None, and the JournalLine parts)."""
    if len(row) != len(HEADER):
        return f"has {len(row)} columns; a journal line has {len(HEADER)} ({','.join(HEADER)})", None
    stan, time, n500, n200, n100, result = (cell.strip() for cell in row)
    if not STAN.fullmatch(stan):
        return f"the STAN {stan!r} is not 6 digits", None
    date = _local_date(time)
    if date is None:
        return f"the time {time!r} is not a date and time like 2026-12-07T10:15:00+05:30", None
    notes = {}
    for denomination, count in zip(DENOMINATIONS, (n500, n200, n100), strict=True):
        if not COUNT.fullmatch(count):
            return f"the count of ₹{denomination} notes {count!r} is not a whole number of 0 or more", None
        notes[str(denomination)] = int(count)
    result = result.upper()
    if result not in RESULTS:
        return f"the result {result!r} is none of {', '.join(RESULTS)}", None
    went_out = sum(notes.values())
    if result == "DISPENSED" and not went_out:
        return "the result is DISPENSED but no notes are counted", None
    if result != "DISPENSED" and went_out:
        return f"the result is {result} but {went_out} notes are counted", None
    return None, (stan, date, notes, result)


def parse_journal(name, data):
    """The journal's lines, or ValidationFailed naming what is wrong (every bad line,
    up to ten of them, by number)."""
    name = " ".join(str(name or "").split())[:80]
    if not name:
        raise ValidationFailed("Choose the electronic journal to upload.")
    if not name.lower().endswith(".csv"):
        raise ValidationFailed(f"{name} is not a CSV file: export the electronic journal as CSV.")
    if isinstance(data, bytes):
        if len(data) > MAX_FILE_BYTES:
            raise ValidationFailed(f"{name} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB; one terminal's "
                                   "journal is far smaller.")
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationFailed(f"{name} is not a text file (CSV in UTF-8).") from None
    if "\x00" in data:
        raise ValidationFailed(f"{name} is not a text file (CSV in UTF-8).")
    rows = list(csv.reader(io.StringIO(data.lstrip("\ufeff"))))
    numbered = [(number, row) for number, row in enumerate(rows, start=1) if row and any(c.strip() for c in row)]
    if not numbered or [cell.strip().upper() for cell in numbered[0][1]] != HEADER:
        raise ValidationFailed(f"{name} does not start with the journal's header row: {','.join(HEADER)}.")
    lines, problems, seen = [], [], {}
    for number, row in numbered[1:]:
        problem, parts = _problem_of(row)
        if problem is None:
            stan, date = parts[0], parts[1]
            if (stan, date) in seen:
                problem = f"STAN {stan} of {date:%d %b %Y} appears again (first on line {seen[stan, date]})"
            else:
                seen[stan, date] = number
                lines.append(JournalLine(number, *parts))
        if problem:
            problems.append(f"line {number}: {problem}")
    if problems:
        more = len(problems) - MAX_PROBLEMS_SHOWN
        shown = "; ".join(problems[:MAX_PROBLEMS_SHOWN]) + (f"; and {more} more" if more > 0 else "")
        raise ValidationFailed(f"{name} was not reconciled, nothing was kept: {shown}.")
    if not lines:
        raise ValidationFailed(f"{name} has no transactions after its header row.")
    return name, data, lines


def _switch_side(terminal, first, last):
    """The terminal's withdrawals of those dates by (stan, date), each with the
    amount its reversals gave back, and the ledger's net credit to the ATM's GL for
    each withdrawal's entries."""
    withdrawals = {(m.stan, m.local_date): m for m in SwitchMessage.objects.filter(
        terminal=terminal, kind=MessageKind.WITHDRAWAL, local_date__range=(first, last)).select_related("card")}
    reversed_by, reversal_of, entries = defaultdict(int), {}, defaultdict(list)
    for message in withdrawals.values():
        if message.entry_id:
            entries[message.entry_id].append(message.pk)
    for reversal in SwitchMessage.objects.filter(terminal=terminal, kind=MessageKind.REVERSAL,
                                                 original__in=[m.pk for m in withdrawals.values()]):
        reversed_by[reversal.original_id] += reversal.reversed_amount
        reversal_of[reversal.original_id] = reversal
        if reversal.entry_id:
            entries[reversal.entry_id].append(reversal.original_id)
    ledger = defaultdict(int)
    postings = Posting.objects.filter(account_id=terminal.ledger_account_id, entry_id__in=list(entries)).values(
        "entry_id", "side").annotate(total=Sum("amount"))
    for row in postings:
        signed = row["total"] if row["side"] == "C" else -row["total"]
        for original in entries[row["entry_id"]]:
            ledger[original] += signed
    return withdrawals, reversed_by, reversal_of, ledger


def _net(message, reversed_by):
    if message is None or message.response_code != APPROVED:
        return 0
    return message.amount - reversed_by[message.pk]


def _notes_of(message):
    if message is None or message.response_code != APPROVED:
        return {}
    return {str(d): int(n) for d, n in (message.response.get("notes") or {}).items()}


def _classify(line, message, switch, ledger, has_reversal):
    """The exception kind for a journal line against its withdrawal, or None."""
    journal = line.amount
    if message is None:
        return JournalExceptionKind.DISPENSED_NOT_APPROVED if journal else JournalExceptionKind.MISSING_SWITCH
    if message.response_code != APPROVED:
        return JournalExceptionKind.DISPENSED_NOT_APPROVED if journal else None
    if ledger != switch:
        return JournalExceptionKind.MISSING_LEDGER
    if journal == switch:
        if journal and not has_reversal:
            notes = {d: n for d, n in _notes_of(message).items() if n}
            if notes != {d: n for d, n in line.notes.items() if n}:
                return JournalExceptionKind.COUNT_MISMATCH
        return None
    if journal == 0:
        return JournalExceptionKind.APPROVED_NOT_DISPENSED
    return JournalExceptionKind.COUNT_MISMATCH


@transaction.atomic
def reconcile_journal(*, actor, terminal, name, data):
    """Keep the terminal's journal, match it with the switch's log and the ledger, and
    return the JournalReconciliation with its exceptions. A bad file raises
    ValidationFailed and leaves nothing. Locks nothing: it reads the switch's log and
    the ledger, and writes only its own rows."""
    name, text, lines = parse_journal(name, data)
    content_hash = hashlib.sha256(text.encode()).hexdigest()
    done = JournalReconciliation.objects.filter(terminal=terminal, content_hash=content_hash).first()
    if done is not None:
        raise ValidationFailed(f"This journal of {terminal.terminal_id} was already reconciled on "
                               f"{timezone.localtime(done.uploaded_at):%d %b %Y %H:%M} (as {done.name}).")
    first, last = min(line.date for line in lines), max(line.date for line in lines)
    withdrawals, reversed_by, reversal_of, ledger = _switch_side(terminal, first, last)
    try:
        with transaction.atomic():
            reconciliation = JournalReconciliation.objects.create(
                terminal=terminal, name=name, content=text, content_hash=content_hash, uploaded_by=actor,
                first_date=first, last_date=last, lines=len(lines))
    except IntegrityError:
        raise ValidationFailed(f"This journal of {terminal.terminal_id} was already reconciled.") from None
    items, matched, listed = [], 0, set()
    for line in lines:
        message = withdrawals.get((line.stan, line.date))
        listed.add((line.stan, line.date))
        switch = _net(message, reversed_by)
        ledger_amount = ledger[message.pk] if message is not None and message.response_code == APPROVED else 0
        kind = _classify(line, message, switch, ledger_amount, message is not None and message.pk in reversal_of)
        if kind is None:
            matched += 1
            continue
        items.append(JournalException(
            reconciliation=reconciliation, kind=kind, stan=line.stan, local_date=line.date, line_number=line.number,
            message=message, journal_amount=line.amount, journal_notes=line.notes, journal_result=line.result,
            switch_amount=switch if message is not None else None, switch_notes=_notes_of(message),
            ledger_amount=ledger_amount if message is not None else None))
    for key, message in sorted(withdrawals.items()):
        switch = _net(message, reversed_by)
        if key in listed or not switch:
            continue
        items.append(JournalException(
            reconciliation=reconciliation, kind=JournalExceptionKind.MISSING_JOURNAL, stan=message.stan,
            local_date=message.local_date, message=message, switch_amount=switch, switch_notes=_notes_of(message),
            ledger_amount=ledger[message.pk]))
    JournalException.objects.bulk_create(items)
    reconciliation.matched, reconciliation.exceptions = matched, len(items)
    reconciliation.save(update_fields=["matched", "exceptions"])
    record_event(action="cards.journal_reconciled", obj=reconciliation, actor=actor,
                 summary=f"Journal {name} of ATM {terminal.terminal_id} reconciled: {matched} matched, "
                         f"{len(items)} exceptions",
                 after={"terminal": terminal.terminal_id, "lines": len(lines), "matched": matched,
                        "exceptions": len(items), "from": first.isoformat(), "to": last.isoformat()})
    return reconciliation


# -- resolutions ------------------------------------------------------------------------


def _has_reversal(item):
    return item.message_id is not None and SwitchMessage.objects.filter(
        terminal_id=item.message.terminal_id, kind=MessageKind.REVERSAL, stan=item.stan,
        local_date=item.local_date).exists()


def check_journal_resolution(item, resolution):
    """Refuse a resolution that does not fit the exception (ValidationFailed)."""
    journal, switch = item.journal_amount or 0, item.switch_amount or 0
    if resolution == JournalResolution.REVERSE:
        if item.message is None or item.message.response_code != APPROVED:
            raise ValidationFailed(f"STAN {item.stan}: the switch approved nothing, so there is nothing to reverse.")
        if item.kind == JournalExceptionKind.MISSING_LEDGER:
            raise ValidationFailed(f"STAN {item.stan}: the ledger does not agree with the switch; put the ledger "
                                   "right before reversing anything.")
        if journal >= switch:
            raise ValidationFailed(f"STAN {item.stan}: the journal paid out all the switch approved; there is "
                                   "nothing to give back.")
        if _has_reversal(item):
            raise ValidationFailed(f"STAN {item.stan} of {item.local_date:%d %b %Y} has already been reversed at "
                                   "the switch.")
    elif resolution == JournalResolution.SUSPENSE:
        if journal <= switch:
            raise ValidationFailed(f"STAN {item.stan}: the journal paid out no more than the switch approved; "
                                   "there is nothing to write to ATM shortage.")
        if _has_reversal(item):
            raise ValidationFailed(f"STAN {item.stan} was partly reversed at the switch: settle it by hand with a "
                                   "manual journal.")
    elif resolution == JournalResolution.CLOSE:
        if journal != switch and item.kind != JournalExceptionKind.MISSING_LEDGER:
            raise ValidationFailed(f"STAN {item.stan}: the journal and the switch differ by "
                                   f"{format_money(abs(journal - switch))}; reverse it or write it to suspense.")
    else:
        raise ValidationFailed("Choose reverse, write to ATM shortage suspense or close.")


def resolution_amount(item, resolution):
    if resolution == JournalResolution.CLOSE:
        return 0
    return abs((item.journal_amount or 0) - (item.switch_amount or 0))


def awaiting_approval(item):
    return item.status == JournalExceptionStatus.PENDING and item.approval_id is not None and item.approval.is_pending


@transaction.atomic
def request_journal_resolution(*, actor, exception, resolution, reason, idempotency_key=""):
    """Ask a checker to resolve `exception` with `resolution`; returns the
    ApprovalRequest. Locks the exception's row, so one request is asked at a time."""
    from banking.approvals.actions import submit_request

    item = JournalException.objects.select_for_update(of=("self",)).select_related(
        "message", "approval", "reconciliation__terminal").get(pk=exception.pk)
    reason = " ".join(str(reason or "").split())
    if not reason:
        raise ValidationFailed("Give the reason for this resolution; the checker reads it.")
    if item.status == JournalExceptionStatus.RESOLVED:
        raise ValidationFailed(f"This exception was already resolved ({item.get_resolution_display().lower()}).")
    if awaiting_approval(item):
        raise ValidationFailed("A resolution of this exception is already awaiting approval.")
    check_journal_resolution(item, resolution)
    label = JournalResolution(resolution).label
    amount = resolution_amount(item, resolution)
    approval = submit_request(
        actor=actor, kind=RESOLVE_KIND, amount=amount, branch=None, idempotency_key=idempotency_key,
        payload={"exception_id": item.pk, "resolution": resolution, "reason": reason[:500]},
        summary=f"{label}: {item.get_kind_display().lower()}, ATM {item.reconciliation.terminal.terminal_id} "
                f"STAN {item.stan} ({format_money(amount)})")
    before = item.status
    item.status, item.approval, item.resolution = JournalExceptionStatus.PENDING, approval, resolution
    item.save(update_fields=["status", "approval", "resolution"])
    record_event(action="cards.journal_resolution_requested", obj=item, actor=actor,
                 summary=f"{label} asked for {item}: {reason}", before={"status": before},
                 after={"status": item.status, "approval": approval.pk})
    return approval
