"""`make bench-eod`'s loan part: a portfolio of BENCH_LOANS (default 100,000) personal
loans through the loans' end-of-day steps, each through 2 workers, against a bare
set-based SQL pass making the same writes.

The portfolio, loaded with COPY on top of the savings bench's bank (bench/eod.py,
whose savings accounts are the loans' linked accounts): ₹1 to ₹5 lakh at 10.50% for
12 months, disbursed in December 2023 on day 1 to 30 of the month, one instalment a
month on that day (the last day of a shorter month). On 30 June 2024 the loans due
on the 30th fall due (about one in thirty). Instalments due before then are paid,
except: 3 loans in 100 owe the last five (non-performing), 3 the last two (SMA), 5
the last one (SMA-0); their linked accounts are empty, which is why. Each loan's
book stands as the end of day of 29 June left it (accrued interest, classification,
provision, interest in suspense for the NPAs).

Steps, each timed from the start of end of day to its last partition:
- dues (32): the instalments due today fall due (interest receivable trued up), and
  the auto-debit takes each due loan's EMI from its account through servicing's
  `repay`, one loan at a time; the bare pass makes the same writes set-based
  (books, entries and postings, repayments, allocations, instalments, balances);
- accrual (42): a day's interest on every loan, an entry each; the bare pass updates
  the books and loans and inserts the entries and postings in one statement;
- classification (84): days past due, class and a day status for every loan, and
  the entries of the provisions and suspense that changed; the bare pass writes the
  day statuses and the books and loans.

`python -m bench.eod_loans` runs the loan part alone on a bank of its own
(BENCH_ACCOUNTS savings accounts, at least BENCH_LOANS); its last line is
`bench-eod-loans ratio=<worst> target=3`.
"""

import calendar
import datetime
import importlib
import os
import sys
import time

from bench import eod as base

LOANS = int(os.environ.get("BENCH_LOANS", "100000"))
DATE = base.DATE
RATE = 1050  # hundredths of a percent: 10.50%
MONTHS = 12


def _due(day, month, year=2024):
    return datetime.date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _portfolio():
    """Each loan's figures, computed once: (amount, due day, instalments, unpaid count)."""
    for n in range(LOANS):
        amount = 1_00_000_00 + (n * 7919 % 401) * 1_000_00
        day = 1 + n % 30
        band = n % 100
        unpaid = 5 if band < 3 else 2 if band < 6 else 1 if band < 11 else 0
        rows, opening = [], amount
        for k in range(1, MONTHS + 1):
            principal = amount // MONTHS if k < MONTHS else opening
            interest = (opening * RATE + 60_000) // 120_000  # opening × 10.50% ÷ 12, half-up
            rows.append((k, _due(day, k), opening, principal, interest))
            opening -= principal
        yield n, amount, day, rows, unpaid


