"""Loans at end of day: dues, accrual, classification and provisions, against the ledger."""

import datetime

import pytest
from django.db.models import Sum

from banking.ledger.actions import Line, post_entry
from banking.ledger.chart import (
    INTEREST_RECEIVABLE,
    LOAN_INTEREST_INCOME,
    LOAN_PROVISIONS,
    NPA_INTEREST_SUSPENSE,
    SHARE_CAPITAL,
)
from banking.ledger.models import BusinessDate, EntryKind, JournalEntry, LedgerAccount, Posting
from banking.loans import eod
from banking.loans.actions import disburse_loan
from banking.loans.models import Classification as C
from banking.loans.models import Instalment, LoanBook, LoanClassificationChange, LoanDayStatus, Repayment

from .factories import key

DAY = datetime.timedelta(days=1)


def gl(code):
    return LedgerAccount.objects.get(code=code).balance


def disbursed(bank, product="PL", amount=5_00_000_00, months=24, **fields):
    loan = bank.sanctioned(product=product, amount=amount, months=months, **fields)
    disburse_loan(actor=bank.teller, loan=loan, amount=amount, idempotency_key=key())
    loan.refresh_from_db()
    return loan


def instalments(loan):
    return list(Instalment.objects.filter(schedule__loan=loan, schedule__is_current=True).order_by("number"))


def pay(instalment):
    """The borrower's arrears on this instalment settled (the servicing repayment's
    effect on the schedule, which is all classification reads)."""
    instalment.principal_paid, instalment.interest_paid = instalment.principal, instalment.interest
    instalment.save(update_fields=["principal_paid", "interest_paid"])


def run_day(date):
    """The loans' steps of one end of day, run as the controller runs them: on the
    business date (the auto-debit's repayment is received on it)."""
    BusinessDate.objects.update_or_create(pk=1, defaults={"date": date})
    eod.run_dues(date=date)
    eod.accrue_interest(date=date)
    eod.classify_loans(date=date)


def drain(account):
    """The borrower spends what is in the account (the loan's proceeds included)."""
    account.ledger_account.refresh_from_db()
    balance = account.ledger_account.balance
    if balance:
        post_entry(actor=None, kind=EntryKind.TRANSFER, narration="Spent", idempotency_key=key(),
                   lines=[Line.debit(account.ledger_account, balance),
                          Line.credit(LedgerAccount.objects.get(code=SHARE_CAPITAL), balance)])


def state(loan):
    loan.refresh_from_db()
    return loan.classification, loan.days_past_due


def test_a_loan_walked_by_date_through_sma_npa_d1_and_back_to_standard_only_when_all_arrears_are_paid(bank):
    loan = disbursed(bank)
    rows = instalments(loan)
    due = rows[0].due_date
    walk = [(due - DAY, C.STANDARD, 0), (due, C.SMA_0, 1), (due + 29 * DAY, C.SMA_0, 30),
            (due + 30 * DAY, C.SMA_1, 31), (due + 60 * DAY, C.SMA_2, 61), (due + 89 * DAY, C.SMA_2, 90),
            (due + 90 * DAY, C.SUB_STANDARD, 91)]
    for on, expected, dpd in walk:
        eod.classify_loans(date=on)
        assert state(loan) == (expected, dpd), on
    npa_on = due + 90 * DAY
    book = LoanBook.objects.get(loan=loan)
    assert book.npa_since == npa_on
    # Personal loans are unsecured: 25% as sub-standard.
    assert book.provision == 5_00_000_00 // 4
    one_year = datetime.date(npa_on.year + 1, npa_on.month, npa_on.day)
    eod.classify_loans(date=one_year - DAY)
    assert state(loan)[0] == C.SUB_STANDARD
    eod.classify_loans(date=one_year)
    assert state(loan)[0] == C.DOUBTFUL_1
    # D1 on an unsecured loan: 100%.
    assert LoanBook.objects.get(loan=loan).provision == 5_00_000_00
    # Every instalment due by then but the last is paid: a part payment upgrades nothing.
    on = one_year + DAY
    overdue = [row for row in rows if row.due_date <= on]
    for row in overdue[:-1]:
        pay(row)
    eod.classify_loans(date=on)
    assert state(loan)[0] == C.DOUBTFUL_1
    pay(overdue[-1])
    eod.classify_loans(date=on + DAY)
    assert state(loan) == (C.STANDARD, 0)
    book.refresh_from_db()
    assert (book.npa_since, book.provision) == (None, 2_00_000)  # 0.40% again
    history = list(LoanClassificationChange.objects.filter(loan=loan).order_by("on").values_list("classification",
                                                                                                 flat=True))
    assert history == [C.SMA_0, C.SMA_1, C.SMA_2, C.SUB_STANDARD, C.DOUBTFUL_1, C.STANDARD]
    assert gl(LOAN_PROVISIONS) == 2_00_000


