"""A teller's till through the day: opened with a count equal to what the vault
issued, locked by every cash action at the counter, closed with a count (a shortage
or excess posted to teller suspense), signed off by the head teller.
"""

import functools

from django.db import transaction
from django.utils import timezone

from banking.approvals.actions import submit_request
from banking.audit.actions import record_event
from banking.core.db import columns_of, execute_prepared, from_row
from banking.core.errors import ValidationFailed
from banking.core.money import format_money
from banking.ledger.actions import Line, post_entry
from banking.ledger.chart import TELLER_SUSPENSE
from banking.ledger.models import BusinessDate, Channel, EntryKind, LedgerAccount
from banking.users.models import Branch, StaffProfile

from ..denominations import FIELDS, SHORT_LABELS
from ..models import (
    BoxKind,
    CashBox,
    CounterTransaction,
    MovementKind,
    TillDay,
    TillDayStatus,
)
from .cash import (
    TILL_CLOSE,
    VAULT_ISSUE,
    _lock_boxes,
    _move,
    _refuse_if_branch_closed,
    _when,
    ensure_till,
    ensure_vault,
    find_till,
    refuse_on_holiday,
    today,
)
from .vault import _pending_for_till, _transfer_cash

# -- a till's day -----------------------------------------------------------------------


def _differences(counted, expected, expected_word):
    rows = []
    for name in FIELDS:
        have, want = getattr(counted, name), getattr(expected, name)
        if have != want:
            label = "coins" if name == "coins" else f"{SHORT_LABELS[name]} notes"
            if name == "coins":
                have, want = format_money(have * 100), format_money(want * 100)
            rows.append(f"{label}: counted {have}, {expected_word} {want}")
    return rows


@transaction.atomic
def open_till(*, actor, counted):
    """Open the teller's till for the business date with a counted opening balance,
    which must match, note for note, what the vault issued to it. Locks the till."""
    if not counted.is_nonnegative():
        raise ValidationFailed("A count cannot be negative.")
    (till,) = _lock_boxes(ensure_till(teller=actor))
    date = today()
    refuse_on_holiday(date)
    _refuse_if_branch_closed(till.branch, date)
    day = TillDay.objects.filter(till=till, business_date=date).first()
    if day is not None:
        if day.is_open:
            raise ValidationFailed(f"Your till is already open for {_when(date)}.")
        raise ValidationFailed(f"Your till is closed for {_when(date)} and cannot open again today.")
    issued = till.counts
    if counted != issued:
        waiting = _pending_for_till(till).filter(kind=VAULT_ISSUE).exists()
        rows = _differences(counted, issued, "issued")
        message = (f"You counted {format_money(counted.value)} but the vault issued {format_money(issued.value)} "
                   f"to your till ({'; '.join(rows)}). Count again; if the cash really differs, tell the head "
                   "teller before opening.")
        if waiting:
            message += " A request for cash from the vault is still waiting for the head teller."
        raise ValidationFailed(message)
    day = TillDay.objects.create(till=till, business_date=date, status=TillDayStatus.OPEN, opened_by=actor,
                                 opened_at=timezone.now(), opening=counted.as_dict())
    record_event(action="teller.till_opened", obj=day, actor=actor,
                 summary=f"{till.name} opened with {format_money(counted.value)}",
                 after={"counts": counted.as_dict(), "value": counted.value})
    return day


def current_day(till, date=None):
    if till is None:
        return None
    return TillDay.objects.filter(till=till, business_date=date or today()).first()


