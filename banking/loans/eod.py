"""Loans in the bank's end of day: dues, interest accrual, classification and provisions.

Places in the day (banking.core.eod), every date:
    32 dues: instalments falling due, the auto-debit   (partitioned by loan id)
    42 interest accrual                                  (partitioned by loan id)
    84 days past due, classification, NPA interest
       and provisions                                    (partitioned by borrower)

Design overview (the records are in eod_models.py; the rules of classification and
provisioning in classification.py)
- Dues, on an instalment's due date, before the day's accrual: the interest accrued
  since the last due date (the loan's `accrued_interest`, actual/365 day by day)
  stops being "accrued" and the instalment's own interest (the schedule's, rate ÷ 12)
  becomes due. Interest receivable (1301) moves by the difference, against income
  (4101), or against interest suspense (2903) for an NPA, so that 1301 always holds,
  loan by loan, the interest due and unpaid plus the interest accrued and not yet
  due. Then the standing mandate's auto-debit (`auto_debit`) takes what is due and
  unpaid from the linked account through the servicing rules (banking.loans
  .servicing.collect_by_mandate, by repay's own allocation: charges, interest,
  principal, oldest first), set-based: one post_batch per partition.
  Funds short: the bank takes what the account holds (its balance less holds, never
  an overdraft) and leaves the rest overdue. An Indian bank debiting its own
  customer's account under a standing instruction may recover in part (a NACH
  mandate to another bank may not; the RBI's rules on overdue and upgrade make a part
  recovery cure nothing: the instalment stays overdue until it is paid in full, so
  days past due keep counting from it).
- Accrual, every calendar date: each disbursed loan earns a day's interest on its
  principal outstanding (the loan sub-ledger's closing balance, read through the
  ledger's `cbs_balances`) at its rate, actual/365, in hundredths of a paisa
  (`LoanBook.accrued`). The day's entry for the loan is the change of the rounded
  figure: Dr interest receivable (1301), Cr interest earned on loans (4101); for a
  loan that is an NPA, Cr interest suspense (2903) instead: an NPA's interest is not
  income until it is paid (RBI income recognition).
- Classification, after every other step of the day, one borrower at a time (all of a
  borrower's loans are in one partition, for the borrower-level rule): each loan's
  days past due from its oldest instalment not fully paid (principal or interest),
  the borrower's NPA date kept or set or cleared (classification.borrower_state), the
  loan's class, a `LoanClassificationChange` when it changed, and its
  `LoanDayStatus` for the date. Then two entries per loan, for the change only:
  * interest suspense: an NPA holds in suspense all interest receivable on it (due
    and unpaid, and accrued), a performing loan none. On becoming an NPA this
    reverses the unrealised interest out of income (Dr 4101, Cr 2903); interest then
    paid on an NPA is income when it is paid; on the upgrade to standard the rest is
    income again;
  * provision: classification.provision on the principal outstanding, Dr provisions
    for loan losses (5301), Cr provisions held (2904), or back when it falls: the
    difference from the book's provision, which is the sum of every provision entry
    posted for the loan (a loss's 100% is posted at its approval, security.py, so the
    day posts nothing more for it). A closed loan's provision and suspense go back to
    zero.

Idempotency: every entry carries `posting_key(date, step, loan)` (with ":suspense" or
":provision" for the classification's two), and each book row remembers the date
it took in (`accrued_through`, `dues_through`, `classified_through`), so a rerun of a
date posts nothing twice. A partition is one transaction.

Locks: the ledger locks the GL accounts of a batch in id order; the partition's SQL
updates the book and loan rows of its own loans only (partitions do not overlap).
"""

import datetime
from collections import defaultdict

from django.db import connection, transaction
from django.db.models import Count

from banking.audit.context import audit_context
from banking.core.eod import Step, id_ranges, posting_key, register
from banking.core.money import format_money
from banking.ledger.actions import BatchEntry, Line, post_batch
from banking.ledger.chart import (
    INTEREST_RECEIVABLE,
    LOAN_INTEREST_INCOME,
    LOAN_PROVISION_EXPENSE,
    LOAN_PROVISIONS,
    NPA_INTEREST_SUSPENSE,
    ensure_standard_chart,
)
from banking.ledger.models import Channel, EntryKind, LedgerAccount