def test_contagion_all_of_a_borrowers_loans_become_npa_with_one(bank):
    overdue = disbursed(bank)
    current = disbursed(bank, amount=2_00_000_00, months=12)
    due = instalments(overdue)[0].due_date
    for row in instalments(current):
        pay(row)  # the second loan keeps up
    eod.classify_loans(date=due + 89 * DAY)
    assert state(current)[0] == C.STANDARD
    eod.classify_loans(date=due + 90 * DAY)
    assert state(overdue) == (C.SUB_STANDARD, 91)
    assert state(current) == (C.SUB_STANDARD, 0)
    assert LoanBook.objects.get(loan=current).npa_since == due + 90 * DAY
    reason = LoanClassificationChange.objects.filter(loan=current).latest("on").reason
    assert "another loan" in reason
    # Paying the NPA loan's arrears upgrades both.
    for row in instalments(overdue):
        if row.due_date <= due + 91 * DAY:
            pay(row)
    eod.classify_loans(date=due + 91 * DAY)
    assert state(overdue)[0] == state(current)[0] == C.STANDARD


def test_another_borrowers_loan_is_untouched(bank):
    from banking.deposits.tests.factories import make_customer

    overdue = disbursed(bank)
    other = make_customer(branch=bank.branch, created_by=bank.teller)
    account = bank.open_account("SB", customer=other, deposit=1_000_00)
    theirs = disbursed(bank, customer=other, deposit_account=account, amount=1_00_000_00, months=12)
    for row in instalments(theirs):
        pay(row)
    eod.classify_loans(date=instalments(overdue)[0].due_date + 100 * DAY)
    assert state(overdue)[0] == C.SUB_STANDARD
    assert state(theirs)[0] == C.STANDARD


@pytest.mark.parametrize(("product", "fields", "months", "npa_provision"), [
    ("PL", {}, 24, 25),                # sub-standard, unsecured: 25%
    ("VL", {}, 24, 15),                # sub-standard, secured: 15%
])
def test_each_provision_amount_is_posted(bank, product, fields, months, npa_provision):
    loan = disbursed(bank, product=product, amount=5_00_000_00, months=months, **fields)
    due = instalments(loan)[0].due_date
    eod.classify_loans(date=due - DAY)
    assert LoanBook.objects.get(loan=loan).provision == 2_00_000  # standard 0.40% of ₹5,00,000
    assert gl(LOAN_PROVISIONS) == 2_00_000
    eod.classify_loans(date=due + 90 * DAY)
    expected = 5_00_000_00 * npa_provision // 100
    assert LoanBook.objects.get(loan=loan).provision == expected
    assert gl(LOAN_PROVISIONS) == expected
    status = LoanDayStatus.objects.get(loan=loan, date=due + 90 * DAY)
    assert (status.classification, status.provision, status.outstanding) == (C.SUB_STANDARD, expected, 5_00_000_00)


