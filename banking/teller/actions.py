"""Teller actions: the vault, the tills and the counter.

Design overview
- Cash has two records that move together in one transaction: the count of notes
  and coins in a `CashBox` (with a `CashMovement` for every change) and the box's
  cash GL (through `post_entry`, the only way money moves). So a box's count is
  always worth its GL balance.
- Locks: the cash boxes an action touches, FOR UPDATE in id order, then (inside
  `post_entry`) the ledger accounts in id order. Every action takes them in that
  order, so two actions never wait on each other in a circle. A teller's own
  actions queue on their till's row, which also makes a double-pressed Enter
  harmless: the second request waits, then finds the first one's work done.
- The vault and the tills (maker-checker): a teller asks for cash from the vault
  or returns cash to it (`request_cash_from_vault`, `request_cash_return`), and
  the head teller's approval moves the notes (`carry_out_vault_transfer`).
- A till's day: `open_till` with a count that must equal what the vault issued;
  `close_till` with a count compared against the expected position, posting any
  shortage or excess to teller suspense (1902) and flagging it; the head teller's
  sign-off (`sign_off_till`) returns the till's cash to the vault. `close_branch`
  closes a branch's cash for the date once every till is signed off and empty.
- The counter: a cash deposit or withdrawal (`take_cash_deposit`,
  `pay_cash_withdrawal`) is one transaction: lock the teller's till, give back the
  transaction a form's token already made, check the inputs, then within the
  teller's cash limit count the notes into (out of) the till, post the entry
  through `post_entry`, record the counter transaction and its audit event; above
  the limit the transaction waits for a supervisor (`post_approved_transaction`).
  The ledger's rules are the ledger's: this module checks what the teller should
  hear first (the account's status, the notes, the PAN) and leaves the balance
  rules to the posting.
- On a bank holiday (banking.ledger.holidays) the counters and cheque work are
  closed: no till opens and no cash comes from the vault, and the counter's and the
  cheque books' actions refuse in words (`refuse_on_holiday`).
- Every refusal is a BankingError in the teller's words, raised before anything
  is written (or inside the transaction, which then leaves nothing behind).
- Every change writes a `teller.*` audit event in the same transaction.

Errors: ValidationFailed (a count that does not match, a till in the wrong state),
InsufficientFunds (a box does not hold the notes asked of it), NotPermitted, and
whatever `post_entry` refuses.
"""

import functools

from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from banking.approvals.actions import submit_request
from banking.approvals.models import ApprovalRequest
from banking.audit.actions import event_rider, record_event
from banking.core.db import execute_prepared, insert_rider, run_riders
from banking.core.errors import (
    IdempotencyConflict,
    InsufficientFunds,
    InvalidAmount,
    NotPermitted,
    ValidationFailed,
)
from banking.core.identifiers import is_valid_pan, normalise
from banking.core.money import format_money
from banking.customers.models import IdentityDocument
from banking.deposits import actions as deposits
from banking.deposits.actions import OPENING_KIND
from banking.deposits.models import DepositAccount, DepositStatus
from banking.ledger.actions import Line, post_entry, reverse_entry
from banking.ledger.chart import RBI_SETTLEMENT, TELLER_SUSPENSE, ensure_standard_chart, till_code, vault_code
from banking.ledger.holidays import holiday_name
from banking.ledger.models import AccountType, BusinessDate, Channel, EntryKind, LedgerAccount
from banking.users.models import Branch, StaffProfile

from .lookup import check_mobile, refuse
from .denominations import FIELDS, SHORT_LABELS, Denominations, check_adds_up
from .models import (
    TILL_HOLDING_LIMIT,
    BoxKind,
    BranchDay,
    CashBox,
    CashMovement,
    Cheque,
    ChequeBook,
    ChequeStatus,
    CounterTransaction,
    Instrument,
    MovementKind,
    TillDay,
    TillDayStatus,
    TransactionKind,
    TransactionStatus,
)

# Kinds of maker-checker work this module registers (approval_kinds.py).
VAULT_ISSUE = "teller.vault_issue"
VAULT_RETURN = "teller.vault_return"
TILL_CLOSE = "teller.till_close"
CASH_OVER_LIMIT = "teller.cash_over_limit"
COUNTER_REVERSAL = "teller.reversal"
TILL_KINDS = [VAULT_ISSUE, VAULT_RETURN, CASH_OVER_LIMIT, COUNTER_REVERSAL]


def today():
    return BusinessDate.objects.current()


def _when(date):
    return f"{date:%d %b %Y}"


# -- boxes ----------------------------------------------------------------------


def _lock_boxes(*boxes):
    """Lock the boxes FOR UPDATE in id order; return them fresh, in the order given."""
    ids = [box.pk if isinstance(box, CashBox) else int(box) for box in boxes]
    locked = {
        box.pk: box
        for box in CashBox.objects.select_for_update(of=("self",))
        .select_related("teller", "branch")
        .filter(pk__in=ids)
        .order_by("pk")
    }
    return [locked[pk] for pk in ids]


@transaction.atomic
def ensure_vault(branch):
    """The branch's vault, created over its vault GL (1101-<branch>) on first use.

    A vault GL that already holds money without a count (a ledger loaded before the
    teller module) gets its count from `fund_vault` replaying the same posting."""
    box = CashBox.objects.vaults().filter(branch=branch).select_related("branch").first()
    if box is not None:
        return box
    ensure_standard_chart([(branch.code, branch.name)])
    gl = LedgerAccount.objects.get(code=vault_code(branch.code))
    box, _ = CashBox.objects.get_or_create(kind=BoxKind.VAULT, branch=branch, defaults={"ledger_account": gl})
    return box


def find_till(user, branch=None):
    """`user`'s till at their branch, or None before their first cash of the day."""
    branch = branch or user.branch
    if branch is None:
        return None
    return CashBox.objects.tills().filter(branch=branch, teller=user).select_related("teller", "branch").first()


@transaction.atomic
def ensure_till(*, teller, actor=None):
    """`teller`'s till at their branch, with its own cash GL 1110-<branch>-<employee id>
    under the till-cash header, created on first use."""
    branch = teller.branch
    if branch is None:
        raise NotPermitted(f"{teller.display_name} is not posted to a branch, so has no till.")
    box = find_till(teller, branch)
    if box is not None:
        return box
    # The teller's first two requests at once (two tabs, a double press): the second
    # waits here for the first, then finds its till.
    StaffProfile.objects.select_for_update(no_key=True).filter(user=teller).first()
    box = find_till(teller, branch)
    if box is not None:
        return box
    chart = ensure_standard_chart([(branch.code, branch.name)])
    employee_id = teller.staff_profile.employee_id
    gl, _ = LedgerAccount.objects.get_or_create(
        code=till_code(branch.code, employee_id),
        defaults={"name": f"Till cash, {teller.display_name} ({employee_id})", "type": AccountType.ASSET,
                  "parent": chart["1110"], "branch_code": branch.code, "enforce_balance": True},
    )
    box = CashBox.objects.create(kind=BoxKind.TILL, branch=branch, teller=teller, ledger_account=gl,
                                 holding_limit=TILL_HOLDING_LIMIT)
    record_event(action="teller.till_created", obj=box, actor=actor or teller, summary=f"Till created: {box.name}",
                 after={"branch": branch.code, "ledger_account": gl.code})
    return box