from . import classification as rules
from . import servicing
from .models import Loan, LoanStatus

DUES_STEP = "loans.dues"
ACCRUAL_STEP = "loans.interest_accrual"
CLASSIFICATION_STEP = "loans.classification"

MAX_ID = 2**63 - 1


def as_date(value):
    """A step's date, given as a date or (from a job's JSON arguments) its ISO text."""
    return datetime.date.fromisoformat(value) if isinstance(value, str) else value


def _gl_ids(*codes):
    ensure_standard_chart()
    ids = dict(LedgerAccount.objects.filter(code__in=codes).values_list("code", "id"))
    return [ids[code] for code in codes]


def _bounds(first, last):
    return (first if first is not None else 0), (last if last is not None else MAX_ID)


def loans_on_books(date):
    """Loans end of day looks after on `date`: disbursed by then and not closed."""
    return Loan.objects.filter(status=LoanStatus.ACTIVE, first_disbursed_on__lte=date)


def _post(entries, kind):
    """Post a partition's entries; a refusal stops the partition (its transaction rolls
    back) with the ledger's words. None of these GLs enforces a balance."""
    outcomes = post_batch(actor=None, entries=entries, kind=kind, channel=Channel.SYSTEM)
    for outcome in outcomes:
        if outcome.error is not None:
            raise outcome.error
    return outcomes


def _receivable_lines(amount, receivable, other):
    """Receivable up by `amount` against `other` (income or suspense); down when negative."""
    if amount > 0:
        return (Line.debit(receivable, amount), Line.credit(other, amount))
    return (Line.debit(other, -amount), Line.credit(receivable, -amount))


def _open_books(first, last, by="id"):
    """A book row for each active loan of the range (of loan ids, or of borrowers'
    ids with `by="customer_id"`) that has none yet."""
    column = {"id": "l.id", "customer_id": "l.customer_id"}[by]
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO loans_loanbook (loan_id, accrued, suspense, provision, loss)"  # noqa: S608 a fixed column
            f" SELECT l.id, 0, 0, 0, false FROM loans_loan l WHERE {column} BETWEEN %s AND %s"
            " AND l.status = 'active' AND l.ledger_account_id IS NOT NULL"
            " AND NOT EXISTS (SELECT FROM loans_loanbook b WHERE b.loan_id = l.id)"
            " ORDER BY l.id ON CONFLICT DO NOTHING",
            [first, last])


# -- dues -------------------------------------------------------------------------------

# The loans of the range with an instalment of their current schedule due on the date,
# not yet taken in: the change of interest receivable (the instalment's interest less
# the accrued interest, rounded, already in 1301), and the accrual restarted.
_DUES_SQL = """
WITH due AS MATERIALIZED (
    SELECT l.id AS loan_id, l.number, b.accrued, (b.npa_since IS NOT NULL OR b.loss) AS npa,
           sum(i.interest)::bigint AS interest
      FROM loans_loan l
      JOIN loans_loanbook b ON b.loan_id = l.id
      JOIN loans_schedule s ON s.loan_id = l.id AND s.is_current
      JOIN loans_instalment i ON i.schedule_id = s.id AND i.due_date = %(date)s
     WHERE l.id BETWEEN %(first)s AND %(last)s AND l.status = 'active' AND l.first_disbursed_on <= %(date)s
       AND (b.dues_through IS NULL OR b.dues_through < %(date)s)
     GROUP BY l.id, l.number, b.accrued, b.npa_since, b.loss
), book AS (
    UPDATE loans_loanbook b SET accrued = 0, dues_through = %(date)s,
           suspense = CASE WHEN due.npa
                           THEN b.suspense + due.interest - round(due.accrued::numeric / 100)::bigint
                           ELSE b.suspense END
      FROM due WHERE b.loan_id = due.loan_id
    RETURNING b.loan_id
), loan AS (
    UPDATE loans_loan l SET accrued_interest = 0, accrued_through = %(date)s
      FROM due WHERE l.id = due.loan_id
    RETURNING l.id
)
SELECT due.loan_id, due.number, due.npa, due.interest - round(due.accrued::numeric / 100)::bigint
  FROM due ORDER BY due.loan_id
"""


