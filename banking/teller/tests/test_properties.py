"""Properties of cash at the counter, over random days of deposits, withdrawals and
reversals: the till's count is always worth its GL balance, no count goes negative,
money is conserved between the till and the customers' accounts, and a reversal
puts both back as they were."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from banking.approvals.actions import approve_request
from banking.core.errors import InsufficientFunds

from ..actions import find_till, pay_cash_withdrawal, request_reversal, take_cash_deposit
from ..denominations import FIELDS, Denominations
from .factories import OPENING, fresh, funded_branch, key, open_account, supervisor_for, teller_with_open_till
from .test_cash import assert_counts_match_books

counts = st.builds(Denominations, **{name: st.integers(0, 12) for name in FIELDS}).filter(lambda c: c.value > 0)
operations = st.lists(st.tuples(st.sampled_from(["deposit", "withdraw", "reverse"]), st.integers(0, 1), counts),
                      min_size=1, max_size=8)


@pytest.mark.django_db
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=operations)
def test_cash_is_conserved_and_never_negative(operations):
    branch = funded_branch()
    supervisor = supervisor_for(branch)
    teller = teller_with_open_till(branch, supervisor)
    accounts = [open_account(branch, teller, supervisor, balance=5_000_00) for _ in range(2)]

    # Customers' balances are liabilities and the till an asset: cash in raises both.
    def position():
        till = find_till(teller)
        customers = sum(fresh(a).balance for a in accounts)
        return till.cash_value, customers

    posted = []
    for operation, which, notes in operations:
        account = fresh(accounts[which])
        till_before, customers_before = position()
        if operation == "deposit":
            posted.append(take_cash_deposit(actor=teller, account=account, amount=notes.value, counts=notes,
                                            idempotency_key=key()))
            assert position() == (till_before + notes.value, customers_before + notes.value)
        elif operation == "withdraw":
            try:
                posted.append(pay_cash_withdrawal(actor=teller, account=account, amount=notes.value, counts=notes,
                                                  idempotency_key=key()))
            except InsufficientFunds:
                assert position() == (till_before, customers_before)  # refused, nothing moved
            else:
                assert position() == (till_before - notes.value, customers_before - notes.value)
        elif posted:
            txn = posted.pop()
            request = request_reversal(actor=teller, transaction_id=txn.pk, reason="Property test")
            try:
                approve_request(actor=supervisor, request_id=request.pk)
            except InsufficientFunds:
                assert position() == (till_before, customers_before)
            else:
                sign = -1 if txn.is_deposit else 1
                assert position() == (till_before + sign * txn.amount, customers_before + sign * txn.amount)
        till = find_till(teller)
        assert till.counts.is_nonnegative()
        assert_counts_match_books()
        cash, customers = position()
        assert cash - customers == OPENING.value - 10_000_00  # what the vault issued, less what was funded
