"""Savings and current accounts at end of day: interest accrual and its GL entry,
the quarter's interest credit, minimum-balance charges and dormancy.

Design overview (the records are in savings_models.py; the steps' places in eod.py)
- Accrual (daily, every calendar date): one INSERT ... SELECT per partition of
  accounts writes each open savings or current account's `SavingsAccrual` for the
  date: its ledger balance (the day's closing balance: end of day runs before the
  date rolls, and every posting until then carries it), the product's slab rate for
  that balance (`BalanceSlab`, the rate on the whole balance), the day's interest
  `round(max(balance, 0) × rate ÷ 365)` in hundredths of a paisa (actual/365, also in
  leap years, half-up), and the running figures carried from the day before. The
  formula is written here once, in SQL. The balances come from the ledger's own
  function `cbs_balances`: this SQL reads only the deposits app's tables.
- The day's GL entry (after every partition is done): for each product and branch,
  Dr interest expense, Cr interest payable for savings (2202), by the change of the
  rounded accruals not yet credited (`SavingsInterestPayable`), so the GL holds their
  sum rounded half-up once, never a sum of rounded days.
- Quarter's credit (31 Mar, 30 Jun, 30 Sep, 31 Dec, after that day's accrual): each
  account gets its accruals not yet credited, rounded half-up to the paisa, as one
  entry of its own (Dr 2202, Cr the account, keyed by date, step and account), all of
  a partition through one `post_batch`. The words on the statement say what it is:
  "Interest credited for the quarter 1 Jan 2027 to 31 Mar 2027". No TDS: section
  194A does not reach savings interest. An account the ledger refuses (a total
  freeze) keeps its accruals for the next quarter. Then, per product and branch, the
  difference between the paise credited and the paise released from 2202 goes to
  the rounding GL (5103), and 2202 again holds exactly the rounded accruals left.
- Closing (`settle_interest_on_closing`, from the closing's approval): an account
  closed between quarter ends is credited its accruals not yet credited, to the last
  day end of day accrued, before the closing payout, which carries them: the bank's
  rule is to pay interest for every day the money stayed, not to reverse it. The
  books move as for a quarter's credit (payable released, the rounding to 5103, a
  `SavingsCredit`), so the GL's interest payable stays the accruals not yet credited.
- Minimum balance (month end): the month's average of the daily closing balances,
  for accounts on the books the whole month; below the product's minimum, a charge of
  the product's rate on the shortfall, up to its cap, plus 18% GST (each rounded
  half-up once), never more than the account holds: balance less holds (an
  overdraft is not spent on charges). Never on zero-balance products, nor on any
  account that is not active (inoperative, frozen: RBI's rules forbid charging an
  inoperative account, and the ledger's debit freeze refuses it anyway).
- Dormancy (daily): an active savings or current account whose last
  customer-induced transaction (`last_customer_activity_on`, else the opening day)
  is two years old becomes inoperative (`actions.mark_inoperative`: a debit freeze in
  the ledger, shown wherever the account's status is). Three months before, the
  customer is emailed, once per spell of inactivity. Interest credits and charges
  never touch `last_customer_activity_on`: they do not count.

Idempotency: every step can run again for the same date and changes nothing. Accrual
rows are keyed by (date, account); GL entries, credits and charges carry
`posting_key(date, step, subject)`; the records of credits and charges are written in
the transaction of their entries, and a rerun skips what they name; the payable
figures remember the dates they took in. A partition is one transaction: a worker
killed in the middle of one leaves nothing of it.

Locks: a partition of credits or charges locks, through `post_batch`, the ledger
accounts it posts to, in id order (the GL included, so partitions queue on it for
the length of the batch statement). The GL steps lock their `SavingsInterestPayable`
rows. Dormancy locks each account as `mark_inoperative` does.
"""

import calendar
import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import Exists, F, Max, OuterRef, Sum
from django.db.models.functions import Coalesce

from banking.core.eod import posting_key
from banking.core.errors import InsufficientFunds, ValidationFailed
from banking.core.money import format_money
from banking.ledger.actions import BatchEntry, Line, post_batch, post_entry
from banking.ledger.chart import (
    GST_PAYABLE,
    MINIMUM_BALANCE_CHARGES,
    SAVINGS_INTEREST_EXPENSE,
    SAVINGS_INTEREST_PAYABLE,
    SAVINGS_INTEREST_ROUNDING,
    ensure_standard_chart,
)
from banking.ledger.models import Channel, EntryKind, LedgerAccount