def take_dues(*, date, first=None, last=None):
    """On `date`, for each loan (ids `first` to `last`) with an instalment due that
    day: its interest becomes due in place of the interest accrued since the last due
    date, and interest receivable moves by the difference. Returns how many loans.
    One transaction."""
    date = as_date(date)
    first, last = _bounds(first, last)
    receivable, income, suspense = _gl_ids(INTEREST_RECEIVABLE, LOAN_INTEREST_INCOME, NPA_INTEREST_SUSPENSE)
    with transaction.atomic():
        _open_books(first, last)
        with connection.cursor() as cursor:
            cursor.execute(_DUES_SQL, {"date": date, "first": first, "last": last})
            rows = cursor.fetchall()
        entries = [
            BatchEntry(posting_key(date, DUES_STEP, loan_id),
                       f"Loan {number}: instalment interest due {date:%d %b %Y}, accrued interest taken in",
                       _receivable_lines(change, receivable, suspense if npa else income), reference=number)
            for loan_id, number, npa, change in rows if change
        ]
        _post(entries, EntryKind.INTEREST)
    return len(rows)


def run_dues(*, date, first=None, last=None):
    """The dues step: instalments fall due, then the auto-debit of what is overdue."""
    taken = take_dues(date=date, first=first, last=last)
    return taken + auto_debit(date=date, first=first, last=last)


def auto_debit(*, date, first=None, last=None):
    """Under the standing mandate, take each loan's dues and arrears (ids `first` to
    `last`) from its linked deposit account, as far as the account allows, through
    the servicing rules (servicing.collect_by_mandate: repay's allocation, every
    entry of the partition through one post_batch, each repayment keyed by date and
    loan). Returns how many loans paid something."""
    return servicing.collect_by_mandate(date=as_date(date), first=first, last=last)


# -- accrual ----------------------------------------------------------------------------

# The day's accrual of the loans of the range: a day's interest on the principal
# outstanding, in hundredths of a paisa, half-up; the entry is the change of the
# rounded running figure.
_ACCRUAL_SQL = """
WITH lo AS MATERIALIZED (
    SELECT l.id, l.number, l.ledger_account_id, l.rate, b.accrued, (b.npa_since IS NOT NULL OR b.loss) AS npa
      FROM loans_loan l JOIN loans_loanbook b ON b.loan_id = l.id
     WHERE l.id BETWEEN %(first)s AND %(last)s AND l.status = 'active' AND l.first_disbursed_on <= %(date)s
       AND (b.accrued_through IS NULL OR b.accrued_through < %(date)s)
), day AS MATERIALIZED (
    SELECT lo.id, lo.number, lo.npa, lo.accrued,
           lo.accrued + round(greatest(bal.balance, 0)::numeric * lo.rate / 365)::bigint AS accrued_now
      FROM lo JOIN cbs_balances(ARRAY(SELECT lo.ledger_account_id FROM lo)) bal ON bal.account_id = lo.ledger_account_id
), book AS (
    UPDATE loans_loanbook b SET accrued = day.accrued_now, accrued_through = %(date)s,
           suspense = CASE WHEN day.npa THEN b.suspense + round(day.accrued_now::numeric / 100)::bigint
                                              - round(day.accrued::numeric / 100)::bigint
                           ELSE b.suspense END
      FROM day WHERE b.loan_id = day.id
    RETURNING b.loan_id
), loan AS (
    UPDATE loans_loan l SET accrued_interest = round(day.accrued_now::numeric / 100)::bigint,
           accrued_through = %(date)s
      FROM day WHERE l.id = day.id
    RETURNING l.id
)
SELECT day.id, day.number, day.npa,
       round(day.accrued_now::numeric / 100)::bigint - round(day.accrued::numeric / 100)::bigint
  FROM day ORDER BY day.id
"""


def accrue_interest(*, date, first=None, last=None):
    """Accrue a day's interest on each disbursed loan with an id from `first` to `last`;
    return how many loans accrued now. One transaction: the books and one entry per
    loan whose rounded accrual moved."""
    date = as_date(date)
    first, last = _bounds(first, last)
    receivable, income, suspense = _gl_ids(INTEREST_RECEIVABLE, LOAN_INTEREST_INCOME, NPA_INTEREST_SUSPENSE)
    with transaction.atomic():
        _open_books(first, last)
        with connection.cursor() as cursor:
            cursor.execute(_ACCRUAL_SQL, {"date": date, "first": first, "last": last})
            rows = cursor.fetchall()
        narration = f"Interest accrued for {date:%d %b %Y}"
        entries = [
            BatchEntry(posting_key(date, ACCRUAL_STEP, loan_id),
                       f"Loan {number}: {narration}" + (" (NPA: held in suspense)" if npa else ""),
                       _receivable_lines(amount, receivable, suspense if npa else income), reference=number)
            for loan_id, number, npa, amount in rows if amount
        ]
        _post(entries, EntryKind.INTEREST)
    return len(rows)


