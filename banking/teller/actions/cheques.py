"""Cheque books: issuing them, stopping and cancelling leaves.
"""


from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from banking.audit.actions import record_event
from banking.core.errors import ValidationFailed
from banking.deposits.models import DepositStatus
from banking.users.models import Branch

from ..models import (
    Cheque,
    ChequeBook,
    ChequeStatus,
)
from .cash import refuse_on_holiday, today

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