from .interest import add_months, to_paise
from .models import OPERATIVE_KINDS, DepositAccount, DepositStatus, Product, ProductKind
from .savings_models import (
    DormancyNotice,
    MinimumBalanceCharge,
    SavingsAccrual,
    SavingsCredit,
    SavingsInterestPayable,
)

ACCRUAL_STEP = "deposits.savings_accrual"
ACCRUAL_POSTING_STEP = "deposits.savings_accrual_posting"
CREDIT_STEP = "deposits.savings_interest_credit"
CREDIT_ROUNDING_STEP = "deposits.savings_interest_rounding"
DORMANCY_STEP = "deposits.dormancy"
CHARGES_STEP = "deposits.minimum_balance_charges"

GST_RATE = Decimal(18)  # on the bank's charges
DORMANT_AFTER_MONTHS = 24
WARN_MONTHS_BEFORE = 3
QUARTER_ENDS = ((3, 31), (6, 30), (9, 30), (12, 31))
# Products whose accounts pay a minimum-balance charge: never a zero-balance one.
CHARGEABLE_KINDS = (ProductKind.SAVINGS, ProductKind.CURRENT)


def as_date(value):
    """A step's date, given as a date or (from a job's JSON arguments) its ISO text."""
    return datetime.date.fromisoformat(value) if isinstance(value, str) else value


def is_quarter_end(date):
    return (date.month, date.day) in QUARTER_ENDS


def is_month_end(date):
    return date.day == calendar.monthrange(date.year, date.month)[1]


def quarter_start(date):
    return datetime.date(date.year, date.month - (date.month - 1) % 3, 1)


def paise(hundredths):
    """Hundredths of a paisa to whole paise, half-up: the one rounding of an accrual."""
    return to_paise(Decimal(hundredths) / 100)


def accounts_on_books(date):
    """Savings and current accounts that accrue on `date`: opened by then and not
    closed (frozen and inoperative ones included: interest runs on their balances)."""
    return (DepositAccount.objects.filter(product__kind__in=OPERATIVE_KINDS, opened_on__lte=date)
            .exclude(status__in=[DepositStatus.PENDING, DepositStatus.CLOSED]))


def _in(queryset, first, last, field="pk"):
    if first is not None:
        queryset = queryset.filter(**{f"{field}__gte": first})
    if last is not None:
        queryset = queryset.filter(**{f"{field}__lte": last})
    return queryset


def _gl_ids(*codes):
    ensure_standard_chart()
    ids = dict(LedgerAccount.objects.filter(code__in=codes).values_list("code", "id"))
    return [ids[code] for code in codes]


# -- accrual --------------------------------------------------------------------------

# The day's accrual of the accounts with ids from %(first)s to %(last)s. Balances come
# from the ledger's function; slabs become (product, above, up_to, rate) ranges, with
# the product's own rate above its highest slab (or for all balances, without slabs).
_ACCRUAL_SQL = """
WITH acc AS MATERIALIZED (
    SELECT d.id, d.ledger_account_id, d.product_id
      FROM deposits_depositaccount d JOIN deposits_product p ON p.id = d.product_id
     WHERE d.id BETWEEN %(first)s AND %(last)s AND p.kind = ANY(%(kinds)s)
       AND d.status NOT IN ('pending', 'closed') AND d.opened_on <= %(date)s
), bal AS (
    SELECT b.account_id, b.balance FROM cbs_balances(ARRAY(SELECT acc.ledger_account_id FROM acc)) b
), slabs AS (
    SELECT s.product_id, lag(s.up_to) OVER (PARTITION BY s.product_id ORDER BY s.up_to) AS above, s.up_to, s.rate
      FROM deposits_balanceslab s
    UNION ALL
    SELECT p.id, (SELECT max(s.up_to) FROM deposits_balanceslab s WHERE s.product_id = p.id), NULL, p.interest_rate
      FROM deposits_product p WHERE p.kind = ANY(%(kinds)s)
)
INSERT INTO deposits_savingsaccrual (date, account_id, balance, rate, interest, accrued, month_total, month_days)
SELECT %(date)s, acc.id, bal.balance, r.rate, i.interest,
       coalesce(prev.accrued, 0) - coalesce(cr.accrued, 0) + i.interest,
       CASE WHEN %(new_month)s THEN 0 ELSE coalesce(prev.month_total, 0) END + bal.balance,
       CASE WHEN %(new_month)s THEN 0 ELSE coalesce(prev.month_days, 0) END + 1
  FROM acc
  JOIN bal ON bal.account_id = acc.ledger_account_id
  JOIN slabs r ON r.product_id = acc.product_id AND (r.above IS NULL OR bal.balance > r.above)
              AND (r.up_to IS NULL OR bal.balance <= r.up_to)
 CROSS JOIN LATERAL (SELECT round(greatest(bal.balance, 0)::numeric * r.rate / 365)::bigint AS interest) i
  LEFT JOIN deposits_savingsaccrual prev ON prev.date = %(yesterday)s AND prev.account_id = acc.id
  LEFT JOIN deposits_savingscredit cr ON cr.date = %(yesterday)s AND cr.account_id = acc.id
 ORDER BY acc.id
ON CONFLICT DO NOTHING
"""