def _movement(box, delta, *, kind, actor):
    """Riders (banking.core.db) that count `delta` into a locked box (negative: out
    of it) and record the movement, for the entry they are written with; refuses a
    count the box does not hold. The caller sets the box's counts once written."""
    if not (box.counts + delta).is_nonnegative():
        raise InsufficientFunds(f"{box.name} does not hold {', '.join(box.counts.shortfall(-delta))}.")
    counts = delta.as_dict()
    count = (f"UPDATE teller_cashbox SET {', '.join(f'{name} = {name} + %s' for name in FIELDS)}"  # noqa: S608 fixed names
             " WHERE id = %s AND EXISTS (SELECT FROM posted) RETURNING 1")
    movement = CashMovement(box=box, kind=kind, amount=delta.value, created_by=actor, **counts)
    return [(count, [counts[name] for name in FIELDS] + [box.pk]),
            insert_rider(movement, entry_id="posted.entry_id", business_date="posted.entry_date")]


def _move(box, delta, *, kind, entry, actor, date):
    """Change a locked box's count by `delta` and record the movement, for `entry`
    (None: a count with no money moved) posted before."""
    run_riders(_movement(box, delta, kind=kind, actor=actor), entry_id=entry.pk if entry else None, entry_date=date)
    box.set_counts(box.counts + delta)


def record_till_cash(*, till, counts, entry, actor, kind=MovementKind.DEPOSIT):
    """Count `counts` into (negative: out of) a till its caller has locked
    (`require_open_till(..., lock=True)`), for cash another module posted to the
    till's GL in `entry`: a remittance paid in cash at the counter."""
    return _move(till, counts, kind=kind, entry=entry, actor=actor, date=entry.business_date)


def _check_counts(counts, what="cash"):
    if not counts.is_nonnegative():
        raise ValidationFailed("A count cannot be negative.")
    if counts.is_zero():
        raise ValidationFailed(f"Enter the notes and coins of the {what}.")


def _refuse_if_branch_closed(branch, date):
    if BranchDay.objects.filter(branch=branch, business_date=date).exists():
        raise ValidationFailed(f"{branch.name} has closed its cash for {_when(date)}.")


def refuse_on_holiday(date=None):
    """The counters and cheque work are closed on a bank holiday (the ledger's
    calendar says which dates are): the teller's cash and cheque actions ask here."""
    date = date or today()
    holiday = holiday_name(date)
    if holiday:
        raise ValidationFailed(f"{_when(date)} is a bank holiday ({holiday}): the counters and cheque work are "
                               "closed. They open on the next working day.")


# -- the vault --------------------------------------------------------------------


@transaction.atomic
def fund_vault(*, actor, branch, counts, idempotency_key, narration=None, source_code=RBI_SETTLEMENT):
    """Cash received into the vault from the currency chest (the RBI settlement
    account by default). Locks the vault. Idempotent by key: the same key posts and
    counts once."""
    _check_counts(counts, "remittance")
    (vault,) = _lock_boxes(ensure_vault(branch))
    source = LedgerAccount.objects.get(code=source_code)
    entry = post_entry(
        actor=actor, lines=[Line.debit(vault.ledger_account_id, counts.value), Line.credit(source, counts.value)],
        kind=EntryKind.CASH_MOVEMENT, narration=narration or f"Currency chest remittance to {branch.name}",
        idempotency_key=idempotency_key, channel=Channel.BRANCH,
    )
    if not CashMovement.objects.filter(entry=entry, box=vault).exists():
        _move(vault, counts, kind=MovementKind.FUNDING, entry=entry, actor=actor, date=entry.business_date)
        record_event(action="teller.vault_funded", obj=vault, actor=actor, summary=f"{entry.narration}: {counts}",
                     after={"counts": counts.as_dict(), "entry": entry.pk})
    return entry


# -- vault <-> till, maker-checker ------------------------------------------------------


def _waiting_cash(**where):
    """Approval requests still pending whose cash waits beside a till: the till's own
    kinds, and account openings whose initial deposit was counted at the counter."""
    openings = CounterTransaction.objects.filter(status=TransactionStatus.PENDING, approval__kind=OPENING_KIND,
                                                 **where).values("approval_id")
    return ApprovalRequest.objects.pending().filter(Q(kind__in=TILL_KINDS) | Q(pk__in=openings))


def _pending_for_till(till):
    return _waiting_cash(till=till).filter(Q(payload__till_id=till.pk) | Q(kind=OPENING_KIND))


@transaction.atomic
def request_cash_from_vault(*, actor, counts):
    """The teller asks the head teller for cash from the vault. Nothing moves until
    the head teller approves (`carry_out_vault_transfer`). Locks nothing."""
    _check_counts(counts, "request")
    till = ensure_till(teller=actor)
    date = today()
    refuse_on_holiday(date)
    _refuse_if_branch_closed(till.branch, date)
    day = TillDay.objects.filter(till=till, business_date=date).first()
    if day is not None and not day.is_open:
        raise ValidationFailed(f"Your till is closed for {_when(date)}; it cannot take more cash today.")
    vault = ensure_vault(till.branch)
    if not vault.counts.covers(counts):
        raise InsufficientFunds(f"The vault does not hold {', '.join(vault.counts.shortfall(counts))}.")
    return submit_request(
        actor=actor, kind=VAULT_ISSUE, amount=counts.value, branch=till.branch,
        payload={"till_id": till.pk, "counts": counts.as_dict()},
        summary=f"Issue {format_money(counts.value)} from the vault to {actor.display_name}'s till",
    )


@transaction.atomic
def request_cash_return(*, actor, counts):
    """The teller hands cash back to the vault; the head teller confirms it arrived.
    Locks nothing: the till must still hold the notes when the head teller approves."""
    _check_counts(counts, "return")
    till = find_till(actor)
    date = today()
    day = TillDay.objects.filter(till=till, business_date=date).first() if till else None
    if day is None or not day.is_open:
        raise ValidationFailed("Your till is not open, so there is nothing to return; closing the till returns its "
                               "cash to the vault.")
    if not till.counts.covers(counts):
        raise InsufficientFunds(f"Your till does not hold {', '.join(till.counts.shortfall(counts))}.")
    return submit_request(
        actor=actor, kind=VAULT_RETURN, amount=counts.value, branch=till.branch,
        payload={"till_id": till.pk, "counts": counts.as_dict()},
        summary=f"Return {format_money(counts.value)} from {actor.display_name}'s till to the vault",
    )


