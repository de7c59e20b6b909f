"""Reconciliation of the network's settlement files against our payments.

Design overview
- A settlement file is CSV with the columns of `simulator.SETTLEMENT_COLUMNS`, a
  header row first; AMOUNT in rupees with two decimals; STATUS SETTLED or RETURNED.
- `reconcile_file` reads it line by line. A malformed line (wrong number of
  columns, a UTR not in the rail's format, a bad amount, date, cycle or status, a
  UTR repeated) is reported with its line number in `Reconciliation.malformed`; the
  good lines are still matched.
- Our side is one query: the payments whose reference is in the file, and the
  payments of the cycles the file covers (its own NEFT batch, or the batches named by
  the lines' SETTLEMENT_DATE and CYCLE). Matching is by reference in a dict, and the
  exceptions are written with one bulk insert, so a 50,000-line file reconciles in
  about a second.
- Kinds of exception:
    missing on our side   a line for which we have no payment;
    missing on theirs     a payment of the cycle that no line mentions;
    amount mismatch       the amounts differ (checked first);
    status mismatch       their SETTLED against ours not settled, or their RETURNED
                          against ours neither returned nor reversed.
- Each exception is resolved through maker-checker (`request_resolution`, the kind
  `payments.resolve_exception` in approval_kinds.py): force-settle a sent payment,
  return a payment to the customer (once, through `record_return`), or write the
  unmatched amount or difference to suspense, between the suspense GL and RBI
  settlement. A resolution that does not fit the exception is refused when it is
  asked for and again when it is approved (the payment may have moved meanwhile).

Errors: ValidationFailed (a file that cannot be read, a resolution that does not fit).
"""

import csv
import datetime
import re
from typing import NamedTuple

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from banking.audit.actions import record_event
from banking.core.errors import ValidationFailed
from banking.core.identifiers import REFERENCE_RE
from banking.core.money import format_money

from .models import (
    ExceptionKind,
    ExceptionStatus,
    NeftBatch,
    Payment,
    PaymentStatus,
    Rail,
    Reconciliation,
    ReconciliationException,
    Resolution,
    SettlementFile,
)
from .simulator import SETTLEMENT_COLUMNS

MAX_FILE_BYTES = 20 * 1024 * 1024
AMOUNT_RE = re.compile(r"^\d{1,13}\.\d{2}$")
THEIR_STATUSES = ("SETTLED", "RETURNED")
# Ours, as the network would say it: the money reached the beneficiary or came back.
OURS_RETURNED = (PaymentStatus.RETURNED, PaymentStatus.REVERSED, PaymentStatus.FAILED)
THEIRS_FOR_OURS = {PaymentStatus.SETTLED: "SETTLED", **dict.fromkeys(OURS_RETURNED, "RETURNED")}
RESOLUTION_KIND = "payments.resolve_exception"
RETURN_CODE = "RCN"


class Line(NamedTuple):
    number: int
    utr: str
    date: datetime.date
    cycle: int
    amount: int
    status: str


CYCLES = {str(cycle): cycle for cycle in range(1, 49)}


def _clean_line(rail):
    """A line exactly as the network writes it: unquoted cells, the rail's UTR, an
    amount in rupees and paise, a known status. Most lines match it and skip the
    cell-by-cell checks."""
    utr = REFERENCE_RE[rail].pattern.strip("^$")
    return re.compile(rf"({utr}),([0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}),([0-9]{{1,2}}),[^,\"]*,[^,\"]*,[^,\"]*,"
                      rf"([0-9]{{1,13}})\.([0-9]{{2}}),(SETTLED|RETURNED),[^,\"]*\r?")