def accrue_savings_interest(*, date, first=None, last=None):
    """Write the day's accrual of every savings and current account with an id from
    `first` to `last` (all of them when both are None); return how many were written
    now. One statement, one transaction. Refused when the day before has not accrued
    though earlier days have: the running figures carry from one day to the next, and
    end of day runs each date in order."""
    date = as_date(date)
    yesterday = date - datetime.timedelta(days=1)
    with transaction.atomic():
        last_accrued = SavingsAccrual.objects.filter(date__lt=date).aggregate(last=Max("date"))["last"]
        if last_accrued is not None and last_accrued < yesterday:
            raise ValidationFailed(
                f"Savings interest last accrued for {last_accrued:%d %b %Y}; end of day accrues each date in order, "
                f"so {yesterday:%d %b %Y} comes before {date:%d %b %Y}.")
        with connection.cursor() as cursor:
            cursor.execute(_ACCRUAL_SQL, {
                "date": date, "yesterday": yesterday, "new_month": date.day == 1,
                "first": first if first is not None else 0, "last": last if last is not None else 2**63 - 1,
                "kinds": [str(kind) for kind in OPERATIVE_KINDS],
            })
            return cursor.rowcount


def post_savings_accrual(*, date):
    """The day's GL entry for each product and branch whose accounts accrued on
    `date`: Dr interest expense, Cr interest payable for savings, by how much the
    rounded accruals not yet credited grew. Returns the number of products and
    branches taken in now. Locks their SavingsInterestPayable rows."""
    date = as_date(date)
    expense, payable = _gl_ids(SAVINGS_INTEREST_EXPENSE, SAVINGS_INTEREST_PAYABLE)
    with transaction.atomic():
        totals = (SavingsAccrual.objects.filter(date=date)
                  .values_list("account__product_id", "account__branch_id")
                  .annotate(total=Sum("interest")).order_by("account__product_id", "account__branch_id"))
        names = _product_branch_names()
        entries, taken = [], []
        for product_id, branch_id, total in totals:
            book = _locked_book(product_id, branch_id)
            if book.accrued_through is not None and book.accrued_through >= date:
                continue
            amount = paise(book.accrued + total) - paise(book.accrued)
            book.accrued += total
            book.accrued_through = date
            taken.append(book)
            if amount:
                product, branch = names(product_id, branch_id)
                entries.append(BatchEntry(
                    posting_key(date, ACCRUAL_POSTING_STEP, f"{product}-{branch}"),
                    f"Interest accrued on {product} accounts of branch {branch} for {date:%d %b %Y}",
                    (Line.debit(expense, amount), Line.credit(payable, amount)), reference=f"{product}-{branch}"))
        _post_all(entries, EntryKind.INTEREST)
        for book in taken:
            book.save(update_fields=["accrued", "accrued_through"])
        return len(taken)


def _locked_book(product_id, branch_id):
    SavingsInterestPayable.objects.get_or_create(product_id=product_id, branch_id=branch_id)
    return SavingsInterestPayable.objects.select_for_update().get(product_id=product_id, branch_id=branch_id)


