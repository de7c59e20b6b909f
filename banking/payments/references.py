"""Network references for payments, unique and in each rail's format.

- NEFT UTR, 16 characters: the bank's IFSC prefix, "N", the year (2 digits) and day
  of the year (3), then a 6-digit sequence of the day: CBSBN26332000042.
- RTGS UTR, 22 characters: prefix, "RC", the date YYYYMMDD, an 8-digit sequence:
  CBSBRC2026112800000042.
- IMPS and UPI RRN, 12 digits: the last digit of the year, the day of the year (3),
  an 8-digit sequence of the day (IMPS and UPI share it, so an RRN is never reused).
- Payments within the bank carry no network reference.

The sequence is one row per rail and day (`ReferenceCounter`), advanced with an
UPDATE that holds its row lock until the payment's transaction ends: a rolled-back
payment gives its number back, so the numbers have no gaps from refusals.
"""

from django.conf import settings
from django.db import transaction
from django.db.models import F

from .models import Rail, ReferenceCounter

SEQUENCE_DIGITS = {"NEFT": 6, "RTGS": 8, "IMPS": 8, "UPI": 8}


def next_in_series(series, date):
    """The next number of `series` (a rail, or PAY for payment numbers) on `date`.
    The increment and the read are one transaction: the caller's, or (called
    outside one, as the inbound simulator does) a transaction of their own, so no
    other caller's increment can slip in between."""
    with transaction.atomic(savepoint=False):
        updated = ReferenceCounter.objects.filter(rail=series, date=date).update(last=F("last") + 1)
        if not updated:
            ReferenceCounter.objects.get_or_create(rail=series, date=date)
            ReferenceCounter.objects.filter(rail=series, date=date).update(last=F("last") + 1)
        return ReferenceCounter.objects.filter(rail=series, date=date).values_list("last", flat=True).get()


def next_reference(rail, date):
    """The next reference for `rail` on business date `date` (None within the bank)."""
    if rail == Rail.INTERNAL:
        return None
    series = "IMPS" if rail in (Rail.IMPS, Rail.UPI) else rail
    sequence = next_in_series(series, date)
    width = SEQUENCE_DIGITS[rail]
    if sequence >= 10**width:
        raise OverflowError(f"The {rail} reference sequence for {date} is exhausted.")
    prefix = settings.CBS_IFSC_PREFIX
    if rail == Rail.NEFT:
        return f"{prefix}N{date:%y}{date.timetuple().tm_yday:03d}{sequence:06d}"
    if rail == Rail.RTGS:
        return f"{prefix}RC{date:%Y%m%d}{sequence:08d}"
    return f"{date.year % 10}{date.timetuple().tm_yday:03d}{sequence:08d}"