def _problem(row, rail):
    """What is wrong with a line that is not clean, or None when it is good."""
    width = len(SETTLEMENT_COLUMNS)
    if len(row) != width:
        return f"has {len(row)} columns; a settlement line has {width}"
    utr, date, cycle, _sender, _ifsc, _account, amount, status, _code = (cell.strip() for cell in row)
    if not REFERENCE_RE[rail].match(utr):
        return f"{utr!r} is not a {rail} UTR"
    if not AMOUNT_RE.match(amount) or amount == "0.00":
        return f"the amount {amount!r} is not rupees with two decimals, above zero"
    try:
        datetime.date.fromisoformat(date)
    except ValueError:
        return f"the settlement date {date!r} is not a date (YYYY-MM-DD)"
    if cycle not in CYCLES:
        return f"the cycle {cycle!r} is not a number from 1 to 48"
    if status.upper() not in THEIR_STATUSES:
        return f"the status {status!r} is neither SETTLED nor RETURNED"
    return None


def parse_lines(text, rail=Rail.NEFT):
    """The good lines of a settlement file and the problems of the others, as
    ([Line], [[line number, what is wrong]]). Written for speed (a cycle can have
    50,000 lines): a line as the network writes it is checked with one regular
    expression and a few look-ups (each date is parsed once); any other line is read
    as CSV (quotes, spaces) and checked cell by cell, so its problem can be named."""
    clean = _clean_line(rail).fullmatch
    good, problems, seen, dates = [], [], {}, {}
    make = Line._make
    for number, raw in enumerate(text.split("\n"), start=1):
        match = clean(raw)
        if match is None:
            row = next(csv.reader([raw]), [])
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if number == 1 and [cell.strip().upper() for cell in row] == SETTLEMENT_COLUMNS:
                continue
            problem = _problem(row, rail)
            if problem:
                problems.append([number, problem])
                continue
            utr, date, cycle, _, _, _, amount, status, _ = (cell.strip() for cell in row)
            rupees, paise = amount.split(".")
            status = status.upper()
        else:
            utr, date, cycle, rupees, paise, status = match.groups()
        day = dates.get(date)
        if day is None:
            try:
                day = dates[date] = datetime.date.fromisoformat(date)
            except ValueError:
                problems.append([number, f"the settlement date {date!r} is not a date (YYYY-MM-DD)"])
                continue
        cycle_number = CYCLES.get(cycle)
        if cycle_number is None:
            problems.append([number, f"the cycle {cycle!r} is not a number from 1 to 48"])
            continue
        amount = int(rupees) * 100 + int(paise)
        if not amount:
            problems.append([number, "the amount '0.00' is not rupees with two decimals, above zero"])
            continue
        if utr in seen:
            problems.append([number, f"UTR {utr} appears again (first on line {seen[utr]})"])
            continue
        seen[utr] = number
        good.append(make((number, utr, day, cycle_number, amount, status)))
    return good, problems


def _our_side(references, batch_ids):
    """Our payments named by the file or belonging to its cycles, as tuples of
    (id, reference, amount, status, batch_id): one query."""
    # The references go as one comma-separated text (a UTR has no comma), not as
    # 50,000 placeholders; PostgreSQL answers with an index scan on each side of
    # the OR (reference is unique, batch has its index).
    table = Payment._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, reference, amount, status, batch_id FROM {table} "  # noqa: S608
                       "WHERE reference = ANY(string_to_array(%s, ',')) OR batch_id = ANY(%s)",
                       [",".join(references), list(batch_ids)])
        return cursor.fetchall()