def _transfer_cash(*, actor, checker, source, target, counts, kind, idempotency_key, narration):
    """Move `counts` from one box to another: both counts and both GLs. Locks both
    boxes in id order, then the GLs through post_entry."""
    source, target = _lock_boxes(source, target)
    if not source.counts.covers(counts):
        raise InsufficientFunds(f"{source.name} does not hold {', '.join(source.counts.shortfall(counts))}.")
    entry = post_entry(
        actor=actor, checker=checker, kind=EntryKind.CASH_MOVEMENT, narration=narration,
        lines=[Line.debit(target.ledger_account_id, counts.value), Line.credit(source.ledger_account_id, counts.value)],
        idempotency_key=idempotency_key, channel=Channel.BRANCH,
    )
    _move(source, -counts, kind=kind, entry=entry, actor=actor, date=entry.business_date)
    _move(target, counts, kind=kind, entry=entry, actor=actor, date=entry.business_date)
    return entry


def carry_out_vault_transfer(approval, checker):
    """The approval handler for VAULT_ISSUE and VAULT_RETURN."""
    till = CashBox.objects.tills().select_related("teller", "branch").filter(pk=approval.payload.get("till_id")).first()
    if till is None:
        raise ValidationFailed("The till named in this request no longer exists.")
    counts = Denominations.of(approval.payload.get("counts"))
    vault = ensure_vault(till.branch)
    date = today()
    day = TillDay.objects.filter(till=till, business_date=date).first()
    if approval.kind == VAULT_ISSUE:
        _refuse_if_branch_closed(till.branch, date)
        if day is not None and not day.is_open:
            raise ValidationFailed(f"{till.name} is already closed for {_when(date)}.")
        source, target, kind = vault, till, MovementKind.ISSUE
        narration = f"Cash issued from the vault to {till.name}"
    else:
        if day is None or not day.is_open:
            raise ValidationFailed(f"{till.name} is not open; its cash returns to the vault when it is signed off.")
        source, target, kind = till, vault, MovementKind.RETURN
        narration = f"Cash returned to the vault from {till.name}"
    entry = _transfer_cash(actor=approval.maker, checker=checker, source=source, target=target, counts=counts,
                           kind=kind, idempotency_key=f"approval-{approval.pk}", narration=narration)
    record_event(action=f"teller.{kind}", obj=till, actor=checker, summary=f"{narration}: {counts}",
                 after={"counts": counts.as_dict(), "entry": entry.pk, "request": approval.pk})
    return {"entry_id": entry.pk, "entry_number": entry.number}


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
    till, till.branch, till.teller_cash_limit = _from_row(rows[0], CashBox, Branch)
    till.teller = user
    rows = execute_prepared(day_sql, [token, token, till.pk, timezone.localdate()])
    if not rows:
        # No till opens on a holiday: say so rather than "open it" (read only on this path).
        refuse_on_holiday()
        raise ValidationFailed("Your till is not open. Open it with your counted cash before taking cash.")
    day, day.taken, day.next_id = _from_row(rows[0], TillDay)  # with no token, both None
    if not day.is_open:
        raise ValidationFailed(f"Your till is closed for {_when(day.business_date)}.")
    return till, day


@functools.cache
def _till_statements(lock):
    """`require_open_till`'s two statements, their columns read off the models."""
    from django.db import connection

    def columns(model, alias):
        return ", ".join(f"{alias}.{connection.ops.quote_name(field.column)}" for field in model._meta.concrete_fields)

    table = {model: connection.ops.quote_name(model._meta.db_table)
             for model in (CashBox, Branch, StaffProfile, TillDay, CounterTransaction, BusinessDate)}
    till = (f"SELECT {columns(CashBox, 'b')}, {columns(Branch, 'r')}, p.cash_limit"  # noqa: S608 names from the models
            f" FROM {table[CashBox]} b JOIN {table[StaffProfile]} p ON p.user_id = %s AND p.branch_id = b.branch_id"
            f" JOIN {table[Branch]} r ON r.id = b.branch_id"
            f" WHERE b.kind = '{BoxKind.TILL}' AND b.teller_id = %s{' FOR UPDATE OF b' if lock else ''}")
    day = (f"SELECT {columns(TillDay, 'd')},"  # noqa: S608 names from the models
           f" (SELECT t.id FROM {table[CounterTransaction]} t WHERE t.idempotency_key = %s::text LIMIT 1),"
           f" CASE WHEN %s::text IS NOT NULL"
           f" THEN nextval(pg_get_serial_sequence('{CounterTransaction._meta.db_table}', 'id')) END"
           f" FROM {table[TillDay]} d WHERE d.till_id = %s AND d.business_date ="
           f" coalesce((SELECT b.date FROM {table[BusinessDate]} b WHERE b.id = 1), %s::date)")
    return till, day


def _from_row(row, *models):
    """Instances of `models` read off the front of `row`, in order, then the rest of it."""
    found, at = [], 0
    for model in models:
        fields = model._meta.concrete_fields
        found.append(model.from_db("default", [field.attname for field in fields], row[at:at + len(fields)]))
        at += len(fields)
    return *found, *row[at:]


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


# -- the branch ---------------------------------------------------------------------------


def branch_close_problems(branch, date=None):
    """What stands between the branch and closing its cash for `date`, in words."""
    date = date or today()
    problems = []
    days = {day.till_id: day for day in TillDay.objects.for_branch(branch).on(date)}
    for till in CashBox.objects.tills().for_branch(branch).select_related("teller"):
        day = days.get(till.pk)
        if day is not None and day.status == TillDayStatus.OPEN:
            problems.append(f"{till.name} is still open.")
        elif day is not None and day.status == TillDayStatus.COUNTED:
            problems.append(f"{till.name} is counted but not yet signed off.")
        elif till.cash_value:
            # A till not open today cannot ask to return cash: opening it and closing
            # it again (the sign-off) is what brings the cash back to the vault.
            problems.append(f"{till.name} still holds {format_money(till.cash_value)}; its teller opens and closes "
                            "the till to return it to the vault.")
    waiting = _waiting_cash(branch=branch).filter(branch=branch).count()
    if waiting:
        problems.append(f"{waiting} cash request{'s are' if waiting > 1 else ' is'} still waiting for approval.")
    return problems