def load(ops):
    """Load the portfolio; returns the seconds it took."""
    from django.db import connection, transaction
    from django.utils import timezone

    from banking.deposits.models import DepositAccount
    from banking.ledger.models import LedgerAccount
    from banking.loans import classification as rules
    from banking.loans.models import (
        Instalment,
        Loan,
        LoanApplication,
        LoanBook,
        LoanProduct,
        Schedule,
    )

    started = time.perf_counter()
    product = LoanProduct.objects.get(code="PL")
    version = product.versions.order_by("effective_from").first()
    control = LedgerAccount.objects.get(code=product.control_gl_code)
    accounts = list(DepositAccount.objects.order_by("pk").values_list("pk", "customer_id", "branch_id",
                                                                      "ledger_account_id", "branch__code")[:LOANS])
    if len(accounts) < LOANS:
        raise RuntimeError(f"{LOANS:,} loans need as many savings accounts; the bank has {len(accounts):,}")
    now = timezone.now()
    yesterday = DATE - datetime.timedelta(days=1)
    loans, schedules, instalments, books, empty = [], [], [], [], []
    state = {}
    first_ledger = base.next_id(LedgerAccount)
    first_application = base.next_id(LoanApplication)
    first_loan = base.next_id(Loan)
    first_schedule = base.next_id(Schedule)
    for n, amount, day, rows, unpaid in _portfolio():
        before = [row for row in rows if row[1] < DATE]
        paid_rows = before[:len(before) - unpaid] if unpaid else before
        principal_paid = sum(row[3] for row in paid_rows)
        outstanding = amount - principal_paid
        oldest = before[len(before) - unpaid][1] if unpaid else None
        last_due = before[-1][1] if before else datetime.date(2023, 12, min(day, 31))
        days = (yesterday - last_due).days + 1
        accrued = (outstanding * RATE * days + 18_250) // 36_500  # hundredths of a paisa a day × days, half-up
        unpaid_interest = sum(row[4] for row in before[len(before) - unpaid:]) if unpaid else 0
        account_id, customer_id, branch_id, account_ledger, branch_code = accounts[n]
        if unpaid:
            empty.append(account_ledger)
        state[n] = (customer_id, oldest, outstanding, (accrued + 50) // 100, unpaid_interest)
        loans.append((first_loan + n, f"LN{n:014d}", first_application + n, customer_id, branch_id, account_id,
                      first_ledger + n, amount, amount, f"{branch_code}", outstanding))
        schedules.append((first_schedule + n, first_loan + n, amount))
        for k, due, opening, principal, interest in rows:
            paid = (principal, interest) if (k, due, opening, principal, interest) in paid_rows else (0, 0)
            instalments.append((first_schedule + n, k, due, opening, principal, interest, *paid))
        books.append([first_loan + n, accrued, last_due if before else None])
    # Borrower-level classification as the end of day of 29 June left it.
    by_borrower = {}
    for customer_id, oldest, *_rest in state.values():
        by_borrower.setdefault(customer_id, []).append(oldest)
    npa = {c: rules.borrower_state(loans=dues, on=yesterday).npa_since for c, dues in by_borrower.items()}
    classes = []
    for n, (customer_id, oldest, outstanding, accrued_paise, unpaid_interest) in state.items():
        klass, dpd = rules.classify(oldest_unpaid_due=oldest, on=yesterday, borrower_npa_since=npa[customer_id])
        provision = rules.provision(classification=klass, outstanding=outstanding, secured_portion=0)
        suspense = accrued_paise + unpaid_interest if rules.is_npa(klass) else 0
        books[n] += [suspense, provision, npa[customer_id] if rules.is_npa(klass) else None]
        classes.append((str(klass), dpd, accrued_paise))

    tables = [m._meta.db_table for m in (LedgerAccount, LoanApplication, Loan, Schedule, Instalment, LoanBook)]
    with transaction.atomic(), base.bulk_load(*tables):
        base.copy_model(LedgerAccount, ["id", "code", "name", "parent_id", "branch_code", "balance"], (
            (row[6], f"{control.code}-{row[1]}", f"PL Bench borrower {n}", control.pk, row[9], row[10])
            for n, row in enumerate(loans)
        ), constant={"type": "asset", "normal_side": "D", "is_subledger": True, "enforce_balance": True,
                     "opened_at": now})
        base.copy_model(LoanApplication, ["id", "number", "customer_id", "branch_id", "deposit_account_id", "amount",
                                          "emi", "total_interest", "total_payable"], (
            (row[2], f"AP{n:014d}", row[3], row[4], row[5], row[7], row[7] // 12, row[7] // 17,
             row[7] + row[7] // 17) for n, row in enumerate(loans)
        ), constant={"product_id": product.pk, "product_version_id": version.pk, "months": MONTHS,
                     "purpose": "Bench", "monthly_income": 1_00_000_00, "bureau_score": 760,
                     "bureau_source": "entered", "rate": "10.50", "processing_fee": 0, "gst_on_fee": 0,
                     "apr": "10.50", "foir_percent": "30.00", "assumed_disbursal_on": datetime.date(2023, 12, 1),
                     "status": "sanctioned", "acknowledged_at": now, "acknowledgement": "Bench",
                     "created_by_id": ops.pk, "created_at": now})
        base.copy_model(Loan, ["id", "number", "application_id", "customer_id", "branch_id", "deposit_account_id",
                               "ledger_account_id", "sanctioned_amount", "disbursed_amount", "classification",
                               "days_past_due", "accrued_interest"], (
            (*row[:9], classes[n][0], classes[n][1], classes[n][2]) for n, row in enumerate(loans)
        ), constant={"product_id": product.pk, "product_version_id": version.pk, "months": MONTHS,
                     "schedule_type": "emi", "rate_type": "fixed", "rate": "10.50", "fees_collected": True,
                     "status": "active", "sanctioned_on": datetime.date(2023, 11, 30), "sanctioned_by_id": ops.pk,
                     "first_disbursed_on": datetime.date(2023, 12, 1), "accrued_through": yesterday})
        base.copy_model(Schedule, ["id", "loan_id", "principal"], schedules, constant={
            "version": 1, "reason": "disbursement", "is_current": True, "rate": "10.50", "schedule_type": "emi",
            "starts_on": datetime.date(2023, 12, 1), "created_at": now})
        base.copy_model(Instalment, ["schedule_id", "number", "due_date", "opening", "principal", "interest",
                                     "principal_paid", "interest_paid"], instalments)
        base.copy_model(LoanBook, ["loan_id", "accrued", "dues_through", "suspense", "provision", "npa_since"],
                        ([base._text(value) for value in row] for row in books),
                        constant={"accrued_through": yesterday, "classified_through": yesterday,
                                  "loss": False})
        for model in (LedgerAccount, LoanApplication, Loan, Schedule, Instalment):
            base.reset_sequence(model)
        # The delinquent borrowers' accounts are empty: that is why they are behind.
        LedgerAccount.objects.filter(pk__in=empty).update(balance=0)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return time.perf_counter() - started


# -- the bare passes ------------------------------------------------------------------------

_BARE_ACCRUAL = """
WITH lo AS MATERIALIZED (
    SELECT l.id, l.number, l.ledger_account_id, b.accrued,
           b.accrued + round(greatest(a.balance, 0)::numeric * l.rate / 365)::bigint AS accrued_now
      FROM loans_loan l JOIN loans_loanbook b ON b.loan_id = l.id
      JOIN ledger_ledgeraccount a ON a.id = l.ledger_account_id
     WHERE l.status = 'active'
), bk AS (
    UPDATE loans_loanbook b SET accrued = lo.accrued_now, accrued_through = %(date)s FROM lo WHERE b.loan_id = lo.id
), ln AS (
    UPDATE loans_loan l SET accrued_interest = round(lo.accrued_now::numeric / 100)::bigint, accrued_through = %(date)s
      FROM lo WHERE l.id = lo.id
), src AS (
    SELECT lo.id, lo.number, round(lo.accrued_now::numeric / 100)::bigint - round(lo.accrued::numeric / 100)::bigint
           AS amount FROM lo
), e AS (
    INSERT INTO ledger_journalentry (business_date, booked_at, kind, narration, channel, reference, idempotency_key,
        content_hash, total, currency)
    SELECT %(date)s, now(), 'interest', 'Interest accrued', 'system', src.number, 'bare-accrual-' || src.id,
           encode(sha256(convert_to(src.id::text || ':' || src.amount, 'UTF8')), 'hex'), src.amount, 'INR'
      FROM src WHERE src.amount > 0 ORDER BY src.id
    RETURNING id, total
)
INSERT INTO ledger_posting (entry_id, account_id, side, amount, balance_after, business_date)
SELECT e.id, %(receivable)s, 'D', e.total, sum(e.total) OVER (ORDER BY e.id), %(date)s FROM e
UNION ALL
SELECT e.id, %(income)s, 'C', e.total, sum(e.total) OVER (ORDER BY e.id), %(date)s FROM e
"""

_BARE_GL = """
UPDATE ledger_ledgeraccount a SET balance = a.balance + t.total, version = a.version + 1
  FROM (SELECT sum(total) AS total FROM ledger_journalentry WHERE idempotency_key LIKE %(prefix)s) t
 WHERE a.id = ANY(%(accounts)s)
"""

_BARE_CLASSIFICATION = """
WITH lo AS MATERIALIZED (
    SELECT l.id, l.customer_id, l.branch_id, l.product_id, l.classification, l.accrued_interest,
           a.balance, b.provision, b.suspense, dues.oldest
      FROM loans_loan l JOIN loans_loanbook b ON b.loan_id = l.id
      JOIN ledger_ledgeraccount a ON a.id = l.ledger_account_id
      LEFT JOIN (SELECT s.loan_id,
                        min(i.due_date) FILTER (WHERE i.principal_paid < i.principal OR i.interest_paid < i.interest)
                        AS oldest, sum(i.interest - i.interest_paid) AS unpaid
                   FROM loans_schedule s JOIN loans_instalment i ON i.schedule_id = s.id
                  WHERE s.is_current AND i.due_date <= %(date)s GROUP BY s.loan_id) dues ON dues.loan_id = l.id
     WHERE l.status = 'active'
), c AS (
    SELECT lo.*, CASE WHEN lo.oldest IS NULL THEN 0 ELSE %(date)s - lo.oldest + 1 END AS dpd FROM lo
), bk AS (
    UPDATE loans_loanbook b SET classified_through = %(date)s FROM c WHERE b.loan_id = c.id
), ln AS (
    UPDATE loans_loan l SET days_past_due = c.dpd FROM c WHERE l.id = c.id AND l.days_past_due <> c.dpd
)
INSERT INTO loans_loandaystatus (date, loan_id, customer_id, branch_id, product_id, classification, days_past_due,
                                 outstanding, secured, suspense, provision)
SELECT %(date)s, c.id, c.customer_id, c.branch_id, c.product_id, c.classification, c.dpd, c.balance, 0, c.suspense,
       c.provision FROM c
"""

# The dues falling due, and the auto-debit's repayments, set-based: each due loan's
# EMI (interest, then principal) up to what its account holds.
_BARE_DUES = """
WITH due AS MATERIALIZED (
    SELECT l.id, l.number, l.ledger_account_id AS loan_ledger, d.ledger_account_id AS account_ledger,
           l.deposit_account_id, i.id AS instalment_id, i.interest, i.principal, b.accrued,
           least(i.interest + i.principal, greatest(a.balance - a.held, 0)) AS take
      FROM loans_loan l JOIN loans_loanbook b ON b.loan_id = l.id
      JOIN loans_schedule s ON s.loan_id = l.id AND s.is_current
      JOIN loans_instalment i ON i.schedule_id = s.id AND i.due_date = %(date)s
      JOIN deposits_depositaccount d ON d.id = l.deposit_account_id
      JOIN ledger_ledgeraccount a ON a.id = d.ledger_account_id
     WHERE l.status = 'active'
), bk AS (
    UPDATE loans_loanbook b SET accrued = 0, dues_through = %(date)s FROM due WHERE b.loan_id = due.id
), ln AS (
    UPDATE loans_loan l SET accrued_interest = 0, accrued_through = %(date)s FROM due WHERE l.id = due.id
), trueup AS (
    INSERT INTO ledger_journalentry (business_date, booked_at, kind, narration, channel, reference, idempotency_key,
        content_hash, total, currency)
    SELECT %(date)s, now(), 'interest', 'Instalment interest due', 'system', due.number, 'bare-dues-' || due.id,
           md5(due.id::text), abs(due.interest - round(due.accrued::numeric / 100)::bigint), 'INR'
      FROM due WHERE due.interest <> round(due.accrued::numeric / 100)::bigint ORDER BY due.id
    RETURNING id, total
), trueup_postings AS (
    INSERT INTO ledger_posting (entry_id, account_id, side, amount, balance_after, business_date)
    SELECT id, %(receivable)s, 'D', total, total, %(date)s FROM trueup
    UNION ALL SELECT id, %(income)s, 'C', total, total, %(date)s FROM trueup
), paying AS (
    SELECT due.*, least(due.take, due.interest) AS to_interest, due.take - least(due.take, due.interest)
           AS to_principal FROM due WHERE due.take > 0
), e AS (
    INSERT INTO ledger_journalentry (business_date, booked_at, kind, narration, channel, reference, idempotency_key,
        content_hash, total, currency)
    SELECT %(date)s, now(), 'transfer', 'Loan repayment', 'system', p.number, 'bare-repay-' || p.id,
           md5(p.id::text || ':' || p.take), p.take, 'INR'
      FROM paying p ORDER BY p.id
    RETURNING id, idempotency_key
), pe AS (
    SELECT p.*, e.id AS entry_id FROM paying p JOIN e ON e.idempotency_key = 'bare-repay-' || p.id
), postings AS (
    INSERT INTO ledger_posting (entry_id, account_id, side, amount, balance_after, business_date)
    SELECT pe.entry_id, pe.account_ledger, 'D', pe.take, 0, %(date)s FROM pe
    UNION ALL SELECT pe.entry_id, %(receivable)s, 'C', pe.to_interest, 0, %(date)s FROM pe WHERE pe.to_interest > 0
    UNION ALL SELECT pe.entry_id, pe.loan_ledger, 'C', pe.to_principal, 0, %(date)s FROM pe WHERE pe.to_principal > 0
), inst AS (
    UPDATE loans_instalment i SET interest_paid = pe.to_interest, principal_paid = pe.to_principal
      FROM pe WHERE i.id = pe.instalment_id
), bal AS (
    UPDATE ledger_ledgeraccount a SET balance = a.balance - x.amount, version = a.version + 1
      FROM (SELECT account_ledger AS id, take AS amount FROM pe UNION ALL
            SELECT loan_ledger, to_principal FROM pe WHERE to_principal > 0) x WHERE a.id = x.id
), r AS (
    INSERT INTO loans_repayment (number, loan_id, kind, channel, amount, "on", deposit_account_id, choice,
                                 prepayment_charge, entry_id, idempotency_key, created_at)
    SELECT 'BR' || pe.id, pe.id, 'dues', 'auto_debit', pe.take, %(date)s, pe.deposit_account_id, '', 0, pe.entry_id,
           'bare-mandate-' || pe.id, now() FROM pe
    RETURNING id, loan_id
)
INSERT INTO loans_repaymentallocation (repayment_id, part, instalment_id, amount)
SELECT r.id, 'interest', pe.instalment_id, pe.to_interest FROM r JOIN pe ON pe.id = r.loan_id WHERE pe.to_interest > 0
UNION ALL
SELECT r.id, 'principal', pe.instalment_id, pe.to_principal FROM r JOIN pe ON pe.id = r.loan_id
 WHERE pe.to_principal > 0
"""


def _step(ops, name):
    """Run step `name` for DATE through 2 workers; returns (run, seconds)."""
    base.day_of(name)
    workers = base.start_workers(2, [name])
    try:
        return base.end_of_day(ops)
    finally:
        base.stop_workers(workers)


def _savings_bench():
    """The savings bench's module as it runs: `__main__` under `python -m bench.eod`
    (its copy holds the registry of every step, taken before the day was cut down),
    else bench.eod."""
    main = sys.modules.get("__main__")
    if getattr(getattr(main, "__spec__", None), "name", None) == "bench.eod":
        return main
    return importlib.import_module("bench.eod")


def run(ops):
    """The loan part: load, then each step's bare pass and the step itself. Prints as
    it goes; returns [(step, ratio)]."""
    global base  # noqa: PLW0603 - the running copy of bench.eod, whose registry of steps is filled
    base = _savings_bench()
    from banking.ledger.chart import INTEREST_RECEIVABLE, LOAN_INTEREST_INCOME
    from banking.ledger.models import LedgerAccount
    from banking.loans import eod
    from banking.loans.models import LoanDayStatus, Repayment
    from banking.operations.models import EodRun

    EodRun.objects.all().delete()  # the savings part's runs: end of day runs again for the date, step by step
    loaded = load(ops)
    print(f"loaded {LOANS:,} loans (applications, ledger accounts, schedules of {MONTHS} instalments, books) "
          f"with COPY in {loaded:.1f} s")
    gl = dict(LedgerAccount.objects.filter(code__in=[INTEREST_RECEIVABLE, LOAN_INTEREST_INCOME])
              .values_list("code", "pk"))
    params = {"date": DATE, "receivable": gl[INTEREST_RECEIVABLE], "income": gl[LOAN_INTEREST_INCOME]}
    ratios = []

    bare_dues = base.bare([(_BARE_DUES, params)])
    run_, dues = _step(ops, eod.DUES_STEP)
    paid = Repayment.objects.filter(on=DATE, channel="auto_debit").count()
    print(f"(b) loan dues and auto-debit, set-based:        {bare_dues:7.1f} s")
    print(f"(a) loan dues and auto-debit through 2 workers: {dues:7.1f} s   ({base.partition_times(run_)}; "
          f"{paid:,} repayments)")
    base.forget_run(run_)
    ratios.append((eod.DUES_STEP, dues / bare_dues))

    bare_accrual = base.bare([(_BARE_ACCRUAL, params),
                              (_BARE_GL, {"prefix": "bare-accrual-%", "accounts": [gl[INTEREST_RECEIVABLE],
                                                                                   gl[LOAN_INTEREST_INCOME]]})])
    run_, accrual = _step(ops, eod.ACCRUAL_STEP)
    print(f"(b) loan accrual, one statement:                {bare_accrual:7.1f} s")
    print(f"(a) loan accrual through 2 workers:             {accrual:7.1f} s   ({base.partition_times(run_)})")
    base.forget_run(run_)
    ratios.append((eod.ACCRUAL_STEP, accrual / bare_accrual))

    bare_classification = base.bare([(_BARE_CLASSIFICATION, {"date": DATE})])
    run_, classification = _step(ops, eod.CLASSIFICATION_STEP)
    stamped = LoanDayStatus.objects.filter(date=DATE).count()
    print(f"(b) loan classification, one statement:         {bare_classification:7.1f} s")
    print(f"(a) loan classification through 2 workers:      {classification:7.1f} s   "
          f"({base.partition_times(run_)}; {stamped:,} day statuses)")
    base.forget_run(run_)
    if stamped != LOANS:
        raise RuntimeError(f"{stamped:,} loans classified of {LOANS:,}")
    ratios.append((eod.CLASSIFICATION_STEP, classification / bare_classification))
    print("loan ratios (a) ÷ (b): " + ", ".join(f"{name} {ratio:.2f}" for name, ratio in ratios))
    return ratios


def main():
    print(f"bench-eod-loans: {LOANS:,} loans on {base.ACCOUNTS:,} savings accounts, partitions of {base.PARTITION:,}")
    base.recreate_database()
    base.setup_django()
    _seconds, ops = base.load()
    ratios = run(ops)
    from django.db import connections

    connections.close_all()
    print(f"bench-eod-loans ratio={max(ratio for _, ratio in ratios):.2f} target={base.RATIO_TARGET}")


if __name__ == "__main__":
    sys.exit(main())
