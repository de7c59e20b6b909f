"""Network references for payments, unique and in each rail's format.

- NEFT UTR, 16 characters: the bank's IFSC prefix, "N", the year (2 digits) and day
  of the year (3), then a 6-digit sequence of the day: CBSBN26332000042.
- RTGS UTR, 22 characters: prefix, "RC", the date YYYYMMDD, an 8-digit sequence:
  CBSBRC2026112800000042.
- IMPS and UPI RRN, 12 digits: the last digit of the year, the day of the year (3),
  an 8-digit sequence of the day (IMPS and UPI share it, so an RRN is never reused).
- Payments within the bank carry no network reference.

The sequence is one row per rail and day (`ReferenceCounter`), advanced by one
statement whose row lock is held until the payment's transaction ends: a rolled-back
payment gives its number back, so the numbers have no gaps from refusals. Payments
of the day queue on that row, so a payment takes its number as late as it can, just
before it posts.
"""

from django.conf import settings

from banking.core.db import execute_prepared

from .models import Rail, ReferenceCounter

SEQUENCE_DIGITS = {"NEFT": 6, "RTGS": 8, "IMPS": 8, "UPI": 8}


def next_in_series(series, date):
    """The next number of `series` (a rail, or PAY for payment numbers) on `date`.
    The increment and the read are one statement (an upsert that also starts the
    day's row), so no other caller's increment can slip in between, inside the
    caller's transaction or, called outside one (as the inbound simulator does), in
    its own."""
    return _advance(series, date)[0]


def next_in_series_with_id(series, date, model):
    """`next_in_series`, and a fresh primary key of `model` reserved from its sequence
    in the same statement: for a row written later, with its posting (a rider)."""
    return _advance(series, date, model)


def _advance(series, date, model=None):
    table = ReferenceCounter._meta.db_table
    reserve = f", nextval(pg_get_serial_sequence('{model._meta.db_table}', 'id'))" if model is not None else ""
    return tuple(execute_prepared(
        f"INSERT INTO {table} (rail, date, last) VALUES (%s, %s::date, 1)"  # noqa: S608 names from the models
        f" ON CONFLICT (rail, date) DO UPDATE SET last = {table}.last + 1 RETURNING last{reserve}",
        [series, date])[0])


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