def _product_branch_names():
    from banking.users.models import Branch

    products = dict(Product.objects.values_list("id", "code"))
    branches = dict(Branch.objects.values_list("id", "code"))
    return lambda product_id, branch_id: (products[product_id], branches[branch_id])


def _post_all(entries, kind):
    """Post the GL steps' few entries; any refusal stops the step with its words."""
    for outcome in post_batch(actor=None, entries=entries, kind=kind, channel=Channel.SYSTEM):
        if outcome.error is not None:
            raise outcome.error


# -- the quarter's credit ---------------------------------------------------------------


def credit_narration(date):
    return f"Interest credited for the quarter {quarter_start(date):%-d %b %Y} to {date:%-d %b %Y}"


def credit_savings_interest(*, date, first=None, last=None):
    """On a quarter's last day, credit each savings and current account with an id
    from `first` to `last` its accruals not yet credited, rounded half-up to the paisa;
    return how many accounts were credited now. One transaction: the entries (one
    `post_batch`) and their SavingsCredit records."""
    date = as_date(date)
    if not is_quarter_end(date):
        return 0
    (payable,) = _gl_ids(SAVINGS_INTEREST_PAYABLE)
    narration = credit_narration(date)
    with transaction.atomic():
        due = (_in(SavingsAccrual.objects.filter(date=date, accrued__gte=50), first, last, "account_id")
               .exclude(Exists(SavingsCredit.objects.filter(date=date, account_id=OuterRef("account_id"))))
               .order_by("account_id")
               .values_list("account_id", "account__ledger_account_id", "account__number", "accrued"))
        rows, entries = [], []
        for account_id, ledger_id, number, accrued in due.iterator(chunk_size=5000):
            amount = paise(accrued)
            rows.append((account_id, accrued, amount))
            entries.append(BatchEntry(posting_key(date, CREDIT_STEP, account_id), narration,
                                      (Line.debit(payable, amount), Line.credit(ledger_id, amount)),
                                      reference=number))
        outcomes = post_batch(actor=None, entries=entries, kind=EntryKind.INTEREST, channel=Channel.SYSTEM)
        credited = [(*row, outcome.entry_id) for row, outcome in zip(rows, outcomes, strict=True) if outcome.posted]
        with connection.cursor() as cursor:  # one statement, however many: arrays in, as the ledger's batch takes them
            cursor.execute(
                "INSERT INTO deposits_savingscredit (date, account_id, accrued, amount, entry_id)"
                " SELECT %s, c.* FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[]) AS c"
                " ON CONFLICT DO NOTHING",
                [date, *(_bigints(column) for column in zip(*credited, strict=True))] if credited else
                [date, "{}", "{}", "{}", "{}"])
        return len(credited)


def _bigints(values):
    return "{" + ",".join(str(value) for value in values) + "}"


def post_credit_rounding(*, date):
    """After a quarter's credits: for each product and branch, release from interest
    payable what its rounded accruals fell by, and post the difference from the paise
    credited to the rounding GL. Returns the number of products and branches taken in
    now. Locks their SavingsInterestPayable rows."""
    date = as_date(date)
    if not is_quarter_end(date):
        return 0
    payable, rounding = _gl_ids(SAVINGS_INTEREST_PAYABLE, SAVINGS_INTEREST_ROUNDING)
    with transaction.atomic():
        sums = (SavingsCredit.objects.filter(date=date)
                .values_list("account__product_id", "account__branch_id")
                .annotate(accrued=Sum("accrued"), amount=Sum("amount"))
                .order_by("account__product_id", "account__branch_id"))
        names = _product_branch_names()
        entries, taken = [], []
        for product_id, branch_id, accrued, amount in sums:
            book = _locked_book(product_id, branch_id)
            if book.credited_through is not None and book.credited_through >= date:
                continue
            released = paise(book.accrued) - paise(book.accrued - accrued)
            difference = released - amount  # above zero: the bank credited less than it had set aside
            book.accrued -= accrued
            book.credited_through = date
            taken.append(book)
            if difference:
                product, branch = names(product_id, branch_id)
                lines = ((Line.debit(payable, difference), Line.credit(rounding, difference)) if difference > 0
                         else (Line.debit(rounding, -difference), Line.credit(payable, -difference)))
                entries.append(BatchEntry(
                    posting_key(date, CREDIT_ROUNDING_STEP, f"{product}-{branch}"),
                    f"Rounding of the interest credited on {product} accounts of branch {branch} for the quarter "
                    f"to {date:%-d %b %Y}", lines, reference=f"{product}-{branch}"))
        _post_all(entries, EntryKind.INTEREST)
        for book in taken:
            book.save(update_fields=["accrued", "credited_through"])
        return len(taken)