# -- classification and provisions ---------------------------------------------------------

# Each loan of the borrowers of the range that end of day still looks after: active,
# or closed with a provision or suspense still to release.
_LOANS_SQL = """
WITH lo AS MATERIALIZED (
    SELECT l.id, l.number, l.customer_id, l.branch_id, l.product_id, l.status, l.ledger_account_id,
           -- The security's latest valuation on the day (banking.loans.security), else the gold pledged.
           l.classification, l.accrued_interest, p.secured, coalesce(
               (SELECT v.value FROM loans_securityvaluation v WHERE v.loan_id = l.id AND v."on" <= %(date)s
                 ORDER BY v."on" DESC, v.id DESC LIMIT 1), a.gold_value) AS gold_value,
           b.suspense, b.provision, b.npa_since, b.loss, b.classified_through
      FROM loans_loan l
      JOIN loans_loanbook b ON b.loan_id = l.id
      JOIN loans_loanproduct p ON p.id = l.product_id
      JOIN loans_loanapplication a ON a.id = l.application_id
     WHERE l.customer_id BETWEEN %(first)s AND %(last)s AND l.first_disbursed_on <= %(date)s
       AND (l.status = 'active' OR b.provision > 0 OR b.suspense > 0)
)
SELECT lo.id, lo.number, lo.customer_id, lo.branch_id, lo.product_id, lo.status, lo.classification,
       lo.accrued_interest, lo.secured, lo.gold_value, lo.suspense, lo.provision, lo.npa_since, lo.loss,
       lo.classified_through, coalesce(bal.balance, 0), dues.oldest, coalesce(dues.interest_unpaid, 0)
  FROM lo
  -- One ledger account at a time: the ledger function's lookup by id, where a range of
  -- borrowers' loans is scattered over the ledger's accounts.
  LEFT JOIN LATERAL cbs_balances(ARRAY[lo.ledger_account_id]) bal ON true
  -- Loan by loan through the schedule's index: a range's loans are a small part of the instalments.
  LEFT JOIN LATERAL (
    SELECT min(i.due_date) FILTER (WHERE i.principal_paid < i.principal OR i.interest_paid < i.interest) AS oldest,
           coalesce(sum(i.interest - i.interest_paid), 0)::bigint AS interest_unpaid
      FROM loans_schedule s JOIN loans_instalment i ON i.schedule_id = s.id
     WHERE s.loan_id = lo.id AND s.is_current AND i.due_date <= %(date)s
  ) dues ON true
 ORDER BY lo.customer_id, lo.id
"""

_COLUMNS = ("id", "number", "customer_id", "branch_id", "product_id", "status", "classification",
            "accrued_interest", "secured", "gold_value", "suspense", "provision", "npa_since", "loss",
            "classified_through", "outstanding", "oldest", "interest_unpaid")


