"""Properties of loan servicing (hypothesis), over random repayments, part-prepayments
(either choice), charges and missed dues, on dates walked forward:

- the principal outstanding is never negative;
- every repayment's allocations sum to the amount paid;
- the loan sub-ledger equals the GL: the loan's ledger balance is the amount
  disbursed less every principal allocation, and equals the principal the current
  schedule has not been paid;
- the cash the till took is the sum of the repayments, and every entry balances.
"""

import datetime

from django.db import connection, transaction
from django.db.models import Q, Sum
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from banking.core.errors import BankingError
from banking.ledger.models import LedgerAccount
from banking.loans import servicing
from banking.loans.actions import disburse_loan
from banking.loans.models import ChargeKind, LoanStatus, Repayment, RepaymentAllocation
from banking.teller.actions import fund_vault
from banking.teller.models import CashBox
from banking.teller.tests.factories import VAULT_CASH, teller_with_open_till

from .factories import key
from .test_servicing import notes, set_date

START = datetime.date(2026, 1, 5)
AMOUNT = 1_00_000_00

steps = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=45),  # days after the last step
        st.sampled_from(["repay", "prepay_emi", "prepay_tenure", "charge", "foreclose", "miss"]),
        st.integers(min_value=1, max_value=100),  # percent of what the step may take
    ),
    min_size=1, max_size=8,
)


def _check(loan, till, cash_taken):
    loan.refresh_from_db()
    balance = loan.ledger_account.balance
    assert balance >= 0
    for repayment in Repayment.objects.filter(loan=loan):
        assert sum(a.amount for a in repayment.allocations.all()) == repayment.amount
    principal_paid = RepaymentAllocation.objects.filter(repayment__loan=loan, part="principal").aggregate(
        s=Sum("amount"))["s"] or 0
    assert balance == loan.disbursed_amount - principal_paid
    rows = loan.current_schedule.instalments.all()
    assert balance == sum(row.principal - row.principal_paid for row in rows)
    till.ledger_account.refresh_from_db()
    assert till.ledger_account.balance - till.opening_balance == cash_taken
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # every entry balances, as at commit
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(plan=steps)
def test_principal_never_negative_allocations_sum_and_subledger_equals_gl(bank, plan):
    with transaction.atomic():
        set_date(START)
        loan = bank.sanctioned(amount=AMOUNT, months=12)
        disburse_loan(actor=bank.teller, loan=loan, amount=AMOUNT, idempotency_key=key())
        fund_vault(actor=None, branch=bank.branch, counts=VAULT_CASH, idempotency_key=key())
        teller = teller_with_open_till(bank.branch, bank.supervisor, cash_limit=10_00_000_00, mfa=False)
        till = CashBox.objects.get(teller=teller)
        till.opening_balance = LedgerAccount.objects.get(pk=till.ledger_account_id).balance
        day, cash_taken = START, 0
        for gap, what, percent in plan:
            day += datetime.timedelta(days=gap)
            set_date(day)
            loan.refresh_from_db()
            if loan.status == LoanStatus.CLOSED:
                event("closed")
                break
            try:
                if what == "repay":
                    owed = servicing.dues(loan).total
                    amount = max(100, (owed * percent // 100) // 100 * 100)
                    repayment = servicing.repay(actor=teller, loan=loan, amount=amount, source="cash",
                                                counts=notes(amount // 100), idempotency_key=key())
                    cash_taken += repayment.amount
                elif what.startswith("prepay"):
                    principal = max(1, (loan.outstanding - servicing.dues(loan).principal) * percent // 200)
                    preview = servicing.preview_prepayment(loan, principal, what.removeprefix("prepay_"))
                    amount = -(-preview.total // 100) * 100
                    repayment = servicing.part_prepay(
                        actor=teller, loan=loan, principal=principal, choice=what.removeprefix("prepay_"),
                        source="cash", amount=amount, counts=notes(amount // 100), idempotency_key=key())
                    cash_taken += repayment.amount
                elif what == "charge":
                    servicing.levy_charge(actor=None, loan=loan, kind=ChargeKind.PENAL, amount=percent * 10_00,
                                          narration="Penal charge", idempotency_key=key())
                elif what == "foreclose":
                    amount = -(-servicing.foreclosure_quote(loan).total // 100) * 100
                    repayment = servicing.foreclose(actor=teller, loan=loan, amount=amount, source="cash",
                                                    counts=notes(amount // 100), idempotency_key=key())
                    cash_taken += repayment.amount
                    assert repayment.loan.status == LoanStatus.CLOSED
                event(f"{what} done")
            except BankingError as error:
                event(f"{what} refused: {type(error).__name__}")
            _check(loan, till, cash_taken)
        loan.refresh_from_db()
        if loan.status == LoanStatus.CLOSED:
            assert loan.ledger_account.balance == 0
            assert not servicing.unpaid_charges(loan)
        # The trial balance nets to zero.
        signed = LedgerAccount.objects.aggregate(c=Sum("balance", filter=Q(normal_side="C")),
                                                 d=Sum("balance", filter=Q(normal_side="D")))
        assert (signed["c"] or 0) == (signed["d"] or 0)
        transaction.set_rollback(True)
