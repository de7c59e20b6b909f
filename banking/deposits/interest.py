"""Deposit interest arithmetic: pure functions over Decimal, no database.

Conventions (the bank's product rules; DESIGN.md §5):
- Rates are percent per annum, as Decimal ("7.00").
- Term deposits compound quarterly. A "quarter" is three calendar months from the
  deposit's start; interest for the complete quarters compounds, and the days after
  the last complete quarter earn simple interest (actual/365) on the compounded
  amount. A deposit shorter than one quarter therefore earns simple interest.
- Recurring deposits use the formula Indian banks publish for quarterly
  compounding: the instalment paid at the start of month k (of n) stays n − k + 1
  months and grows by (1 + r/400) ** (months / 3).
- Everything is computed in Decimal at 28+ significant digits and rounded once, to
  the paisa, half-up (DESIGN §5: every computed amount of money is rounded half-up
  to the paisa, once, where it is posted), in `to_paise`, when a figure is shown or
  posted. A day's accrual is kept to 1/100 paisa (`to_hundredths`), also half-up.
- Amounts are never negative here, so half-up and "half away from zero" agree.
"""

import calendar
import datetime
from decimal import ROUND_HALF_UP, Decimal, localcontext

QUARTER_MONTHS = 3
DAYS_IN_YEAR = Decimal(365)
HUNDRED = Decimal(100)


def add_months(day, months):
    """`day` moved on by whole calendar months, clamped to the month's end (31 Jan + 1 = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def quarters_and_days(start, end):
    """Complete quarters from `start` to `end`, and the days left after the last one."""
    quarters = 0
    while add_months(start, QUARTER_MONTHS * (quarters + 1)) <= end:
        quarters += 1
    return quarters, (end - add_months(start, QUARTER_MONTHS * quarters)).days


def to_paise(amount):
    """The one rounding: a Decimal of paise to whole paise, half-up (0.5 paisa → 1)."""
    return int(Decimal(amount).to_integral_value(rounding=ROUND_HALF_UP))


def to_hundredths(amount):
    """A Decimal of paise to whole hundredths of a paisa, half-up: how an accrual is kept."""
    return int((Decimal(amount) * HUNDRED).to_integral_value(rounding=ROUND_HALF_UP))


def term_deposit_value(principal, rate, start, end):
    """Principal plus interest, in unrounded Decimal paise, for a deposit of
    `principal` paise from `start` to `end` at `rate` % p.a. compounded quarterly."""
    if end <= start or rate <= 0:
        return Decimal(principal)
    with localcontext() as ctx:
        ctx.prec = 40
        quarters, days = quarters_and_days(start, end)
        grown = Decimal(principal) * (1 + rate / 400) ** quarters
        return grown * (1 + rate * days / (HUNDRED * DAYS_IN_YEAR))


def maturity_amount(principal, rate, start, end):
    """What a fixed deposit pays at maturity, in whole paise."""
    return to_paise(term_deposit_value(principal, rate, start, end))


def recurring_maturity_amount(instalment, rate, months):
    """What a recurring deposit of `months` monthly instalments of `instalment` paise
    pays at maturity, in whole paise."""
    with localcontext() as ctx:
        ctx.prec = 40
        growth = 1 + Decimal(rate) / 400
        total = sum(Decimal(instalment) * growth ** (Decimal(stay) / QUARTER_MONTHS) for stay in range(1, months + 1))
        return to_paise(total)