def require_open_till(user, *, lock=False, token=None):
    """The user's till (locked when asked) and its open day, or a refusal saying what
    to do first. The till carries the teller's cash limit (`teller_cash_limit`).

    Two prepared statements, as this is on every cash posting: the till with its
    branch and the teller's profile read in one, then the day of the current business
    date. Given a form's `token`, the day also carries the id of the counter
    transaction already made under it (`taken`, or None) and a fresh id for a new one
    (`next_id`): read after the till's lock, so a second press of the same form sees
    the first's work."""
    till_sql, day_sql = _till_statements(lock)
    rows = execute_prepared(till_sql, [user.pk, user.pk])
    if not rows:
        raise ValidationFailed("You have no cash in a till yet: ask the vault for cash and open your till first.")
    till, till.branch, till.teller_cash_limit = from_row(rows[0], CashBox, Branch)
    till.teller = user
    rows = execute_prepared(day_sql, [token, token, till.pk, timezone.localdate()])
    if not rows:
        # No till opens on a holiday: say so rather than "open it" (read only on this path).
        refuse_on_holiday()
        raise ValidationFailed("Your till is not open. Open it with your counted cash before taking cash.")
    day, day.taken, day.next_id = from_row(rows[0], TillDay)  # with no token, both None
    if not day.is_open:
        raise ValidationFailed(f"Your till is closed for {_when(day.business_date)}.")
    return till, day


@functools.cache
def _till_statements(lock):
    """`require_open_till`'s two statements, their columns read off the models."""
    from django.db import connection

    table = {model: connection.ops.quote_name(model._meta.db_table)
             for model in (CashBox, Branch, StaffProfile, TillDay, CounterTransaction, BusinessDate)}
    till = (f"SELECT {columns_of(CashBox, 'b')}, {columns_of(Branch, 'r')}, p.cash_limit"  # noqa: S608 names from the models
            f" FROM {table[CashBox]} b JOIN {table[StaffProfile]} p ON p.user_id = %s AND p.branch_id = b.branch_id"
            f" JOIN {table[Branch]} r ON r.id = b.branch_id"
            f" WHERE b.kind = '{BoxKind.TILL}' AND b.teller_id = %s{' FOR UPDATE OF b' if lock else ''}")
    day = (f"SELECT {columns_of(TillDay, 'd')},"  # noqa: S608 names from the models
           f" (SELECT t.id FROM {table[CounterTransaction]} t WHERE t.idempotency_key = %s::text LIMIT 1),"
           f" CASE WHEN %s::text IS NOT NULL"
           f" THEN nextval(pg_get_serial_sequence('{CounterTransaction._meta.db_table}', 'id')) END"
           f" FROM {table[TillDay]} d WHERE d.till_id = %s AND d.business_date ="
           f" coalesce((SELECT b.date FROM {table[BusinessDate]} b WHERE b.id = 1), %s::date)")
    return till, day


