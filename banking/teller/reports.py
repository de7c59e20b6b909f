"""The branch's cash reports.

`cash_position(branch, date)`: for the vault and every till, per denomination and in
total, the opening count, receipts, payments and closing count of a business date.
It reads the boxes' current counts and one grouped aggregate over the movements
from `date` on: closing = now − what moved after `date`; opening = closing −
receipts + payments. So it costs the same whatever the date and needs no snapshot.

The branch total's receipts and payments leave out cash moving between the vault
and the tills, which is neither received nor paid by the branch (it would count
every note twice); its opening and closing are the sums of the boxes'.
"""

from dataclasses import dataclass, field

from django.db.models import Case, IntegerField, Q, Sum, Value, When
from django.db.models.functions import Coalesce

from .denominations import FIELDS, Denominations
from .models import BoxKind, CashBox, CashMovement, MovementKind, TillDay

INTERNAL = [MovementKind.ISSUE, MovementKind.RETURN]


@dataclass
class BoxPosition:
    box: CashBox
    opening: Denominations
    receipts: Denominations
    payments: Denominations
    closing: Denominations
    day: TillDay | None = None

    def lines(self):
        """[(label, opening, receipts, payments, closing)] in paise, per denomination."""
        rows = []
        for (name, label, _, opening), receipts, payments, closing in zip(
            self.opening.rows(), self.receipts.rows(), self.payments.rows(), self.closing.rows(), strict=True
        ):
            rows.append((name, label, opening, receipts[3], payments[3], closing[3]))
        return rows


@dataclass
class CashPosition:
    date: object
    boxes: list = field(default_factory=list)
    total: BoxPosition | None = None


def _aggregates(date):
    aggregates = {}
    zero = Value(0)
    for name in FIELDS:
        aggregates[f"in_{name}"] = Coalesce(Sum(Case(
            When(Q(business_date=date) & Q(**{f"{name}__gt": 0}), then=name), default=zero,
            output_field=IntegerField())), zero)
        aggregates[f"out_{name}"] = Coalesce(Sum(Case(
            When(Q(business_date=date) & Q(**{f"{name}__lt": 0}), then=name), default=zero,
            output_field=IntegerField())), zero)
        aggregates[f"after_{name}"] = Coalesce(Sum(Case(
            When(business_date__gt=date, then=name), default=zero, output_field=IntegerField())), zero)
    return aggregates


def _counts(row, prefix, sign=1):
    return Denominations(**{name: sign * (row[f"{prefix}_{name}"] or 0) for name in FIELDS})


def cash_position(branch, date):
    """The vault first, then the tills by teller's name, then the branch total."""
    boxes = list(CashBox.objects.for_branch(branch).select_related("teller", "branch"))
    moved = {
        row["box"]: row
        for row in CashMovement.objects.filter(box__branch=branch, business_date__gte=date)
        .values("box").annotate(**_aggregates(date))
    }
    days = {day.till_id: day for day in TillDay.objects.for_branch(branch).on(date)}
    report = CashPosition(date=date)
    for box in boxes:
        row = moved.get(box.pk)
        if row is None:
            receipts = payments = after = Denominations()
        else:
            receipts, payments, after = _counts(row, "in"), _counts(row, "out", -1), _counts(row, "after")
        closing = box.counts - after
        opening = closing - receipts + payments
        # A till that did nothing that day is left out. Having a row of movements does
        # not tell: the row also sums the dates after `date`.
        idle = receipts.is_zero() and payments.is_zero() and closing.is_zero()
        if box.kind == BoxKind.TILL and idle and box.pk not in days:
            continue
        report.boxes.append(BoxPosition(box=box, opening=opening, receipts=receipts, payments=payments,
                                        closing=closing, day=days.get(box.pk)))
    report.boxes.sort(key=lambda p: (p.box.kind != BoxKind.VAULT, p.box.teller.display_name if p.box.teller else ""))
    outside = (CashMovement.objects.filter(box__branch=branch, business_date=date).exclude(kind__in=INTERNAL)
               .aggregate(**_aggregates(date)))
    closing, opening = Denominations(), Denominations()
    for position in report.boxes:
        closing, opening = closing + position.closing, opening + position.opening
    report.total = BoxPosition(box=None, opening=opening, receipts=_counts(outside, "in"),
                               payments=_counts(outside, "out", -1), closing=closing)
    return report