@transaction.atomic
def reconcile_file(*, actor, settlement_file):
    """Match `settlement_file` against our payments and return the Reconciliation,
    with its exceptions and its malformed lines. Locks nothing: it reads payments
    and writes only its own rows."""
    lines, malformed = parse_lines(settlement_file.content, settlement_file.rail)
    cycles = {(line.date, line.cycle) for line in lines}
    batch_ids = {settlement_file.batch_id} if settlement_file.batch_id else set()
    if cycles:
        dates = {date for date, _ in cycles}
        batch_ids |= {pk for pk, date, cycle in NeftBatch.objects.filter(business_date__in=dates).values_list(
            "pk", "business_date", "cycle") if (date, cycle) in cycles}
    theirs = {line.utr: line for line in lines}
    ours = {row[1]: row for row in _our_side(theirs.keys(), batch_ids)}

    reconciliation = Reconciliation.objects.create(file=settlement_file, run_by=actor, malformed=malformed,
                                                   lines=len(lines) + len(malformed))
    items, matched = [], 0
    for utr, line in theirs.items():
        payment = ours.get(utr)
        if payment is None:
            kind = ExceptionKind.MISSING_OURS
        elif payment[2] != line.amount:
            kind = ExceptionKind.AMOUNT_MISMATCH
        elif THEIRS_FOR_OURS.get(payment[3]) != line.status:
            kind = ExceptionKind.STATUS_MISMATCH
        else:
            matched += 1
            continue
        items.append(ReconciliationException(
            reconciliation=reconciliation, kind=kind, reference=utr, line_number=line.number,
            their_amount=line.amount, their_status=line.status, payment_id=payment and payment[0],
            our_amount=payment and payment[2], our_status=payment[3] if payment else ""))
    for utr, (pk, _, amount, status, batch_id) in ours.items():
        if utr not in theirs and batch_id in batch_ids:
            items.append(ReconciliationException(
                reconciliation=reconciliation, kind=ExceptionKind.MISSING_THEIRS, reference=utr or "",
                payment_id=pk, our_amount=amount, our_status=status))
    ReconciliationException.objects.bulk_create(items, batch_size=5000)
    reconciliation.matched, reconciliation.exceptions = matched, len(items)
    reconciliation.save(update_fields=["matched", "exceptions"])
    record_event(action="payments.reconciled", obj=reconciliation, actor=actor,
                 summary=f"Reconciled {settlement_file.name}: {matched} matched, {len(items)} exceptions, "
                         f"{len(malformed)} malformed lines",
                 after={"file": settlement_file.pk, "lines": reconciliation.lines, "matched": matched,
                        "exceptions": len(items), "malformed": len(malformed)})
    return reconciliation


@transaction.atomic
def upload_settlement_file(*, actor, name, text):
    """Keep a settlement file that operations received from the network. The file
    must be CSV text with the settlement header row; its lines are checked when it is
    reconciled. Returns the SettlementFile."""
    name = " ".join(str(name or "").split())[:80]
    if not name:
        raise ValidationFailed("Choose the settlement file to upload.")
    if not name.lower().endswith(".csv"):
        raise ValidationFailed(f"{name} is not a CSV file: the network's settlement files end in .csv.")
    if isinstance(text, bytes):
        if len(text) > MAX_FILE_BYTES:
            raise ValidationFailed(f"{name} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB; a settlement file "
                                   "of one cycle is far smaller.")
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationFailed(f"{name} is not a text file (CSV in UTF-8).") from None
    if len(text) > MAX_FILE_BYTES:
        raise ValidationFailed(f"{name} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB.")
    if "\x00" in text:
        raise ValidationFailed(f"{name} is not a text file (CSV in UTF-8).")
    first = text.lstrip("\ufeff").split("\n", 1)[0].strip()
    header = [cell.strip().upper() for cell in next(csv.reader([first]), [])] if first else []
    if header != SETTLEMENT_COLUMNS:
        raise ValidationFailed(f"{name} does not start with the settlement header row: "
                               f"{','.join(SETTLEMENT_COLUMNS)}.")
    duplicate = ValidationFailed(f"A file named {name} was already received. Rename it if it is a different file.")
    if SettlementFile.objects.filter(name=name).exists():  # before reading every line of the file
        raise duplicate
    lines, _ = parse_lines(text)
    date = lines[0].date if lines else timezone.localdate()
    try:
        # Its own savepoint: the name's unique index settles two uploads of one file
        # at the same moment.
        with transaction.atomic():
            settlement_file = SettlementFile.objects.create(rail=Rail.NEFT, name=name, business_date=date,
                                                            content=text, uploaded_by=actor)
    except IntegrityError:
        raise duplicate from None
    record_event(action="payments.settlement_file_uploaded", obj=settlement_file, actor=actor,
                 summary=f"Settlement file {name} uploaded ({text.count(chr(10))} lines)")
    return settlement_file