@transaction.atomic
def close_branch(*, actor, branch):
    """Close the branch's cash for the business date. Locks every cash box of the
    branch (vault and tills, in id order), so no till moves while it is checked."""
    vault = ensure_vault(branch)
    boxes = _lock_boxes(*CashBox.objects.for_branch(branch).order_by("pk").values_list("pk", flat=True))
    date = today()
    if BranchDay.objects.filter(branch=branch, business_date=date).exists():
        raise ValidationFailed(f"{branch.name} has already closed its cash for {_when(date)}.")
    problems = branch_close_problems(branch, date)
    if problems:
        raise ValidationFailed("The branch cannot close yet: " + " ".join(problems))
    vault = next(box for box in boxes if box.pk == vault.pk)
    branch_day = BranchDay.objects.create(branch=branch, business_date=date, closed_by=actor,
                                          closed_at=timezone.now(), vault_counts=vault.counts.as_dict(),
                                          vault_balance=vault.cash_value)
    record_event(action="teller.branch_closed", obj=branch_day, actor=actor,
                 summary=f"{branch.name} closed its cash for {_when(date)} with {format_money(vault.cash_value)} "
                         "in the vault",
                 after={"vault": vault.counts.as_dict()})
    return branch_day


# -- the counter -------------------------------------------------------------------------------

# Income-tax rule 114B: a cash deposit of ₹50,000 or more needs the depositor's PAN.
PAN_THRESHOLD = 50_000_00
KIND_VERB = {
    TransactionKind.CASH_DEPOSIT: "Cash deposit",
    TransactionKind.CASH_WITHDRAWAL: "Cash withdrawal",
    TransactionKind.TRANSFER: "Transfer",
}


def _check_amount(amount, *, cash):
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise InvalidAmount("Enter an amount above zero.")
    if cash and amount % 100:
        raise InvalidAmount("Cash is handled in whole rupees: move the paise by transfer.")


def _holder_pan_on_file(customer):
    return IdentityDocument.objects.filter(customer=customer, doc_type="pan").exists()


def _check_pan(amount, account, depositor_name, pan):
    """The PAN to keep with the deposit ("" when none is needed or given)."""
    pan = normalise(pan)
    if pan and not is_valid_pan(pan):
        raise ValidationFailed("Enter a valid PAN: 5 letters, 4 digits and a letter, as ABCDE1234F.")
    # The holder's own PAN on file covers a deposit the holder brings; anyone else gives theirs.
    if amount >= PAN_THRESHOLD and not pan and (depositor_name or not _holder_pan_on_file(account.customer)):
        whose = "the depositor's" if depositor_name else "the account holder's"
        raise ValidationFailed(
            f"A cash deposit of {format_money(PAN_THRESHOLD)} or more needs {whose} PAN. Enter it, or take "
            "less than that amount."
        )
    return pan


def _existing_transaction(key, kind, account, amount, *, taken=False):
    """The transaction already taken under this form token; refuses the token reused
    for something else. `taken`: its id when the caller has looked it up (None when
    there is none)."""
    if not key:
        raise ValidationFailed("This form has no token; reload the page and enter it again.")
    if taken is None:
        return None
    found = CounterTransaction.objects.filter(pk=taken) if taken else CounterTransaction.objects.filter(
        idempotency_key=key)
    found = found.first()
    if found is None:
        return None
    if (found.kind, found.account_id, found.amount) != (kind, account.pk, amount):
        raise IdempotencyConflict("This form was already used for another transaction; nothing was posted again. "
                                  "Start a new one.")
    return found


def _presented_cheque(account, number):
    """The leaf presented against `account`, locked; refuses a leaf that is not this
    account's, or that is stopped, paid, cancelled or already presented."""
    text = str(number or "").strip()
    if not text.isdigit() or not 0 < int(text) < 1_000_000:
        raise ValidationFailed("Enter the cheque number: the six digits printed on the leaf.")
    number = int(text)
    cheque = (Cheque.objects.select_for_update(of=("self",)).select_related("account")
              .filter(branch=account.branch_id, number=number).first())
    if cheque is None:
        raise ValidationFailed(f"Cheque {number:06d} was not issued to account {account.number}.")
    if cheque.account_id != account.pk:
        raise ValidationFailed(f"Cheque {cheque.leaf} is from another account's cheque book "
                               f"({cheque.account.masked_number}), not from account {account.number}.")
    if cheque.status == ChequeStatus.STOPPED:
        raise ValidationFailed(f"Payment of cheque {cheque.leaf} is stopped: {cheque.reason}")
    if cheque.status == ChequeStatus.PAID:
        raise ValidationFailed(f"Cheque {cheque.leaf} has already been paid.")
    if cheque.status == ChequeStatus.CANCELLED:
        raise ValidationFailed(f"Cheque {cheque.leaf} was cancelled: {cheque.reason}")
    if CounterTransaction.objects.filter(cheque=cheque, status=TransactionStatus.PENDING,
                                         approval__status="pending").exists():
        raise ValidationFailed(f"Cheque {cheque.leaf} is already presented and waiting for approval.")
    return cheque


def _note_customer_activity(account, date):
    """Cash and transfers at the counter are customer-induced: they keep the account
    from becoming inoperative. Written before posting, so the deposit account row is
    locked before its ledger account, as the deposits module's actions do."""
    if account.last_customer_activity_on == date:
        return
    DepositAccount.objects.filter(pk=account.pk).exclude(last_customer_activity_on=date).update(
        last_customer_activity_on=date)


def _narration(txn):
    if txn.narration:
        return txn.narration
    if txn.kind == TransactionKind.CASH_DEPOSIT:
        return f"Cash deposit by {txn.depositor_name}" if txn.depositor_name else "Cash deposit at the branch"
    if txn.kind == TransactionKind.CASH_WITHDRAWAL:
        return f"Cash withdrawal by cheque {txn.cheque.leaf}" if txn.cheque_id else "Cash withdrawal at the branch"
    return f"Transfer from {txn.account.number} to {txn.to_account.number}"


