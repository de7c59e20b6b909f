"""Cash boxes (the vault and the tills) and their counts: what every teller action shares.

A box's count changes only with its cash GL, in the same transaction: `_movement`
gives the riders that count the notes and record the movement with the entry that
posts them (banking.core.db), `_move` runs them for an entry posted before.
"""


from django.db import transaction

from banking.audit.actions import record_event
from banking.core.db import insert_rider, run_riders
from banking.core.errors import (
    InsufficientFunds,
    NotPermitted,
    ValidationFailed,
)
from banking.ledger.chart import ensure_standard_chart, till_code, vault_code
from banking.ledger.holidays import holiday_name
from banking.ledger.models import AccountType, BusinessDate, LedgerAccount
from banking.users.models import StaffProfile

from ..denominations import FIELDS
from ..models import (
    TILL_HOLDING_LIMIT,
    BoxKind,
    BranchDay,
    CashBox,
    CashMovement,
    MovementKind,
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


# A box's count moved by a delta of each denomination, once the entry is posted.
_COUNT_SQL = (f"UPDATE teller_cashbox SET {', '.join(f'{name} = {name} + %s' for name in FIELDS)}"  # noqa: S608 fixed names
              " WHERE id = %s AND EXISTS (SELECT FROM posted) RETURNING 1")


def _movement(box, delta, *, kind, actor):
    """Riders (banking.core.db) that count `delta` into a locked box (negative: out
    of it) and record the movement, for the entry they are written with; refuses a
    count the box does not hold. The caller sets the box's counts once written."""
    if not (box.counts + delta).is_nonnegative():
        raise InsufficientFunds(f"{box.name} does not hold {', '.join(box.counts.shortfall(-delta))}.")
    counts = delta.as_dict()
    movement = CashMovement(box=box, kind=kind, amount=delta.value, created_by=actor, **counts)
    return [(_COUNT_SQL, [counts[name] for name in FIELDS] + [box.pk]),
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


