"""Statements: for any history and any period, opening balance + credits − debits
= closing balance, on screen, in CSV and in the running balance of each line."""

import contextlib
import csv
import datetime
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from banking.core.errors import BankingError
from banking.deposits.statements import StatementPeriod, csv_rows
from banking.ledger.models import BusinessDate, Side

from .factories import Bank

START = datetime.date(2026, 1, 1)


def on(day):
    BusinessDate.objects.update_or_create(pk=1, defaults={"date": day})


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    movements=st.lists(st.tuples(st.integers(0, 30), st.integers(-50_000, 50_000).filter(bool)), max_size=20),
    period=st.tuples(st.integers(0, 35), st.integers(0, 35)),
)
def test_opening_plus_movements_is_closing(movements, period):
    with transaction.atomic():
        on(START)
        bank = Bank()
        account = bank.open_account(deposit=10_000)
        for offset, amount in sorted(movements):
            on(START + datetime.timedelta(days=offset))
            with contextlib.suppress(BankingError):  # refused for want of funds: leaves no line
                bank.fund(account, amount) if amount > 0 else bank.withdraw(account, -amount)
        on(START + datetime.timedelta(days=35))
        first, last = sorted(period)
        statement = StatementPeriod(account, START + datetime.timedelta(days=first),
                                    START + datetime.timedelta(days=last))
        lines = list(statement.lines())
        credits = sum(p.amount for p in lines if p.side == Side.CREDIT)
        debits = sum(p.amount for p in lines if p.side == Side.DEBIT)
        assert statement.opening + credits - debits == statement.closing
        running = statement.opening
        for posting in lines:
            running += posting.amount if posting.side == Side.CREDIT else -posting.amount
            assert posting.balance_after == running

        rows = list(csv.reader("".join(csv_rows(statement)).splitlines()))
        closing_row = rows[-1]
        paise = [int(Decimal(v) * 100) for v in closing_row[3:6]]
        assert paise == [debits, credits, statement.closing]
        transaction.set_rollback(True)