def classify_loans(*, date, first=None, last=None):
    """Classify every loan of the borrowers with ids from `first` to `last` on `date`,
    post the change of each one's interest suspense and provision, and stamp the day.
    Returns how many loans were classified now. One transaction."""
    date = as_date(date)
    first, last = _bounds(first, last)
    # Suspense moves against income only: interest receivable stays what the borrower owes.
    income, suspense_gl, provisions, expense = _gl_ids(
        LOAN_INTEREST_INCOME, NPA_INTEREST_SUSPENSE, LOAN_PROVISIONS, LOAN_PROVISION_EXPENSE)
    with transaction.atomic():
        _open_books(first, last, by="customer_id")
        with connection.cursor() as cursor:
            cursor.execute(_LOANS_SQL, {"date": date, "first": first, "last": last})
            loans = [dict(zip(_COLUMNS, row, strict=True)) for row in cursor.fetchall()]
        by_borrower = defaultdict(list)
        for loan in loans:
            if loan["classified_through"] is None or loan["classified_through"] < date:
                by_borrower[loan["customer_id"]].append(loan)
        judged, entries, changes = [], [], []
        for borrower_loans in by_borrower.values():
            active = [loan for loan in borrower_loans if loan["status"] == LoanStatus.ACTIVE]
            known = next((loan["npa_since"] for loan in active if loan["npa_since"] is not None), None)
            state = rules.borrower_state(loans=[loan["oldest"] for loan in active], on=date, npa_since=known)
            for loan in borrower_loans:
                judged.append(_judge(loan, date, state.npa_since))
        for loan in judged:
            entries.extend(_classification_entries(loan, date, income=income, suspense=suspense_gl,
                                                   provisions=provisions, expense=expense))
            if loan["status"] == LoanStatus.ACTIVE and loan["new_class"] != loan["classification"]:
                changes.append(loan)
        _post(entries, EntryKind.OTHER)
        _write_classification(judged, changes, date)
    return len(judged)


def _judge(loan, date, npa_since):
    """The loan's class, days past due, and the suspense and provision it must hold."""
    if loan["status"] != LoanStatus.ACTIVE:
        return {**loan, "new_class": loan["classification"], "dpd": 0, "secured_portion": 0, "new_npa_since": None,
                "new_suspense": 0, "new_provision": 0}
    klass, dpd = rules.classify(oldest_unpaid_due=loan["oldest"], on=date, borrower_npa_since=npa_since,
                                loss=loan["loss"])
    outstanding = max(0, loan["outstanding"])
    secured = rules.secured_portion(outstanding=outstanding, secured=loan["secured"],
                                    security_value=loan["gold_value"])
    npa = rules.is_npa(klass)
    return {**loan, "new_class": klass, "dpd": dpd, "secured_portion": secured, "outstanding": outstanding,
            "new_npa_since": npa_since if npa else None,
            "new_suspense": max(0, loan["accrued_interest"] + loan["interest_unpaid"]) if npa else 0,
            "new_provision": rules.provision(classification=klass, outstanding=outstanding, secured_portion=secured)}


def _classification_entries(loan, date, *, income, suspense, provisions, expense):
    entries, number = [], loan["number"]
    moved = loan["new_suspense"] - loan["suspense"]
    if moved:
        words = (f"Loan {number} non-performing: interest not realised reversed out of income" if moved > 0 else
                 f"Loan {number}: interest held in suspense realised as income")
        lines = ((Line.debit(income, moved), Line.credit(suspense, moved)) if moved > 0 else
                 (Line.debit(suspense, -moved), Line.credit(income, -moved)))
        entries.append(BatchEntry(posting_key(date, CLASSIFICATION_STEP, f"{loan['id']}:suspense"), words, lines,
                                  reference=number))
    change = loan["new_provision"] - loan["provision"]
    if change:
        label = rules.Classification(loan["new_class"]).label
        words = (f"Loan {number} ({label}): provision {format_money(loan['new_provision'])}, "
                 f"{'up' if change > 0 else 'down'} {format_money(abs(change))}")
        lines = ((Line.debit(expense, change), Line.credit(provisions, change)) if change > 0 else
                 (Line.debit(provisions, -change), Line.credit(expense, -change)))
        entries.append(BatchEntry(posting_key(date, CLASSIFICATION_STEP, f"{loan['id']}:provision"), words[:200],
                                  lines, reference=number))
    return entries


def _array(values):
    return "{" + ",".join("NULL" if value is None else str(value) for value in values) + "}"