# -- closing an account ------------------------------------------------------------------


def interest_due_on_closing(account_id):
    """What closing the account now credits it: (its accruals not yet credited, in
    hundredths of a paisa; their paise, rounded half-up once). Its last accrual less
    what a credit that same day took of it; (0, 0) for an account that never accrued."""
    last = SavingsAccrual.objects.filter(account_id=account_id).order_by("-date").first()
    if last is None:
        return 0, 0
    credited = SavingsCredit.objects.filter(account_id=account_id, date=last.date).values_list("accrued", flat=True)
    owed = last.accrued - (credited[0] if credited else 0)
    return owed, paise(owed)


def settle_interest_on_closing(*, account, actor, checker=None, idempotency_key):
    """The bank's rule for an account closed between quarter ends: it is credited its
    interest up to the last day end of day accrued (the day before the closing day,
    whose own balance is paid out, not left to earn), before the closing payout, so
    the payout carries it. Crediting rather than reversing the accrual: interest on
    savings is the customer's for every day the money stayed (RBI's directions on
    savings interest, daily product), and a closing is no reason to forfeit it.

    As a quarter's credit does: the accruals not yet credited (hundredths of a paisa)
    leave the product and branch's `SavingsInterestPayable`, the GL's interest payable
    (2202) releases what its rounded figure falls by, the account gets them rounded
    half-up to the paisa, and the difference goes to the rounding GL (5103), all in
    one entry ("Interest credited on closing ..."), with a `SavingsCredit` dated the
    last accrual, so the GL's interest payable still equals the accruals not yet
    credited. Returns the paise credited (0 when nothing was owed).

    Inside the closing's transaction; the caller holds the DepositAccount's lock. Locks
    the product and branch's SavingsInterestPayable row, then (post_entry) the ledger
    accounts in id order."""
    owed, amount = interest_due_on_closing(account.pk)
    if amount <= 0:  # under half a paisa, which no one can be paid, stays as a quarter's credit leaves it
        return 0
    last_date = SavingsAccrual.objects.filter(account_id=account.pk).order_by("-date").values_list(
        "date", flat=True)[0]
    payable, rounding = _gl_ids(SAVINGS_INTEREST_PAYABLE, SAVINGS_INTEREST_ROUNDING)
    book = _locked_book(account.product_id, account.branch_id)
    released = paise(book.accrued) - paise(book.accrued - owed)
    difference = released - amount  # above zero: the bank credits less than it had set aside
    lines = [Line.credit(account.ledger_account_id, amount)]
    if released:
        lines.append(Line.debit(payable, released))
    if difference > 0:
        lines.append(Line.credit(rounding, difference))
    elif difference < 0:
        lines.append(Line.debit(rounding, -difference))
    entry = post_entry(actor=actor, checker=checker, kind=EntryKind.INTEREST, channel=Channel.BRANCH, lines=lines,
                       idempotency_key=idempotency_key, reference=account.number,
                       narration=f"Interest credited on closing, up to {last_date:%-d %b %Y}")
    book.accrued -= owed
    book.save(update_fields=["accrued"])
    SavingsCredit.objects.create(date=last_date, account_id=account.pk, accrued=owed, amount=amount, entry_id=entry.pk)
    return amount


# -- minimum balance charges ------------------------------------------------------------


def minimum_balance_charge(*, month_total, days, minimum, rate, cap):
    """The charge and its GST, in paise, for a month whose closing balances add up to
    `month_total` over `days` days, against an average `minimum`: `rate` % of the
    shortfall, at most `cap`, each rounded half-up once. (0, 0) when there is none."""
    shortfall = Decimal(minimum) - Decimal(month_total) / days
    if shortfall <= 0 or cap <= 0 or rate <= 0:
        return 0, 0
    charge = min(to_paise(shortfall * Decimal(rate) / 100), cap)
    return charge, gst_on(charge)