def _post(txn, *, checker, till):
    """Post a transaction whose till (if cash) is locked; mark it posted."""
    amount = txn.amount
    customer_gl = txn.account.ledger_account_id
    if txn.kind == TransactionKind.CASH_DEPOSIT:
        lines, kind = [Line.debit(till.ledger_account_id, amount), Line.credit(customer_gl, amount)], \
            EntryKind.CASH_DEPOSIT
    elif txn.kind == TransactionKind.CASH_WITHDRAWAL:
        lines, kind = [Line.debit(customer_gl, amount), Line.credit(till.ledger_account_id, amount)], \
            EntryKind.CASH_WITHDRAWAL
    else:
        lines, kind = [Line.debit(customer_gl, amount), Line.credit(txn.to_account.ledger_account_id, amount)], \
            EntryKind.TRANSFER
    _note_customer_activity(txn.account, txn.business_date)
    # The till's count, the transaction and its audit event ride with the entry: one
    # statement, written only if the entry posts.
    riders, delta = [], None
    if txn.is_cash:
        delta = txn.counts if txn.is_deposit else -txn.counts
        riders += _movement(till, delta, kind=MovementKind.DEPOSIT if txn.is_deposit else MovementKind.WITHDRAWAL,
                            actor=txn.teller)
    txn.status, txn.posted_at = TransactionStatus.POSTED, timezone.now()
    if txn._state.adding:  # written once, posted (its id was reserved for the entry's reference)
        riders.append(insert_rider(txn, entry_id="posted.entry_id"))
    else:
        riders.append(("UPDATE teller_countertransaction SET status = %s, posted_at = %s::timestamptz, "
                       "entry_id = posted.entry_id FROM posted WHERE teller_countertransaction.id = %s RETURNING 1",
                       [txn.status, txn.posted_at, txn.pk]))
    riders.append(event_rider(
        action=f"teller.{txn.kind}", obj=txn, actor=checker or txn.teller,
        summary=f"{KIND_VERB[txn.kind]} {txn.number}: {format_money(amount)}, account {txn.account.number}",
        after={"amount": amount, "counts": txn.counts.as_dict() if txn.is_cash else None,
               "checker": checker.pk if checker else None},
        after_from_posted={"entry": "posted.entry_id"}))
    try:
        entry = post_entry(actor=txn.teller, checker=checker, lines=lines, kind=kind, narration=_narration(txn),
                           idempotency_key=f"counter-{txn.idempotency_key}", channel=Channel.BRANCH,
                           reference=txn.number, riders=riders)
    except InsufficientFunds:
        available = LedgerAccount.objects.get(pk=customer_gl).available
        raise InsufficientFunds(f"Account {txn.account.number} has {format_money(available)} available, less than "
                                f"{format_money(amount)}.") from None
    txn.entry = entry
    txn._state.adding, txn._state.db = False, "default"
    if delta is not None:
        till.set_counts(till.counts + delta)
    if txn.cheque_id:
        Cheque.objects.filter(pk=txn.cheque_id).update(status=ChequeStatus.PAID, changed_by=txn.teller,
                                                       changed_at=timezone.now())
    return txn


def _post_or_queue(txn, actor, till):
    """Post at once within the teller's cash limit; above it, queue for a supervisor.
    `till` is the teller's locked till (`require_open_till`), None for a transfer."""
    limit = getattr(till, "teller_cash_limit", None)
    if till is not None:
        # The locked till serialises its teller's requests: the same form's second
        # press found the first one's transaction before it got here. Within the
        # limit the transaction, its id reserved, is written once, posted.
        if txn.pk is not None and limit is not None and txn.amount <= limit:
            return _post(txn, checker=None, till=till)
        txn.save(force_insert=True)
    else:
        with transaction.atomic():
            try:
                txn.save()
            except IntegrityError:
                txn = None
        if txn is None:  # the same form, posted a moment ago by a second press of Enter
            raise ValidationFailed("This form was just submitted; see the transaction in the branch feed.")
    if limit is None:
        profile = getattr(actor, "staff_profile", None)
        limit = profile.cash_limit if profile else 0
    if txn.amount <= limit:
        return _post(txn, checker=None, till=till)
    direction = "into" if txn.is_deposit else "from"
    txn.approval = submit_request(
        actor=actor, kind=CASH_OVER_LIMIT, amount=txn.amount, branch=txn.branch,
        payload={"transaction_id": txn.pk, "till_id": txn.till_id},
        summary=f"{KIND_VERB[txn.kind]} of {format_money(txn.amount)} {direction} {txn.account.number} "
                f"({txn.account.customer.display_name}), above {actor.display_name}'s limit of "
                f"{format_money(limit)}",
    )
    txn.save(update_fields=["approval"])
    record_event(action="teller.transaction_queued", obj=txn, actor=actor,
                 summary=f"{KIND_VERB[txn.kind]} {txn.number} of {format_money(txn.amount)} waits for approval",
                 after={"request": txn.approval_id, "limit": limit})
    return txn


def _locked_till_for(actor, idempotency_key):
    """The teller's open till, locked, and its day: the first lock of every cash
    action at the counter, taken before the form's token is looked up, so that a
    double-pressed Enter waits here and then finds the first press's work."""
    if not idempotency_key:
        raise ValidationFailed("This form has no token; reload the page and enter it again.")
    return require_open_till(actor, lock=True, token=idempotency_key)


@transaction.atomic
def take_cash_deposit(*, actor, account, amount, counts, idempotency_key, depositor_name="", depositor_mobile="",
                      pan="", narration=""):
    """Take cash into the teller's till and credit `account` (a DepositAccount).

    Refuses before writing anything: a closed, pending or totally frozen account
    (a debit-frozen or inoperative one takes credits), denominations that do not add
    up, no PAN at ₹50,000 or more. Within the teller's cash limit it counts the notes
    into the till, posts the entry (`post_entry`), records the transaction and its
    audit event, all in this transaction; above the limit the deposit waits for a
    supervisor and posts when approved. Idempotent by the form's token.

    Locks: the teller's till (FOR UPDATE), then the deposit account's row (its
    activity note), then the ledger accounts through post_entry, in id order."""
    till, day = _locked_till_for(actor, idempotency_key)
    existing = _existing_transaction(idempotency_key, TransactionKind.CASH_DEPOSIT, account, amount, taken=day.taken)
    if existing is not None:
        return existing
    _check_amount(amount, cash=True)
    check_adds_up(counts, amount)
    refuse(account, debit=False)
    name = " ".join(str(depositor_name or "").split())[:120]
    txn = CounterTransaction(
        pk=day.next_id, kind=TransactionKind.CASH_DEPOSIT, teller=actor, till=till, branch_id=till.branch_id,
        business_date=day.business_date, account=account, amount=amount, depositor_name=name,
        depositor_mobile=check_mobile(depositor_mobile), pan=_check_pan(amount, account, name, pan),
        narration=narration[:120], idempotency_key=idempotency_key, **counts.as_dict(),
    )
    return _post_or_queue(txn, actor, till)