@transaction.atomic
def close_till(*, actor, counted, idempotency_key):
    """Close the teller's till with its count. A shortage or an excess against the
    expected position is posted to teller suspense and flagged, and the till's count
    becomes what was counted; the closure then waits for the head teller's sign-off,
    which returns the cash to the vault. A closure whose sign-off was rejected can be
    counted again. Locks the till, then the till's day."""
    if not counted.is_nonnegative():
        raise ValidationFailed("A count cannot be negative.")
    till = find_till(actor)
    if till is None:
        raise ValidationFailed("You have no till to close.")
    (till,) = _lock_boxes(till)
    date = today()
    day = TillDay.objects.select_for_update().filter(till=till, business_date=date).first()
    if day is None:
        raise ValidationFailed(f"Your till is not open for {_when(date)}.")
    if idempotency_key and day.close_key == idempotency_key:
        return day
    if day.status == TillDayStatus.SIGNED_OFF:
        raise ValidationFailed(f"Your till is already closed and signed off for {_when(date)}.")
    if day.status == TillDayStatus.COUNTED and day.close_request and day.close_request.is_pending:
        raise ValidationFailed("Your till's closing count is waiting for the head teller's sign-off.")
    waiting = _pending_for_till(till).count()
    if waiting:
        raise ValidationFailed(
            f"{waiting} of your requests {'is' if waiting == 1 else 'are'} still waiting for approval; close the "
            "till once they are decided."
        )
    expected = till.counts
    delta = counted - expected
    entry = None
    if delta.value:
        suspense = LedgerAccount.objects.get(code=TELLER_SUSPENSE)
        amount = abs(delta.value)
        short = delta.value < 0
        lines = ([Line.debit(suspense, amount), Line.credit(till.ledger_account_id, amount)] if short
                 else [Line.debit(till.ledger_account_id, amount), Line.credit(suspense, amount)])
        entry = post_entry(
            actor=actor, lines=lines, kind=EntryKind.CASH_MOVEMENT, channel=Channel.BRANCH,
            narration=f"Till {'shortage' if short else 'excess'} of {format_money(amount)} at close, {till.name}, "
                      f"{_when(date)}",
            idempotency_key=f"till-close-{idempotency_key}", reference=f"TD{day.pk}",
        )
    if not delta.is_zero():
        _move(till, delta, kind=MovementKind.DIFFERENCE, entry=entry, actor=actor, date=date)
    day.status = TillDayStatus.COUNTED
    day.expected, day.counted, day.difference = expected.as_dict(), counted.as_dict(), delta.value
    day.difference_entry = entry
    day.closed_by, day.closed_at, day.close_key = actor, timezone.now(), idempotency_key or ""
    flag = f", {day.difference_label.lower()}" if delta.value else ", balanced"
    day.close_request = submit_request(
        actor=actor, kind=TILL_CLOSE, amount=counted.value, branch=till.branch, payload={"till_day_id": day.pk},
        summary=f"Sign off {actor.display_name}'s till: {format_money(counted.value)} counted{flag}",
    )
    day.save()
    record_event(action="teller.till_closed", obj=day, actor=actor,
                 summary=f"{till.name} closed: {format_money(counted.value)} counted{flag}",
                 after={"expected": expected.as_dict(), "counted": counted.as_dict(), "difference": delta.value,
                        "entry": entry.pk if entry else None})
    if delta.value:
        record_event(action="teller.cash_difference", obj=day, actor=actor,
                     summary=f"{day.difference_label} in {till.name} on {_when(date)}",
                     after={"difference": delta.value, "entry": entry.pk})
    return day


def sign_off_till(approval, checker):
    """The approval handler for TILL_CLOSE: the head teller accepts the closing count
    and takes the till's cash into the vault."""
    day = TillDay.objects.select_related("till__teller", "till__branch").filter(
        pk=approval.payload.get("till_day_id")).first()
    if day is None:
        raise ValidationFailed("The till closure named in this request no longer exists.")
    vault = ensure_vault(day.till.branch)
    till, vault = _lock_boxes(day.till, vault)
    day = TillDay.objects.select_for_update().get(pk=day.pk)
    if day.status != TillDayStatus.COUNTED or day.close_request_id != approval.pk:
        raise ValidationFailed("This closing count has been replaced by a newer one or already signed off.")
    if till.counts != day.counted_counts:
        raise ValidationFailed("The till's cash has changed since it was counted; the teller must count it again.")
    entry = None
    if till.cash_value:
        entry = _transfer_cash(actor=approval.maker, checker=checker, source=till, target=vault, counts=till.counts,
                               kind=MovementKind.RETURN, idempotency_key=f"approval-{approval.pk}",
                               narration=f"{till.name} returned to the vault at close of {_when(day.business_date)}")
    day.status = TillDayStatus.SIGNED_OFF
    day.signed_off_by, day.signed_off_at, day.return_entry = checker, timezone.now(), entry
    day.save(update_fields=["status", "signed_off_by", "signed_off_at", "return_entry"])
    record_event(action="teller.till_signed_off", obj=day, actor=checker,
                 summary=f"{till.name} signed off for {_when(day.business_date)}: {day.difference_label.lower()}",
                 after={"difference": day.difference, "returned": entry.total if entry else 0})
    return {"till_day_id": day.pk, "entry_id": entry.pk if entry else None}


