"""Loan schedules: pure functions over integers (paise) and Decimal, no database.

The bank's rules (DESIGN §5, "Conventions for interest, charges and loans"):
- Rates are percent per annum as Decimal ("8.50"); the monthly rate r is rate ÷ 1200.
- EMI on a reducing balance: P·r·(1+r)^n / ((1+r)^n − 1), rounded half-up to the paisa.
  A rate of zero gives P ÷ n.
- Each instalment's interest is the outstanding principal × rate ÷ 12, except the first,
  which is outstanding × rate × (days from disbursement to the first due date) ÷ 365
  (broken-period interest, actual/365, also in leap years). Each part is rounded half-up
  to the paisa, once.
- EMI schedules keep the EMI constant; the principal part (EMI − interest) absorbs the
  difference, never below zero (an instalment whose interest exceeds the EMI is
  interest only). The last instalment takes whatever principal is left, so principal
  sums exactly to the amount; its total is therefore the one that differs from the EMI.
- Equal principal: P ÷ n rounded half-up each month, the last takes the remainder; the
  interest is charged on the reducing balance as above.
- Bullet (gold loans, up to 12 months): one instalment at the end of the tenure with
  the whole principal and interest for the actual days ÷ 365.
- Due dates are the first due date and then the same day of each following month,
  clamped to the month's end (31 Jan → 28/29 Feb).
"""

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext

from banking.deposits.interest import add_months

EMI = "emi"
EQUAL_PRINCIPAL = "equal_principal"
BULLET = "bullet"
SCHEDULE_TYPES = (EMI, EQUAL_PRINCIPAL, BULLET)

DAYS_IN_YEAR = Decimal(365)
MONTHS_PER_PERCENT_YEAR = Decimal(1200)


def to_paise(amount):
    """A Decimal amount of paise rounded half-up to a whole paisa."""
    return int(Decimal(amount).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def monthly_rate(annual_rate):
    return Decimal(annual_rate) / MONTHS_PER_PERCENT_YEAR


def emi_amount(principal, annual_rate, months):
    """The equated monthly instalment in paise for `principal` paise over `months`."""
    if principal <= 0 or months <= 0:
        raise ValueError("principal and months must be above zero")
    with localcontext() as ctx:
        ctx.prec = 50
        r = monthly_rate(annual_rate)
        if r == 0:
            return to_paise(Decimal(principal) / months)
        growth = (1 + r) ** months
        return to_paise(Decimal(principal) * r * growth / (growth - 1))


def broken_period_interest(outstanding, annual_rate, start, end):
    """Interest in paise on `outstanding` from `start` to `end`, actual/365."""
    days = (end - start).days
    if days < 0:
        raise ValueError("the period ends before it starts")
    return to_paise(Decimal(outstanding) * Decimal(annual_rate) * days / (100 * DAYS_IN_YEAR))


def monthly_interest(outstanding, annual_rate):
    return to_paise(Decimal(outstanding) * monthly_rate(annual_rate))


def first_due_date(disbursed_on):
    """The bank's default first due date: the same day of the next month."""
    return add_months(disbursed_on, 1)


@dataclass(frozen=True)
class Instalment:
    number: int
    due_date: datetime.date
    opening: int
    principal: int
    interest: int
    closing: int

    @property
    def total(self):
        return self.principal + self.interest


def build_schedule(*, principal, annual_rate, months, schedule_type, disbursed_on, first_due=None,
                   carried_interest=0, emi=None, principal_part=None):
    """The instalments repaying `principal` paise disbursed on `disbursed_on`.

    For EMI and equal principal, `months` instalments from `first_due` (default: a month
    after disbursement). For a bullet, one instalment `months` after disbursement.
    `carried_interest` (paise) is interest already run before `disbursed_on` that the
    first instalment collects too: a later tranche regenerates the schedule from its own
    date, and the earlier tranches' interest up to that date is carried into it.

    `emi` (EMI schedules) or `principal_part` (equal principal) keep the instalment a
    part-prepayment or a rate reset leaves unchanged when the borrower chooses a
    shorter or longer tenure: `months` is then the most instalments allowed, and the
    schedule ends when the principal is repaid (the last instalment takes what is left).
    """
    if carried_interest < 0:
        raise ValueError("carried interest cannot be negative")
    if schedule_type not in SCHEDULE_TYPES:
        raise ValueError(f"unknown schedule type {schedule_type!r}")
    if principal <= 0 or months <= 0:
        raise ValueError("principal and months must be above zero")
    if Decimal(annual_rate) < 0:
        raise ValueError("the rate cannot be negative")
    if schedule_type == BULLET:
        due = add_months(disbursed_on, months)
        interest = broken_period_interest(principal, annual_rate, disbursed_on, due) + carried_interest
        return [Instalment(1, due, principal, principal, interest, 0)]
    first_due = first_due or first_due_date(disbursed_on)
    if first_due <= disbursed_on:
        raise ValueError("the first due date must come after disbursement")
    emi = emi if emi is not None else emi_amount(principal, annual_rate, months)
    equal_part = principal_part if principal_part is not None else to_paise(Decimal(principal) / months)
    rows, outstanding = [], principal
    for number in range(1, months + 1):
        due = add_months(first_due, number - 1)
        if number == 1:
            interest = broken_period_interest(outstanding, annual_rate, disbursed_on, due) + carried_interest
        else:
            interest = monthly_interest(outstanding, annual_rate)
        if number == months:
            part = outstanding
        elif schedule_type == EMI:
            part = min(max(emi - interest, 0), outstanding)
        else:
            part = min(equal_part, outstanding)
        rows.append(Instalment(number, due, outstanding, part, interest, outstanding - part))
        outstanding -= part
        if outstanding == 0:
            break
    return rows


def totals(rows):
    """(principal, interest, total) summed over a schedule."""
    principal = sum(row.principal for row in rows)
    interest = sum(row.interest for row in rows)
    return principal, interest, principal + interest


def annual_percentage_rate(*, net_disbursed, rows, disbursed_on):
    """The APR for the KFS, percent per annum to two places.

    RBI's KFS illustration: the monthly internal rate of return of the cash flows
    (the amount actually received, net of fees and their tax, against each instalment
    in the month it falls due, counted in calendar months from disbursement) times 12.
    Solved by bisection in Decimal, so it is deterministic.
    """
    if net_disbursed <= 0 or not rows:
        raise ValueError("nothing disbursed")
    with localcontext() as ctx:
        ctx.prec = 40
        flows = [(max(1, _months_after(disbursed_on, row.due_date)), Decimal(row.total)) for row in rows]

        def present_value(rate):
            return sum(amount / (1 + rate) ** month for month, amount in flows)

        low, high = Decimal(0), Decimal(1)
        if present_value(low) <= net_disbursed:
            return Decimal("0.00")
        for _ in range(120):
            mid = (low + high) / 2
            if present_value(mid) > net_disbursed:
                low = mid
            else:
                high = mid
        return (low * 1200).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _months_after(start, day):
    return (day.year - start.year) * 12 + day.month - start.month