@transaction.atomic
def pay_cash_withdrawal(*, actor, account, amount, counts, idempotency_key, cheque_number="", narration=""):
    """Pay cash out of the teller's till and debit `account`, by withdrawal slip or
    (with `cheque_number`) by one of the account's own cheques.

    Refuses before writing anything: an account that cannot be debited, an amount
    over the till's cash, notes the till does not hold, a cheque that is not this
    account's or is stopped, paid or cancelled, and more than the available balance.
    Above the teller's cash limit it waits for a supervisor. Idempotent by the form's
    token.

    Locks: the teller's till (FOR UPDATE), the cheque, the deposit account's row,
    then the ledger accounts through post_entry, in id order."""
    till, day = _locked_till_for(actor, idempotency_key)
    existing = _existing_transaction(idempotency_key, TransactionKind.CASH_WITHDRAWAL, account, amount, taken=day.taken)
    if existing is not None:
        return existing
    _check_amount(amount, cash=True)
    check_adds_up(counts, amount)
    refuse(account, debit=True)
    if amount > till.cash_value:
        raise InsufficientFunds(f"Your till holds {format_money(till.cash_value)}, less than the "
                                f"{format_money(amount)} to pay. Ask the vault for cash first.")
    if not till.counts.covers(counts):
        raise InsufficientFunds(f"Your till does not hold {', '.join(till.counts.shortfall(counts))}. "
                                "Pay with other notes.")
    cheque = _presented_cheque(account, cheque_number) if str(cheque_number or "").strip() else None
    if account.available < amount:
        raise InsufficientFunds(f"Account {account.number} has {format_money(account.available)} available, "
                                f"less than {format_money(amount)}.")
    txn = CounterTransaction(
        pk=day.next_id, kind=TransactionKind.CASH_WITHDRAWAL, teller=actor, till=till, branch_id=till.branch_id,
        business_date=day.business_date, account=account, amount=amount, narration=narration[:120],
        instrument=Instrument.CHEQUE if cheque else Instrument.SLIP, cheque=cheque,
        idempotency_key=idempotency_key, **counts.as_dict(),
    )
    return _post_or_queue(txn, actor, till)


# -- account opening with cash ----------------------------------------------------------------


@transaction.atomic
def request_opening_with_cash(*, actor, customer, product, counts, idempotency_key, **opening):
    """Queue the opening of a savings or current account (the deposits module's
    `request_account_opening`, with its other arguments in `opening`) whose initial
    deposit is cash, counted on the opening form like any cash deposit.

    The cash waits beside the teller's till as a counter transaction pending on the
    opening's approval, as cash above a teller's limit waits: when the checker
    approves, the account opens and the notes are counted into the till that took
    them (`open_approved_account_at_counter`); until then neither the till nor the
    branch can close. From ₹50,000 the customer's PAN must be on file (income-tax
    rule 114B). Idempotent by the form's token.

    Locks: the teller's till (FOR UPDATE), then what `request_account_opening` locks."""
    if not idempotency_key:
        raise ValidationFailed("This form has no token; reload the page and enter it again.")
    till, day = require_open_till(actor, lock=True)
    key = f"open-{idempotency_key}"
    taken = (CounterTransaction.objects.select_related("account")
             .filter(idempotency_key=key, approval__kind=OPENING_KIND).first())
    if taken is not None:
        return taken.account
    amount = counts.value
    if counts.is_zero():
        raise ValidationFailed("Count the notes and coins of the initial deposit.")
    _check_amount(amount, cash=True)
    if amount >= PAN_THRESHOLD and not _holder_pan_on_file(customer):
        raise ValidationFailed(f"An initial cash deposit of {format_money(PAN_THRESHOLD)} or more needs the "
                               "customer's PAN on file. Add it to the customer's documents, or take less cash.")
    account = deposits.request_account_opening(actor=actor, customer=customer, product=product,
                                               initial_deposit=amount, idempotency_key=key, **opening)
    CounterTransaction.objects.create(
        kind=TransactionKind.CASH_DEPOSIT, teller=actor, till=till, branch_id=till.branch_id,
        business_date=day.business_date, account=account, amount=amount, approval=account.opening_request,
        narration=f"Initial cash deposit, account {account.number}", idempotency_key=key, **counts.as_dict(),
    )
    return account


def open_approved_account_at_counter(approval, checker):
    """The approval handler for account opening (deposits.account_opening): opens the
    account, then posts its initial cash deposit into the till that counted it, as
    an approved cash deposit. Locks the till, then what the opening and the posting
    lock. An initial deposit that no till counted (a request made before the counter
    took them) is refused, and the opening with it."""
    txn = (CounterTransaction.objects.filter(approval=approval, status=TransactionStatus.PENDING)
           .values_list("pk", "till_id").first())
    deposit = int(approval.payload.get("initial_deposit") or 0)
    if txn is None:
        if deposit:
            raise ValidationFailed("This request's initial deposit was not counted into a till. Reject it and open "
                                   "the account again at the counter, with the cash counted.")
        return deposits.open_approved_account(approval, checker)
    txn_id, till_id = txn
    (till,) = _lock_boxes(till_id)
    day = current_day(till)
    if day is None or not day.is_open:
        raise ValidationFailed(f"{till.name} is not open for {_when(today())}; the notes of the initial deposit "
                               "go into an open till, so the teller opens the account again.")
    result = deposits.open_approved_account(approval, checker)
    txn = _locked_transaction(txn_id)
    if txn.amount != deposit:
        raise ValidationFailed("The counted cash no longer matches the initial deposit of the request.")
    _post(txn, checker=checker, till=till)
    return {**result, "entry_id": txn.entry_id, "transaction_id": txn.pk}


@transaction.atomic
def transfer_at_counter(*, actor, account, to_account, amount, idempotency_key, cheque_number="", narration=""):
    """Move money between two accounts of the bank at the customer's request, by
    transfer slip or cheque. No cash moves, so no till is needed; above the teller's
    limit it waits for a supervisor. Locks the cheque, then the accounts."""
    if actor.branch is None:
        raise NotPermitted("Transfers are taken at a branch; your profile has none.")
    refuse_on_holiday()
    existing = _existing_transaction(idempotency_key, TransactionKind.TRANSFER, account, amount)
    if existing is not None:
        return existing
    _check_amount(amount, cash=False)
    if account.pk == to_account.pk:
        raise ValidationFailed("The two accounts are the same; a transfer needs two different accounts.")
    refuse(account, debit=True)
    refuse(to_account, debit=False)
    cheque = _presented_cheque(account, cheque_number) if str(cheque_number or "").strip() else None
    if account.available < amount:
        raise InsufficientFunds(f"Account {account.number} has {format_money(account.available)} available, less "
                                f"than {format_money(amount)}.")
    txn = CounterTransaction(
        kind=TransactionKind.TRANSFER, branch=actor.branch, teller=actor, till=None, business_date=today(),
        account=account, to_account=to_account, amount=amount, narration=narration[:120],
        instrument=Instrument.CHEQUE if cheque else Instrument.SLIP, cheque=cheque, idempotency_key=idempotency_key,
    )
    return _post_or_queue(txn, actor, None)


