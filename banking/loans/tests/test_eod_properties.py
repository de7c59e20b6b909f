"""Properties of the loans' end of day over random gaps between days and random funds
for the auto-debit: the GL agrees with the loans' books, an NPA recognises no income
beyond the interest actually paid, and a rerun of a day changes nothing."""

import pytest
from django.db.models import Sum
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from banking.ledger.chart import (
    INTEREST_RECEIVABLE,
    LOAN_INTEREST_INCOME,
    LOAN_PROVISIONS,
    NPA_INTEREST_SUSPENSE,
)
from banking.ledger.models import BusinessDate, JournalEntry, LedgerAccount
from banking.loans import classification as rules
from banking.loans import eod
from banking.loans.models import Instalment, LoanBook, RepaymentAllocation

from .factories import LoanBank
from .test_eod import DAY, disbursed, drain

GLS = (INTEREST_RECEIVABLE, LOAN_INTEREST_INCOME, NPA_INTEREST_SUSPENSE, LOAN_PROVISIONS)


def gls():
    return dict(LedgerAccount.objects.filter(code__in=GLS).values_list("code", "balance"))


def close(loan, date):
    """One end of day of this loan's borrower only (examples share one database)."""
    BusinessDate.objects.update_or_create(pk=1, defaults={"date": date})
    eod.run_dues(date=date, first=loan.pk, last=loan.pk)
    eod.accrue_interest(date=date, first=loan.pk, last=loan.pk)
    eod.classify_loans(date=date, first=loan.customer_id, last=loan.customer_id)


@pytest.mark.django_db
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(days=st.lists(st.tuples(st.integers(1, 50), st.sampled_from([0, 0, 40, 100, 250])), min_size=3, max_size=9))
# Always walked: unpaid into an NPA, part payments that cure nothing, then paid up.
@example(days=[(50, 0), (50, 0), (50, 40), (10, 0), (30, 100), (50, 250), (50, 250), (40, 250)])
def test_the_books_agree_with_the_gl_and_an_npa_earns_only_what_is_paid(days):
    bank = LoanBank()
    loan = disbursed(bank, amount=2_00_000_00, months=12)
    drain(bank.account)
    emi = Instalment.objects.filter(schedule__loan=loan).order_by("number")[1].total
    before = gls()
    on = loan.first_disbursed_on
    close(loan, on)
    for gap, funds_percent in days:
        if funds_percent:
            bank.fund(bank.account, emi * funds_percent // 100)
        target = on + gap * DAY
        due_dates = sorted(set(Instalment.objects.filter(schedule__loan=loan, schedule__is_current=True,
                                                         due_date__gt=on, due_date__lt=target)
                               .values_list("due_date", flat=True)))
        for due in due_dates:  # end of day never skips a due date's dues
            BusinessDate.objects.update_or_create(pk=1, defaults={"date": due})
            eod.run_dues(date=due, first=loan.pk, last=loan.pk)
        close(loan, target)
        on = target

        entries = JournalEntry.objects.count()
        close(loan, on)
        assert JournalEntry.objects.count() == entries, "a rerun posted again"

        loan.refresh_from_db()
        book = LoanBook.objects.get(loan=loan)
        moved = {code: gls()[code] - before[code] for code in GLS}
        unpaid = (Instalment.objects.filter(schedule__loan=loan, schedule__is_current=True, due_date__lte=on)
                  .aggregate(i=Sum("interest"), p=Sum("interest_paid")))
        # Interest receivable: loan by loan, the interest due and unpaid and the interest accrued.
        assert moved[INTEREST_RECEIVABLE] == loan.accrued_interest + (unpaid["i"] or 0) - (unpaid["p"] or 0)
        assert moved[NPA_INTEREST_SUSPENSE] == book.suspense
        assert moved[LOAN_PROVISIONS] == book.provision
        assert loan.outstanding >= 0
        paid_interest = (RepaymentAllocation.objects.filter(repayment__loan=loan, part="interest")
                         .aggregate(total=Sum("amount"))["total"] or 0)
        if rules.is_npa(loan.classification):
            # Income recognised on an NPA: the interest actually paid, nothing accrued.
            assert moved[LOAN_INTEREST_INCOME] == paid_interest
            assert book.suspense == moved[INTEREST_RECEIVABLE]
        else:
            assert book.suspense == 0
            assert moved[LOAN_INTEREST_INCOME] == moved[INTEREST_RECEIVABLE] + paid_interest