def test_accrual_actual_365_and_dues_true_up_to_the_instalments_interest(bank):
    loan = disbursed(bank, amount=5_00_000_00, months=24)
    drain(bank.account)
    start = loan.first_disbursed_on
    first = instalments(loan)[0]
    income = gl(LOAN_INTEREST_INCOME)
    on = start
    while on < first.due_date:
        run_day(on)
        on += DAY
    loan.refresh_from_db()
    days = (first.due_date - start).days
    # ₹5,00,000 at 10.5%: 14,383.56... paise a day, kept to 1/100 paisa, rounded once.
    expected = int((5_00_000_00 * 105 * days * 100 // (365 * 1000) + 50) // 100)
    assert abs(loan.accrued_interest - expected) <= 1
    assert gl(INTEREST_RECEIVABLE) == loan.accrued_interest
    run_day(first.due_date)
    loan.refresh_from_db()
    # The instalment's interest is now due; the new period has one day accrued.
    assert gl(INTEREST_RECEIVABLE) == first.interest + loan.accrued_interest
    assert gl(LOAN_INTEREST_INCOME) - income == gl(INTEREST_RECEIVABLE)


def test_income_stops_at_npa_and_the_unrealised_interest_is_reversed(bank):
    loan = disbursed(bank, amount=5_00_000_00, months=24)
    drain(bank.account)
    due = instalments(loan)[0].due_date
    income = gl(LOAN_INTEREST_INCOME)
    npa_day = due + 90 * DAY
    on = loan.first_disbursed_on
    while on < npa_day:  # every date, as end of day runs them
        run_day(on)
        on += DAY
    assert state(loan)[0] == C.SMA_2
    assert gl(LOAN_INTEREST_INCOME) - income == gl(INTEREST_RECEIVABLE) > 0
    run_day(npa_day)
    assert state(loan)[0] == C.SUB_STANDARD
    # All interest booked on the loan is back out of income and held in suspense.
    assert gl(LOAN_INTEREST_INCOME) == income
    assert gl(NPA_INTEREST_SUSPENSE) == gl(INTEREST_RECEIVABLE) == LoanBook.objects.get(loan=loan).suspense
    # Later accruals on the NPA go to suspense, never income.
    run_day(npa_day + DAY)
    run_day(npa_day + 2 * DAY)
    assert gl(LOAN_INTEREST_INCOME) == income
    assert gl(NPA_INTEREST_SUSPENSE) == gl(INTEREST_RECEIVABLE) > 0


def test_rerunning_a_date_posts_nothing_twice(bank):
    loan = disbursed(bank)
    drain(bank.account)
    due = instalments(loan)[0].due_date
    for on in (loan.first_disbursed_on, due, due + 90 * DAY):
        run_day(on)
        entries = JournalEntry.objects.count()
        balances = dict(LedgerAccount.objects.values_list("code", "balance"))
        run_day(on)
        assert JournalEntry.objects.count() == entries
        assert dict(LedgerAccount.objects.values_list("code", "balance")) == balances
    assert LoanDayStatus.objects.filter(loan=loan).count() == 3
    assert Posting.objects.filter(entry__idempotency_key__startswith="eod:").aggregate(
        total=Sum("amount"))["total"] > 0


def test_the_auto_debit_takes_the_emi_on_its_due_date(bank):
    loan = disbursed(bank)
    drain(bank.account)
    first = instalments(loan)[0]
    bank.fund(bank.account, first.total + 100_00)
    run_day(first.due_date)
    first.refresh_from_db()
    assert first.is_paid
    bank.account.ledger_account.refresh_from_db()
    assert bank.account.ledger_account.balance == 100_00
    (repayment,) = Repayment.objects.filter(loan=loan)
    assert (repayment.channel, repayment.amount) == ("auto_debit", first.total)
    assert state(loan) == (C.STANDARD, 0)
    run_day(first.due_date)  # a rerun takes nothing twice
    assert Repayment.objects.filter(loan=loan).count() == 1


def test_funds_short_the_auto_debit_takes_what_there_is_and_the_emi_stays_overdue(bank):
    loan = disbursed(bank)
    drain(bank.account)
    first = instalments(loan)[0]
    bank.fund(bank.account, 5_000_00)
    run_day(first.due_date)
    first.refresh_from_db()
    assert first.paid == 5_000_00 and not first.is_paid
    bank.account.ledger_account.refresh_from_db()
    assert bank.account.ledger_account.balance == 0
    assert state(loan) == (C.SMA_0, 1)
    # Nothing in the account: nothing taken, and the part payment cured nothing.
    run_day(first.due_date + 31 * DAY)
    assert state(loan) == (C.SMA_1, 32)


def test_loans_sharing_an_account_take_from_it_in_id_order_and_a_debit_freeze_takes_nothing(bank):
    from banking.audit.models import AuditEvent
    from banking.deposits.models import DepositAccount, DepositStatus

    first_loan, second_loan = disbursed(bank), disbursed(bank, amount=1_00_000_00, months=12)
    drain(bank.account)
    due = instalments(first_loan)[0]
    other = instalments(second_loan)[0]
    assert due.due_date == other.due_date and first_loan.pk < second_loan.pk
    bank.fund(bank.account, due.total + 1_000_00)
    run_day(due.due_date)
    due.refresh_from_db()
    other.refresh_from_db()
    assert due.is_paid and other.paid == 1_000_00
    bank.account.ledger_account.refresh_from_db()
    assert bank.account.ledger_account.balance == 0
    receipts = sorted(Repayment.objects.filter(channel="auto_debit").values_list("loan_id", "amount"))
    assert receipts == [(first_loan.pk, due.total), (second_loan.pk, 1_000_00)]
    (event,) = AuditEvent.objects.filter(action="loans.mandate_collected")
    assert [row[1:3] for row in event.after["receipts"]] == [[first_loan.pk, due.total], [second_loan.pk, 1_000_00]]
    # Money comes in, but the account is under a debit freeze: the mandate takes nothing.
    bank.fund(bank.account, other.total)
    DepositAccount.objects.filter(pk=bank.account.pk).update(status=DepositStatus.DEBIT_FROZEN)
    run_day(due.due_date + DAY)
    other.refresh_from_db()
    assert other.paid == 1_000_00 and Repayment.objects.filter(channel="auto_debit").count() == 2


def test_classification_partitions_never_split_a_borrower(bank):
    from banking.deposits.tests.factories import make_customer

    first, second = disbursed(bank), disbursed(bank, amount=1_00_000_00, months=12)
    other = make_customer(branch=bank.branch, created_by=bank.teller)
    account = bank.open_account("SB", customer=other, deposit=1_000_00)
    theirs = disbursed(bank, customer=other, deposit_account=account, amount=1_00_000_00, months=12)
    ranges = eod._borrower_partitions(date=theirs.first_disbursed_on, size=1)
    assert ranges == [(bank.customer.pk, bank.customer.pk), (other.pk, other.pk)]
    assert first.customer_id == second.customer_id == bank.customer.pk