def _locked_transaction(pk):
    return (CounterTransaction.objects.select_for_update(of=("self",))
            .select_related("account__customer", "account__branch", "to_account", "teller", "cheque", "entry")
            .filter(pk=pk).first())


def post_approved_transaction(approval, checker):
    """The approval handler for CASH_OVER_LIMIT: checks again what may have changed
    while it waited (the till, the notes, the cheque, the account) and posts."""
    txn = CounterTransaction.objects.filter(pk=approval.payload.get("transaction_id")).first()
    if txn is None:
        raise ValidationFailed("The transaction named in this request no longer exists.")
    till = None
    if txn.till_id:
        (till,) = _lock_boxes(txn.till_id)
        day = current_day(till)
        if day is None or not day.is_open or day.business_date != txn.business_date:
            raise ValidationFailed(f"{till.name} is no longer open for {_when(txn.business_date)}; the teller must "
                                   "take the transaction again.")
    txn = _locked_transaction(txn.pk)
    if txn.status != TransactionStatus.PENDING:
        raise ValidationFailed(f"Transaction {txn.number} is already {txn.get_status_display().lower()}.")
    refuse(txn.account, debit=not txn.is_deposit)
    if txn.to_account_id:
        refuse(txn.to_account, debit=False)
    if txn.is_withdrawal and not till.counts.covers(txn.counts):
        raise InsufficientFunds(f"{till.name} no longer holds {', '.join(till.counts.shortfall(txn.counts))}.")
    if txn.cheque_id:
        cheque = Cheque.objects.select_for_update().get(pk=txn.cheque_id)
        if cheque.status != ChequeStatus.UNUSED:
            raise ValidationFailed(f"Cheque {cheque.leaf} is {cheque.get_status_display().lower()} now.")
    _post(txn, checker=checker, till=till)
    return {"transaction_id": txn.pk, "entry_id": txn.entry_id, "entry_number": txn.entry.number}


# -- reversal -----------------------------------------------------------------------------------


def may_ask_reversal(txn, user):
    """Cash moves in the till that took it: only its teller, or a supervisor, asks
    for its reversal. A transfer moved no cash, so any teller of the branch may."""
    return not txn.till_id or txn.teller_id == user.pk or user.has_perm("users.approve_requests")


@transaction.atomic
def request_reversal(*, actor, transaction_id, reason):
    """Ask a supervisor to reverse a posted counter transaction of today (for
    example, credited to the wrong account). Cash must still be in an open till,
    since the reversal gives the notes back or takes them in again."""
    txn = _locked_transaction(transaction_id)
    if txn is None or txn.branch_id != getattr(actor.branch, "pk", None):
        raise NotPermitted("There is no such transaction at your branch.")
    if not may_ask_reversal(txn, actor):
        raise NotPermitted(f"{txn.number} was taken at {txn.till.name}: its teller or a supervisor asks for its "
                           "reversal.")
    reason = " ".join(str(reason or "").split())
    if not reason:
        raise ValidationFailed("Give the reason for the reversal; the supervisor and the audit trail will show it.")
    if txn.status == TransactionStatus.REVERSED:
        raise ValidationFailed(f"Transaction {txn.number} has already been reversed.")
    if txn.status != TransactionStatus.POSTED:
        raise ValidationFailed(f"Transaction {txn.number} was never posted, so there is nothing to reverse.")
    if txn.business_date != today():
        raise ValidationFailed("Only today's transactions are reversed at the counter; operations reverse older "
                               "ones.")
    if txn.reversal_request_id and txn.reversal_request.is_pending:
        raise ValidationFailed(f"The reversal of {txn.number} is already waiting for approval.")
    if txn.till_id:
        day = current_day(txn.till)
        if day is None or not day.is_open:
            raise ValidationFailed(f"{txn.till.name} is closed, so the cash cannot be reversed at the counter.")
    txn.reversal_request = submit_request(
        actor=actor, kind=COUNTER_REVERSAL, amount=txn.amount, branch=txn.branch,
        payload={"transaction_id": txn.pk, "till_id": txn.till_id, "reason": reason[:300]},
        summary=f"Reverse {txn.number}, {KIND_VERB[txn.kind].lower()} of {format_money(txn.amount)} on "
                f"{txn.account.number}: {reason}",
    )
    txn.save(update_fields=["reversal_request"])
    record_event(action="teller.reversal_requested", obj=txn, actor=actor, summary=f"Reversal of {txn.number} "
                 f"requested: {reason}", after={"request": txn.reversal_request_id})
    return txn.reversal_request


def reverse_approved_transaction(approval, checker):
    """The approval handler for COUNTER_REVERSAL: posts the mirror entry and puts the
    till's notes back as they were (a deposit's notes go back to the customer, a
    withdrawal's come back into the till)."""
    txn = CounterTransaction.objects.filter(pk=approval.payload.get("transaction_id")).first()
    if txn is None:
        raise ValidationFailed("The transaction named in this request no longer exists.")
    till = None
    if txn.till_id:
        (till,) = _lock_boxes(txn.till_id)
        day = current_day(till)
        if day is None or not day.is_open:
            raise ValidationFailed(f"{till.name} is closed, so the cash cannot be reversed at the counter.")
    txn = _locked_transaction(txn.pk)
    if txn.status != TransactionStatus.POSTED:
        raise ValidationFailed(f"Transaction {txn.number} is {txn.get_status_display().lower()}; it cannot be "
                               "reversed.")
    if txn.is_deposit and not till.counts.covers(txn.counts):
        raise InsufficientFunds(f"{till.name} no longer holds the notes of the deposit "
                                f"({', '.join(till.counts.shortfall(txn.counts))}).")
    reason = approval.payload.get("reason", "")
    try:
        reversal = reverse_entry(actor=approval.maker, checker=checker, entry=txn.entry,
                                 idempotency_key=f"approval-{approval.pk}", channel=Channel.BRANCH,
                                 narration=f"Reversal of {txn.number}: {reason}"[:200])
    except InsufficientFunds:
        # The reversal takes the money back from whichever account received it.
        debited = txn.to_account if txn.to_account_id else txn.account
        raise InsufficientFunds(f"Account {debited.number} no longer has {format_money(txn.amount)} available "
                                "to take back.") from None
    if txn.is_cash:
        delta = -txn.counts if txn.is_deposit else txn.counts
        _move(till, delta, kind=MovementKind.REVERSAL, entry=reversal, actor=approval.maker,
              date=reversal.business_date)
    if txn.cheque_id:
        Cheque.objects.filter(pk=txn.cheque_id).update(status=ChequeStatus.UNUSED, changed_by=checker,
                                                       changed_at=timezone.now())
    txn.status, txn.reversal_entry = TransactionStatus.REVERSED, reversal
    txn.save(update_fields=["status", "reversal_entry"])
    record_event(action="teller.transaction_reversed", obj=txn, actor=checker,
                 summary=f"{txn.number} reversed by {reversal.number}: {reason}",
                 after={"reversal_entry": reversal.pk, "counts": txn.counts.as_dict() if txn.is_cash else None})
    return {"transaction_id": txn.pk, "entry_id": reversal.pk, "entry_number": reversal.number}


