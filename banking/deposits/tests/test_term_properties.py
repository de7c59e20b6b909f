"""Properties of term deposits over random deposits and random days of end of day:
money only moves between customers' accounts and the interest, TDS and penalty GLs;
interest payable for fixed deposits equals their unsettled accruals in paise; no
account goes below zero; and every close run twice for a date changes nothing."""

import datetime
import itertools
from decimal import Decimal

import pytest
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from banking.deposits import actions
from banking.deposits.interest import to_paise
from banking.deposits.models import (
    TERM_KINDS,
    DepositAccount,
    TermAccrualPosting,
    TermDepositSettlement,
    TermDepositState,
)
from banking.ledger.models import LedgerAccount

from .factories import Bank
from .test_fixed_deposit_eod import books, close_day, on, trial_balance_nets_to_zero

D = datetime.date
START = D(2026, 1, 1)
GLS = ("5102", "2201", "2601", "4204")
_key = itertools.count(1)

fixed = st.tuples(st.integers(1_000, 10_00_000), st.integers(7, 400),
                  st.sampled_from(["pay_out", "renew_principal", "renew_all"]))
recurring = st.tuples(st.integers(100, 5_000), st.integers(6, 9), st.integers(0, 12))


def gl_balances():
    return {code: LedgerAccount.objects.get(code=code).balance for code in GLS}


@pytest.mark.django_db
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(fds=st.lists(fixed, min_size=1, max_size=3), rds=st.lists(recurring, max_size=2),
       closes=st.lists(st.integers(0, 420), min_size=1, max_size=6, unique=True))
def test_term_deposits_conserve_money_and_keep_interest_payable_true(fds, rds, closes):
    on(START)
    # Examples share one database: earlier examples' deposits are retired, so that this
    # example's end of day leaves them alone, and this one gets a branch of its own.
    DepositAccount.objects.filter(product__kind__in=TERM_KINDS).exclude(status="closed").update(
        status="closed", closed_on=START)
    bank = Bank()
    before = gl_balances()
    funded = 0
    for principal, days, instruction in fds:
        savings = bank.open_account(deposit=principal * 100)
        actions.open_fixed_deposit(actor=bank.teller, source=savings, principal=principal * 100, days=days,
                                   maturity_instruction=instruction, idempotency_key=f"p-{next(_key)}")
        funded += principal * 100
    for instalment, months, paid_ahead in rds:
        savings = bank.open_account(deposit=instalment * 100 * paid_ahead)
        actions.open_recurring_deposit(actor=bank.teller, source=savings, instalment=instalment * 100,
                                       months=months, idempotency_key=f"p-{next(_key)}")
        funded += instalment * 100 * paid_ahead

    mine = DepositAccount.objects.filter(branch=bank.branch).exclude(ledger_account=None)
    for offset in sorted(closes):
        day = START + datetime.timedelta(days=offset)
        close_day(day)
        first = books()
        close_day(day)
        assert books() == first, f"closing {day} twice changed the books"

        balances = list(mine.values_list("ledger_account__balance", flat=True))
        assert min(balances) >= 0
        moved = {code: gl_balances()[code] - before[code] for code in GLS}
        # What the customers hold beyond what was paid in is exactly the interest expense,
        # less what still sits in interest payable, less TDS, less penalties.
        assert sum(balances) - funded == moved["5102"] - moved["2201"] - moved["2601"] - moved["4204"]
        assert trial_balance_nets_to_zero()

        fixed_here = mine.filter(product__code="FD")
        outstanding = (TermDepositState.objects.filter(account__in=fixed_here, account__settlement__isnull=True)
                       .aggregate(total=Sum("accrued"))["total"] or 0)
        booked = (TermAccrualPosting.objects.filter(branch=bank.branch).aggregate(total=Sum("amount"))["total"]
                  or 0)
        released = (TermDepositSettlement.objects.filter(account__in=fixed_here)
                    .aggregate(total=Sum("accrual_released"))["total"] or 0)
        assert booked - released == to_paise(Decimal(outstanding) / 100)
