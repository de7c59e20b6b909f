"""The branch's vault: funding it, issuing cash to the tills and taking it back
(maker-checker: the head teller approves), and closing the branch's cash for the day.
"""


from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from banking.approvals.actions import submit_request
from banking.approvals.models import ApprovalRequest
from banking.audit.actions import record_event
from banking.core.errors import (
    InsufficientFunds,
    ValidationFailed,
)
from banking.core.money import format_money
from banking.deposits.actions import OPENING_KIND
from banking.ledger.actions import Line, post_entry
from banking.ledger.chart import RBI_SETTLEMENT
from banking.ledger.models import Channel, EntryKind, LedgerAccount

from ..denominations import Denominations
from ..models import (
    BranchDay,
    CashBox,
    CashMovement,
    CounterTransaction,
    MovementKind,
    TillDay,
    TillDayStatus,
    TransactionStatus,
)
from .cash import (
    TILL_KINDS,
    VAULT_ISSUE,
    VAULT_RETURN,
    _check_counts,
    _lock_boxes,
    _move,
    _movement,
    _refuse_if_branch_closed,
    _when,
    ensure_till,
    ensure_vault,
    find_till,
    refuse_on_holiday,
    today,
)

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


@transaction.atomic
def pay_out_of_vault(*, actor, checker, branch, counts, to_account, narration, idempotency_key, reference="",
                     riders=()):
    """Cash out of the branch's vault into a cash GL the teller's boxes do not hold
    (an ATM's, replenished from the vault): one entry, Dr `to_account` (a ledger
    account's id), Cr the vault, with the vault's count and its movement riding on
    it, and the caller's own `riders` (its record of where the notes went). Locks the
    vault, then the ledger accounts (in post_entry). Posted and counted once per key.
    Refuses (InsufficientFunds) notes the vault does not hold."""
    _check_counts(counts, "payment out of the vault")
    (vault,) = _lock_boxes(ensure_vault(branch))
    if not vault.counts.covers(counts):
        raise InsufficientFunds(f"{vault.name} does not hold {', '.join(vault.counts.shortfall(counts))}.")
    entry = post_entry(
        actor=actor, checker=checker, kind=EntryKind.CASH_MOVEMENT, narration=narration,
        lines=[Line.debit(to_account, counts.value), Line.credit(vault.ledger_account_id, counts.value)],
        idempotency_key=idempotency_key, channel=Channel.BRANCH, reference=reference,
        riders=[*_movement(vault, -counts, kind=MovementKind.ATM, actor=actor), *riders],
    )
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


