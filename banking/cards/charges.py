"""RBI's free ATM transactions, and the charge past them, at end of day.

Design overview
- Free: 5 transactions a month per deposit account at the bank's own ATMs (every
  terminal of the switch is the bank's own), counting financial and non-financial
  ones alike: withdrawals, balance enquiries and mini statements, of every card on
  the account. The month is the calendar month of the transaction's local date.
- Counted: only what the switch approved (00). A decline is never counted: the
  bank's own (05 cannot dispense, 91 unavailable, a terminal out of service) by the
  issue's rule, and the customer's (wrong PIN, insufficient funds) because RBI's
  2019 circular on ATM transactions says failed and "invalid PIN/validation"
  transactions are not valid transactions. A withdrawal reversed in full (nothing
  dispensed) is not counted either: the customer got nothing.
- Charged: each counted transaction past the fifth, ₹23 + 18% GST (gst_on, the
  bank's GST rule written once in banking.deposits.savings), Dr the account, Cr ATM
  transaction charges (4208) and GST payable (2602): one entry per transaction, keyed
  by the step and the switch message, and an AtmCharge naming it, in the partition's
  transaction (post_batch, the ledger's set-based posting, as every end-of-day charge).
- A transaction's place in its month is worked out by the database (row_number over
  the account's counted messages of the month, by the time received).
- Each day's run looks at this month and the last: a message of the day that arrived
  after that day's end of day (a terminal's clock, a late batch) is charged the next
  day, in the month it counted in.
- Never below zero: a charge is taken whole or not at all, when the account holds it
  (balance less holds: an overdraft is not spent on charges, the minimum-balance
  charge's rule, `savings._room`); otherwise it waits for the next end of day, for as
  long as its month is this month or the last. An account the ledger refuses to debit
  (frozen, closed) is skipped the same way.
Idempotent: a rerun finds the AtmCharge rows (and the entries' keys) and charges nothing twice.
"""

import datetime

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, Window
from django.db.models.functions import RowNumber, TruncMonth

from banking.core.eod import posting_key
from banking.core.money import format_money
from banking.deposits.models import DepositAccount
from banking.deposits.savings import _gl_ids, _room, as_date, gst_on
from banking.ledger.actions import BatchEntry, Line, post_batch
from banking.ledger.chart import ATM_CHARGES, GST_PAYABLE
from banking.ledger.models import Channel, EntryKind

from .models import AtmCharge, Card, MessageKind, SwitchMessage
from .switch import APPROVED

CHARGES_STEP = "cards.atm_charges"
FREE_TRANSACTIONS = 5
CHARGE = 23_00
COUNTED_KINDS = (MessageKind.WITHDRAWAL, MessageKind.BALANCE, MessageKind.MINI_STATEMENT)


def accounts_with_cards():
    return DepositAccount.objects.filter(Exists(Card.objects.filter(account=OuterRef("pk"))))


def counted_messages():
    """The switch's messages that count against the free transactions."""
    fully_reversed = SwitchMessage.objects.filter(original=OuterRef("pk"), kind=MessageKind.REVERSAL,
                                                  reversed_amount=OuterRef("amount"))
    return (SwitchMessage.objects.filter(kind__in=COUNTED_KINDS, response_code=APPROVED, card__isnull=False)
            .filter(~Q(kind=MessageKind.WITHDRAWAL) | ~Exists(fully_reversed)))


def _previous_month_start(date):
    first = date.replace(day=1)
    return (first - datetime.timedelta(days=1)).replace(day=1)


def transactions_past_free(*, date, first=None, last=None):
    """(message id, account id, ledger account id, month, place, terminal id, stan) of
    each counted transaction of this month or the last, up to `date`, past the free
    ones, of the accounts with ids from `first` to `last`."""
    messages = counted_messages().filter(local_date__gte=_previous_month_start(date), local_date__lte=date)
    if first is not None:
        messages = messages.filter(card__account_id__gte=first, card__account_id__lte=last)
    ranked = (messages.annotate(
        account=F("card__account_id"), month=TruncMonth("local_date"),
        place=Window(RowNumber(), partition_by=[F("card__account_id"), TruncMonth("local_date")],
                     order_by=[F("received_at").asc(), F("id").asc()]))
        .filter(place__gt=FREE_TRANSACTIONS)
        .values_list("id", "account", "card__account__ledger_account_id", "month", "place", "terminal__terminal_id",
                     "stan", "card__account__number"))
    return list(ranked)


def charge_atm_transactions(*, date, first=None, last=None):
    """Charge each counted ATM transaction past the month's free ones, not charged
    yet, of the accounts with ids from `first` to `last`; return how many were
    charged now. One transaction: the entries (one post_batch) and their AtmCharge rows."""
    date = as_date(date)
    income, gst_payable = _gl_ids(ATM_CHARGES, GST_PAYABLE)
    gst = gst_on(CHARGE)
    with transaction.atomic():
        due = transactions_past_free(date=date, first=first, last=last)
        charged_before = set(SwitchMessage.objects.filter(pk__in=[row[0] for row in due], charge__isnull=False)
                             .values_list("pk", flat=True))
        due = [row for row in due if row[0] not in charged_before]
        if not due:
            return 0
        room = _room({row[2] for row in due})
        asked = []
        for row in due:  # in the order received, each charge whole while the account holds it
            if room.get(row[2], 0) >= CHARGE + gst:
                room[row[2]] -= CHARGE + gst
                asked.append(row)
        outcomes = post_batch(actor=None, kind=EntryKind.FEE, channel=Channel.SYSTEM, entries=[
            _charge_entry(date, row, income=income, gst_payable=gst_payable, gst=gst) for row in asked])
        charges = [AtmCharge(message_id=message_id, account_id=account_id, month=month, place=place, date=date,
                             charge=CHARGE, gst=gst, entry_id=outcome.entry_id)
                   for (message_id, account_id, _, month, place, *_rest), outcome in zip(asked, outcomes, strict=True)
                   if outcome.posted]
        AtmCharge.objects.bulk_create(charges)
        return len(charges)


def _charge_entry(date, row, *, income, gst_payable, gst):
    message_id, _, ledger_id, month, place, terminal_id, stan, number = row
    return BatchEntry(
        posting_key(month, CHARGES_STEP, f"msg{message_id}"),
        f"ATM charge {terminal_id} {stan}: transaction {place} of {month:%b %Y} (5 free), "
        f"{format_money(CHARGE)} + GST {format_money(gst)}",
        (Line.debit(ledger_id, CHARGE + gst), Line.credit(income, CHARGE), Line.credit(gst_payable, gst)),
        reference=number)