def run_neft_cycle(*, actor):
    """Settle the next NEFT cycle and reconcile the settlement file it produced.
    Returns (batch, reconciliation), or (None, None) when no payment waits."""
    from .batches import settle_neft_batch

    with transaction.atomic():
        batch = settle_neft_batch(actor=actor)
        if batch is None:
            return None, None
        reconciliation = reconcile_file(actor=actor, settlement_file=batch.settlement_file)
    return batch, reconciliation


# -- resolutions --------------------------------------------------------------------


def suspense_amount(item):
    """What RBI moved minus what our books moved for this reference, in paise:
    above zero RBI took more than we booked (debit suspense), below zero less."""
    theirs = item.their_amount if item.their_status == "SETTLED" else 0
    ours = item.our_amount if item.our_status == PaymentStatus.SETTLED else 0
    return (theirs or 0) - (ours or 0)


def check_resolution(item, resolution, payment=None):
    """Refuse a resolution that does not fit the exception (ValidationFailed)."""
    payment = payment if payment is not None else item.payment
    if resolution == Resolution.FORCE_SETTLE:
        if payment is None:
            raise ValidationFailed(f"{item.reference} has no payment on our side to settle; write it to suspense.")
        if payment.status != PaymentStatus.SENT:
            raise ValidationFailed(f"Payment {payment.number} is {payment.get_status_display().lower()}; only a "
                                   "sent payment can be force-settled.")
    elif resolution == Resolution.RETURN:
        if payment is None:
            raise ValidationFailed(f"{item.reference} has no payment on our side to return; write it to suspense.")
        if payment.status not in (PaymentStatus.SENT, PaymentStatus.SETTLED) or payment.direction != "outward":
            raise ValidationFailed(f"Payment {payment.number} is {payment.get_status_display().lower()}; only a sent "
                                   "or settled outward payment can be returned to the customer.")
    elif resolution == Resolution.SUSPENSE:
        if suspense_amount(item) == 0:
            raise ValidationFailed(f"Our books and the network moved the same amount for {item.reference}: "
                                   "there is nothing to write to suspense.")
    else:
        raise ValidationFailed("Choose force-settle, return or write to suspense.")


def resolution_amount(item, resolution):
    if resolution == Resolution.SUSPENSE:
        return abs(suspense_amount(item))
    return item.our_amount or item.their_amount or 0


def awaiting_approval(item):
    return item.status == ExceptionStatus.PENDING and item.approval_id is not None and item.approval.is_pending


@transaction.atomic
def request_resolution(*, actor, exception, resolution, reason):
    """Ask a checker to resolve `exception` with `resolution`; returns the
    ApprovalRequest. Locks the exception row, so one request is asked at a time."""
    from banking.approvals.actions import submit_request

    item = ReconciliationException.objects.select_for_update(of=("self",)).select_related(
        "payment", "approval").get(pk=exception.pk)
    reason = " ".join(str(reason or "").split())
    if not reason:
        raise ValidationFailed("Give the reason for this resolution; the checker reads it.")
    if item.status == ExceptionStatus.RESOLVED:
        raise ValidationFailed(f"This exception was already resolved ({item.get_resolution_display().lower()}).")
    if awaiting_approval(item):
        raise ValidationFailed("A resolution of this exception is already awaiting approval.")
    check_resolution(item, resolution)
    label = Resolution(resolution).label
    amount = resolution_amount(item, resolution)
    approval = submit_request(
        actor=actor, kind=RESOLUTION_KIND, amount=amount, branch=None,
        payload={"exception_id": item.pk, "resolution": resolution, "reason": reason[:500]},
        summary=f"{label}: {item.get_kind_display().lower()} {item.reference} ({format_money(amount)})")
    before = item.status
    item.status, item.approval, item.resolution = ExceptionStatus.PENDING, approval, resolution
    item.save(update_fields=["status", "approval", "resolution"])
    record_event(action="payments.resolution_requested", obj=item, actor=actor,
                 summary=f"{label} asked for {item}: {reason}", before={"status": before},
                 after={"status": item.status, "approval": approval.pk})
    return approval