# -- cheque books -------------------------------------------------------------------------------

CHEQUE_BOOK_SIZES = (10, 20, 25, 50, 100)


def next_cheque_number(branch):
    last = Cheque.objects.filter(branch=branch).aggregate(last=Max("number"))["last"]
    return (last or 100_000) + 1


@transaction.atomic
def issue_cheque_book(*, actor, account, leaves, first_number=None):
    """Issue a book of `leaves` cheques to an active savings or current account,
    numbered from `first_number` (by default the branch's next unused number).
    Leaf numbers are unique in the branch."""
    refuse_on_holiday()
    if leaves not in CHEQUE_BOOK_SIZES:
        raise ValidationFailed(f"A cheque book has {', '.join(map(str, CHEQUE_BOOK_SIZES))} leaves.")
    if account.status != DepositStatus.ACTIVE or not account.is_operative:
        raise ValidationFailed(f"Cheque books are issued to active savings and current accounts; {account.number} "
                               f"is {'a ' + account.product.name.lower() if not account.is_operative else account.get_status_display().lower()}.")  # noqa: E501
    # Two books issued at the branch at the same moment would both take the next
    # numbers: they are worked out one book at a time. NO KEY: rows that merely
    # refer to the branch (a counter transaction, say) do not wait for this.
    Branch.objects.select_for_update(no_key=True).filter(pk=account.branch_id).first()
    first = first_number or next_cheque_number(account.branch)
    last = first + leaves - 1
    if first < 1 or last > 999_999:
        raise ValidationFailed("Cheque numbers have six digits: the book must run from 000001 to 999999.")
    clash = Cheque.objects.filter(branch=account.branch, number__gte=first, number__lte=last).order_by("number")
    if clash.exists():
        raise ValidationFailed(f"Cheques {first:06d}–{last:06d} overlap a book already issued at this branch "
                               f"(from {clash.first().leaf}). The next free number is "
                               f"{next_cheque_number(account.branch):06d}.")
    book = ChequeBook.objects.create(account=account, first_number=first, leaves=leaves, issued_by=actor,
                                     business_date=today())
    Cheque.objects.bulk_create(Cheque(book=book, account=account, branch=account.branch, number=number)
                               for number in range(first, last + 1))
    record_event(action="teller.cheque_book_issued", obj=book, actor=actor,
                 summary=f"Cheque book {book.first_leaf}–{book.last_leaf} issued to {account.number}",
                 after={"account": account.number, "first": first, "leaves": leaves})
    return book


def _leaf_range(account, first, last):
    try:
        first = int(str(first).strip())
        last = int(str(last).strip()) if str(last or "").strip() else first
    except ValueError:
        raise ValidationFailed("Enter cheque numbers as the six digits printed on the leaves.") from None
    if last < first:
        raise ValidationFailed("The last cheque number comes before the first.")
    if last - first >= 100:
        raise ValidationFailed("Stop at most 100 cheques at a time.")
    cheques = list(Cheque.objects.select_for_update().filter(branch=account.branch_id, number__gte=first,
                                                             number__lte=last).order_by("number"))
    foreign = [c.leaf for c in cheques if c.account_id != account.pk]
    mine = {c.number for c in cheques if c.account_id == account.pk}
    missing = [f"{n:06d}" for n in range(first, last + 1) if n not in mine]
    if foreign:
        raise ValidationFailed(f"Cheque {foreign[0]} is from another account's cheque book, not {account.number}'s.")
    if missing:
        raise ValidationFailed(f"Cheque {missing[0]} was not issued to account {account.number}.")
    return cheques


@transaction.atomic
def stop_cheques(*, actor, account, first, last=None, reason):
    """Stop payment of one cheque or a range, with the customer's reason. Paid,
    cancelled or already stopped leaves are refused by number. Locks the leaves."""
    refuse_on_holiday()
    reason = " ".join(str(reason or "").split())
    if not reason:
        raise ValidationFailed("Give the customer's reason for stopping payment.")
    cheques = _leaf_range(account, first, last)
    for cheque in cheques:
        if cheque.status != ChequeStatus.UNUSED:
            raise ValidationFailed(f"Cheque {cheque.leaf} is already {cheque.get_status_display().lower()}; only "
                                   "unused cheques can be stopped.")
    now = timezone.now()
    Cheque.objects.filter(pk__in=[c.pk for c in cheques]).update(status=ChequeStatus.STOPPED, reason=reason[:200],
                                                                 changed_by=actor, changed_at=now)
    leaves = f"{cheques[0].leaf}–{cheques[-1].leaf}" if len(cheques) > 1 else cheques[0].leaf
    record_event(action="teller.cheques_stopped", obj=account, actor=actor,
                 summary=f"Payment stopped on cheque{'s' if len(cheques) > 1 else ''} {leaves} of {account.number}: "
                         f"{reason}", after={"numbers": [c.number for c in cheques], "reason": reason})
    return len(cheques)


@transaction.atomic
def cancel_cheque(*, actor, account, number, reason):
    """Cancel one unused or stopped leaf (spoilt, or returned by the customer)."""
    refuse_on_holiday()
    reason = " ".join(str(reason or "").split())
    if not reason:
        raise ValidationFailed("Give the reason for cancelling the cheque.")
    (cheque,) = _leaf_range(account, number, number)
    if cheque.status in (ChequeStatus.PAID, ChequeStatus.CANCELLED):
        raise ValidationFailed(f"Cheque {cheque.leaf} is {cheque.get_status_display().lower()}; it cannot be "
                               "cancelled.")
    cheque.status, cheque.reason, cheque.changed_by, cheque.changed_at = (ChequeStatus.CANCELLED, reason[:200],
                                                                         actor, timezone.now())
    cheque.save(update_fields=["status", "reason", "changed_by", "changed_at"])
    record_event(action="teller.cheque_cancelled", obj=cheque, actor=actor,
                 summary=f"Cheque {cheque.leaf} of {account.number} cancelled: {reason}")
    return cheque