def _write_classification(judged, changes, date):
    if not judged:
        return
    active = [loan for loan in judged if loan["status"] == LoanStatus.ACTIVE]
    with connection.cursor() as cursor:
        cursor.execute(
            # The provision moves by what was posted (an increment): a loss marked at its
            # approval (security.py) between this step's read and here stays counted.
            "UPDATE loans_loanbook b SET suspense = c.suspense, provision = b.provision + c.provision_change,"
            " npa_since = c.npa_since, classified_through = %s"
            " FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::date[]) AS c(loan_id, suspense,"
            " provision_change, npa_since) WHERE b.loan_id = c.loan_id",
            [date, _array(loan["id"] for loan in judged), _array(loan["new_suspense"] for loan in judged),
             _array(loan["new_provision"] - loan["provision"] for loan in judged),
             _array(loan["new_npa_since"] for loan in judged)])
        if active:
            cursor.execute(
                "UPDATE loans_loan l SET classification = c.classification, days_past_due = c.dpd"
                " FROM unnest(%s::bigint[], %s::text[], %s::integer[]) AS c(loan_id, classification, dpd)"
                " WHERE l.id = c.loan_id AND (l.classification <> c.classification OR l.days_past_due <> c.dpd)",
                [_array(loan["id"] for loan in active), _array(str(loan["new_class"]) for loan in active),
                 _array(loan["dpd"] for loan in active)])
            cursor.execute(
                "INSERT INTO loans_loandaystatus (date, loan_id, customer_id, branch_id, product_id, classification,"
                " days_past_due, outstanding, secured, suspense, provision)"
                " SELECT %s, c.* FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[], %s::text[],"
                " %s::integer[], %s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[]) AS c"
                " ON CONFLICT DO NOTHING",
                [date, *(_array(loan[key] for loan in active) for key in (
                    "id", "customer_id", "branch_id", "product_id")),
                 _array(str(loan["new_class"]) for loan in active),
                 *(_array(loan[key] for loan in active) for key in (
                     "dpd", "outstanding", "secured_portion", "new_suspense", "new_provision"))])
        if changes:
            cursor.execute(
                "INSERT INTO loans_loanclassificationchange (loan_id, \"on\", classification, days_past_due, reason,"
                " created_at) SELECT c.loan_id, %s, c.classification, c.dpd, c.reason, now()"
                " FROM unnest(%s::bigint[], %s::text[], %s::integer[], %s::text[]) AS c(loan_id, classification, dpd,"
                " reason)",
                [date, _array(loan["id"] for loan in changes), _array(str(loan["new_class"]) for loan in changes),
                 _array(loan["dpd"] for loan in changes), _texts(_reason(loan, date) for loan in changes)])


def _texts(values):
    return "{" + ",".join('"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"' for value in values) + "}"


def _reason(loan, date):
    klass, dpd = loan["new_class"], loan["dpd"]
    if rules.is_npa(klass):
        if dpd > rules.NPA_AFTER_DAYS:
            return f"{dpd} days past due; non-performing since {loan['new_npa_since']:%d %b %Y}"[:200]
        return (f"Borrower non-performing since {loan['new_npa_since']:%d %b %Y} (another loan of theirs); "
                f"{dpd} days past due on this one")[:200]
    if klass == rules.Classification.STANDARD:
        return "Every arrear of interest and principal paid"
    return f"{dpd} days past due"


# -- registration -----------------------------------------------------------------------


def _loan_partitions(*, date, size):
    return id_ranges(loans_on_books(as_date(date)), size)


def _borrower_partitions(*, date, size):
    """Inclusive ranges of borrowers' (customers') ids holding about `size` loans each:
    a borrower's loans are judged together, so a range never splits a borrower."""
    ranges, start, count, previous = [], None, 0, None
    borrowers = (Loan.objects.filter(first_disbursed_on__lte=as_date(date)).values("customer_id")
                 .annotate(loans=Count("pk")).order_by("customer_id").values_list("customer_id", "loans"))
    for customer_id, loans in borrowers.iterator(chunk_size=size):
        start = customer_id if start is None else start
        count, previous = count + loans, customer_id
        if count >= size:
            ranges.append((start, previous))
            start, count = None, 0
    if start is not None:
        ranges.append((start, previous))
    return ranges


def _batch(step, work):
    def run(*, date, first=None, last=None):
        with audit_context(channel="batch", actor_username=step):
            return work(date=date, first=first, last=last)

    return run


register(Step(name=DUES_STEP, title="Loans: instalments due and the auto-debit", order=32,
              run=_batch(DUES_STEP, run_dues), partitions=_loan_partitions))
register(Step(name=ACCRUAL_STEP, title="Loans: interest accrual", order=42,
              run=_batch(ACCRUAL_STEP, accrue_interest), partitions=_loan_partitions))
register(Step(name=CLASSIFICATION_STEP, title="Loans: days past due, classification and provisions", order=84,
              run=_batch(CLASSIFICATION_STEP, classify_loans), partitions=_borrower_partitions))