def gst_on(charge):
    return to_paise(Decimal(charge) * GST_RATE / 100)


def within(room, charge, gst):
    """The largest charge, with its GST, whose total fits in `room` paise (what the
    account holds): (charge, gst) itself when it fits; (0, 0) when nothing does."""
    if charge + gst <= room:
        return charge, gst
    charge = max(0, min(charge, int(Decimal(room) * 100 // (100 + GST_RATE))))
    while charge and charge + gst_on(charge) > room:
        charge -= 1
    return charge, gst_on(charge) if charge else 0


def charge_minimum_balance(*, date, first=None, last=None):
    """At a month's end, charge each savings and current account with an id from
    `first` to `last` whose month's average balance fell below its product's minimum;
    return how many were charged now. One transaction: the entries (one `post_batch`)
    and their MinimumBalanceCharge records."""
    date = as_date(date)
    if not is_month_end(date):
        return 0
    days = date.day
    fees, gst_payable = _gl_ids(MINIMUM_BALANCE_CHARGES, GST_PAYABLE)
    with transaction.atomic():
        short = (_in(SavingsAccrual.objects.filter(date=date, month_days=days), first, last, "account_id")
                 .filter(account__status=DepositStatus.ACTIVE, account__product__kind__in=CHARGEABLE_KINDS,
                         account__product__minimum_balance__gt=0,
                         month_total__lt=F("account__product__minimum_balance") * days)
                 .exclude(Exists(MinimumBalanceCharge.objects.filter(date=date, account_id=OuterRef("account_id"))))
                 .order_by("account_id")
                 .values_list("account_id", "account__ledger_account_id", "account__number", "month_total",
                              "account__product__minimum_balance", "account__product__minimum_balance_charge_rate",
                              "account__product__minimum_balance_charge"))
        due = {}
        for account_id, ledger_id, number, month_total, minimum, rate, cap in short:
            charge, gst = minimum_balance_charge(month_total=month_total, days=days, minimum=minimum, rate=rate,
                                                 cap=cap)
            if charge:
                due[account_id] = _Due(ledger_id, number, to_paise(Decimal(month_total) / days), minimum, charge, gst)
        charged, waiting = [], sorted(due)
        # Twice at most: a customer's own debit between reading the balances and the
        # batch's lock is caught by the batch (insufficient), and read again under it.
        for _ in range(2):
            room = _room(due[account_id].ledger_id for account_id in waiting)
            asked = [(account_id, within(room.get(due[account_id].ledger_id, 0), due[account_id].charge,
                                         due[account_id].gst)) for account_id in waiting]
            asked = [(account_id, fits) for account_id, fits in asked if fits[0]]
            outcomes = post_batch(actor=None, kind=EntryKind.FEE, channel=Channel.SYSTEM, entries=[
                _charge_entry(date, account_id, due[account_id], *fits, fees=fees, gst_payable=gst_payable)
                for account_id, fits in asked])
            waiting = []
            for (account_id, (charge, gst)), outcome in zip(asked, outcomes, strict=True):
                if outcome.posted:
                    wanted = due[account_id]
                    charged.append(MinimumBalanceCharge(
                        date=date, account_id=account_id, average=wanted.average, minimum=wanted.minimum,
                        charge=charge, gst=gst, capped_by_balance=charge < wanted.charge, entry_id=outcome.entry_id))
                elif isinstance(outcome.error, InsufficientFunds):
                    waiting.append(account_id)
            if not waiting:
                break
        MinimumBalanceCharge.objects.bulk_create(charged, batch_size=5000)
        return len(charged)


@dataclass(frozen=True)
class _Due:
    ledger_id: int
    number: str
    average: int
    minimum: int
    charge: int
    gst: int


def _room(ledger_ids):
    """What each ledger account holds that a charge may take: its balance less every
    hold not yet released, never below zero (an overdraft is not spent on charges)."""
    return {pk: max(0, balance - held) for pk, balance, held in
            LedgerAccount.objects.filter(pk__in=list(ledger_ids)).values_list("pk", "balance", "held")}


def _charge_entry(date, account_id, due, charge, gst, *, fees, gst_payable):
    lines = [Line.debit(due.ledger_id, charge + gst), Line.credit(fees, charge)]
    if gst:
        lines.append(Line.credit(gst_payable, gst))
    return BatchEntry(
        posting_key(date, CHARGES_STEP, account_id),
        f"Minimum balance charge for {date:%B %Y}: average balance {format_money(due.average)} against "
        f"{format_money(due.minimum)}, {format_money(charge)} + GST {format_money(gst)}",
        tuple(lines), reference=due.number)


# -- dormancy ---------------------------------------------------------------------------


def _active_since():
    return Coalesce("last_customer_activity_on", "opened_on")


def inoperative_on(active_since):
    """The day an account with no customer-induced transaction since `active_since`
    becomes inoperative."""
    return add_months(active_since, DORMANT_AFTER_MONTHS)


def watch_dormancy(*, date, first=None, last=None):
    """Make inoperative each active savings or current account (ids from `first` to
    `last`) whose last customer-induced transaction is two years old on `date`, and
    warn by email the customers of those that will be in three months. Returns how
    many accounts it changed or warned now. Each account is its own transaction."""
    date = as_date(date)
    candidates = (_in(DepositAccount.objects.filter(product__kind__in=OPERATIVE_KINDS, status=DepositStatus.ACTIVE,
                                                    opened_on__isnull=False), first, last)
                  .annotate(active_since=_active_since())
                  # Three days' slack for months of different lengths: the exact day is add_months', below.
                  .filter(active_since__lte=add_months(date, WARN_MONTHS_BEFORE - DORMANT_AFTER_MONTHS)
                          + datetime.timedelta(days=3))
                  # Warned about this spell of inactivity, and not yet due: nothing to do.
                  .exclude(Exists(DormancyNotice.objects.filter(account_id=OuterRef("pk"),
                                                                active_since=OuterRef("active_since"),
                                                                inoperative_on__gt=date)))
                  .order_by("pk").values_list("pk", "active_since"))
    done = 0
    for account_id, active_since in candidates.iterator(chunk_size=2000):
        if inoperative_on(active_since) <= date:
            done += _make_inoperative(account_id, date)
        elif add_months(active_since, DORMANT_AFTER_MONTHS - WARN_MONTHS_BEFORE) <= date:
            done += _warn(account_id, date)
    return done


def _make_inoperative(account_id, date):
    from .actions import mark_inoperative

    with transaction.atomic():
        account = DepositAccount.objects.select_for_update(of=("self",)).filter(pk=account_id).first()
        # Checked again under the lock: a deposit may have just come in.
        if account is None or account.status != DepositStatus.ACTIVE:
            return 0
        active_since = account.last_customer_activity_on or account.opened_on
        if inoperative_on(active_since) > date:
            return 0
        mark_inoperative(actor=None, account=account,
                         reason=f"No customer-induced transaction since {active_since:%d %b %Y}")
        return 1


def _warn(account_id, date):
    with transaction.atomic():
        account = (DepositAccount.objects.select_for_update(of=("self",)).select_related("customer", "product")
                   .filter(pk=account_id, status=DepositStatus.ACTIVE).first())
        if account is None:
            return 0
        active_since = account.last_customer_activity_on or account.opened_on
        notice = DormancyNotice.objects.filter(account=account).first()
        if notice is not None and notice.active_since == active_since:
            return 0  # this spell of inactivity was warned about already
        becomes = inoperative_on(active_since)
        email = account.customer.email or ""
        DormancyNotice.objects.update_or_create(account=account, defaults={
            "active_since": active_since, "inoperative_on": becomes, "warned_on": date, "email": email})
        if email:
            bank = settings.CBS_BANK_NAME
            send_mail(
                f"{bank}: your account {account.masked_number} will become inoperative on {becomes:%-d %B %Y}",
                f"Dear {account.customer.display_name},\n\n"
                f"No deposit, withdrawal or transfer of yours has been recorded on your {account.product.name} "
                f"{account.masked_number} since {active_since:%-d %B %Y}. An account without a transaction made by "
                f"its holder for two years becomes inoperative: from {becomes:%-d %B %Y} it will take deposits but "
                "allow no withdrawals or transfers until you visit your branch.\n\n"
                "Any deposit, withdrawal or transfer you make before then keeps the account in use. Interest the "
                "bank credits and charges it takes do not count.\n\n"
                f"{bank}",
                None, [email])
        return 1
