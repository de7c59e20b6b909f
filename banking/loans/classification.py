"""Asset classification and provisioning of loans: the RBI's rules as pure functions.

The end of day (eod.py) reads each loan's oldest unpaid instalment and its
borrower's state, and asks these functions what the loan is and what the bank must
hold against it. Nothing here reads or writes the database.

Rules (RBI Master Circular on income recognition, asset classification and
provisioning; the 2021 clarification on day-end overdue):
- Days past due count from the day-end of the due date: an instalment due 5 Jan
  and unpaid is 1 day past due at the end of 5 Jan (SMA-0) and an NPA at the end of
  5 Apr (91 days). Only principal and interest make a loan overdue; unpaid charges
  do not (penal charges are charges, RBI Aug 2023).
- SMA-0 1-30 days, SMA-1 31-60, SMA-2 61-90: special mention, still standard assets.
- Over 90 days: a non-performing asset (NPA). The date it became one is the oldest
  unpaid due date + 90 days. Sub-standard for its first 12 months as an NPA, then
  doubtful: D1 for the next 12 months, D2 for the two years after, D3 beyond.
- Loss: an asset the bank or its auditors have found uncollectable. It is never
  reached by age; once marked it stays (a loss asset is written off, not upgraded).
- Borrower-level: when any loan of a borrower becomes an NPA, all of their loans
  are NPAs from that date. They stay NPAs until every arrear of interest and
  principal on every one of the borrower's loans is paid; a part payment that leaves
  any instalment unpaid upgrades nothing.
- Provisions, on the principal outstanding: standard (SMA included) 0.40%;
  sub-standard 15% of the secured portion and 25% of the unsecured (DESIGN §5:
  personal loans are unsecured); doubtful D1 25%, D2 40%, D3 100% of the secured
  portion and 100% of the unsecured; loss 100%. Each loan's provision is rounded
  half-up to the paisa once.
"""

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from banking.deposits.interest import add_months

from .models import Classification

NPA_AFTER_DAYS = 90
SMA_BANDS = ((30, Classification.SMA_0), (60, Classification.SMA_1), (90, Classification.SMA_2))
NPA_CLASSES = (Classification.SUB_STANDARD, Classification.DOUBTFUL_1, Classification.DOUBTFUL_2,
               Classification.DOUBTFUL_3, Classification.LOSS)
SMA_CLASSES = (Classification.SMA_0, Classification.SMA_1, Classification.SMA_2)
# Months as an NPA after which each class begins (sub-standard from the start).
NPA_AGES = ((12, Classification.DOUBTFUL_1), (24, Classification.DOUBTFUL_2), (48, Classification.DOUBTFUL_3))

# Percent of the principal outstanding: (on the secured portion, on the unsecured portion).
PROVISION_PERCENT = {
    Classification.STANDARD: (Decimal("0.40"), Decimal("0.40")),
    Classification.SMA_0: (Decimal("0.40"), Decimal("0.40")),
    Classification.SMA_1: (Decimal("0.40"), Decimal("0.40")),
    Classification.SMA_2: (Decimal("0.40"), Decimal("0.40")),
    Classification.SUB_STANDARD: (Decimal(15), Decimal(25)),
    Classification.DOUBTFUL_1: (Decimal(25), Decimal(100)),
    Classification.DOUBTFUL_2: (Decimal(40), Decimal(100)),
    Classification.DOUBTFUL_3: (Decimal(100), Decimal(100)),
    Classification.LOSS: (Decimal(100), Decimal(100)),
}


def is_npa(classification):
    return classification in NPA_CLASSES


def days_past_due(oldest_unpaid_due, on):
    """Days past due on `on` of a loan whose oldest instalment not fully paid fell due
    on `oldest_unpaid_due` (None: nothing is unpaid)."""
    if oldest_unpaid_due is None or oldest_unpaid_due > on:
        return 0
    return (on - oldest_unpaid_due).days + 1


def becomes_npa_on(oldest_unpaid_due):
    """The date a loan with this oldest unpaid due date is an NPA, at its day-end."""
    return oldest_unpaid_due + datetime.timedelta(days=NPA_AFTER_DAYS)


def sma_class(dpd):
    """Standard or the SMA bucket for `dpd` days past due; None past 90 (an NPA)."""
    if dpd <= 0:
        return Classification.STANDARD
    for upto, bucket in SMA_BANDS:
        if dpd <= upto:
            return bucket
    return None


def npa_class(npa_since, on):
    """Sub-standard, D1, D2 or D3 for an NPA since `npa_since`, on `on`."""
    found = Classification.SUB_STANDARD
    for months, bucket in NPA_AGES:
        if on >= add_months(npa_since, months):
            found = bucket
    return found


@dataclass(frozen=True)
class BorrowerState:
    """What the borrower is on a date: an NPA since `npa_since` (None: performing)."""

    npa_since: datetime.date | None


def borrower_state(*, loans, on, npa_since=None):
    """The borrower's state on `on`, from what it was (`npa_since`) and each of their
    loans' oldest unpaid due date (`loans`: dates or None).

    A borrower becomes an NPA the first date one loan is more than 90 days past due;
    an NPA borrower stays one while any loan has any arrear (upgrade only when every
    arrear is paid)."""
    dues = [due for due in loans if due is not None and due <= on]
    if npa_since is not None:
        return BorrowerState(npa_since if dues else None)
    crossed = [becomes_npa_on(due) for due in dues if days_past_due(due, on) > NPA_AFTER_DAYS]
    return BorrowerState(min(crossed) if crossed else None)


def classify(*, oldest_unpaid_due, on, borrower_npa_since, loss=False):
    """The loan's (classification, days past due) on `on`, given its borrower's NPA
    date (borrower_state) and whether it was marked a loss asset."""
    dpd = days_past_due(oldest_unpaid_due, on)
    if loss:
        return Classification.LOSS, dpd
    if borrower_npa_since is not None:
        return npa_class(borrower_npa_since, on), dpd
    return sma_class(dpd) or Classification.SUB_STANDARD, dpd


def half_up(value):
    return int(Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def provision(*, classification, outstanding, secured_portion):
    """The provision in paise for a loan of this class with `outstanding` paise of
    principal, of which `secured_portion` is covered by security, rounded half-up once."""
    outstanding = max(0, outstanding)
    secured = min(max(0, secured_portion), outstanding)
    on_secured, on_unsecured = PROVISION_PERCENT[Classification(classification)]
    return half_up((Decimal(secured) * on_secured + Decimal(outstanding - secured) * on_unsecured) / 100)


def secured_portion(*, outstanding, secured, security_value=None):
    """How much of `outstanding` the security covers: nothing for an unsecured product;
    up to the security's value where the bank holds one (a gold loan's gold); all of it
    for a secured product with no valuation on record (home, vehicle: the bank's
    charge on the asset financed)."""
    if not secured:
        return 0
    if security_value is None:
        return max(0, outstanding)
    return max(0, min(outstanding, security_value))


def interest_for_day(principal, annual_rate):
    """A day's interest on `principal` paise at `annual_rate` percent, actual/365, in
    hundredths of a paisa (kept unrounded per day, rounded half-up once when posted)."""
    return half_up(Decimal(max(0, principal)) * Decimal(annual_rate) / 365)
