"""Recurring deposits at end of day, worked by hand: instalments debited on the due
day, retried until paid with a penalty of ₹1.50 per ₹100 for each started 30 days
late (DESIGN §5), default after six unpaid, and the payout at maturity."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail

from banking.deposits import actions, terms
from banking.deposits.models import (
    RecurringDepositRule,
    RecurringInstalment,
    TermDepositSettlement,
    TermDepositState,
)
from banking.ledger.models import Posting

from .test_fixed_deposit_eod import balance, books, close_day, gl, on, trial_balance_nets_to_zero

pytestmark = pytest.mark.django_db

D = datetime.date


def open_rd(bank, *, day, instalment, months, funds):
    on(day)
    savings = bank.open_account(deposit=funds)
    rd = actions.open_recurring_deposit(actor=bank.teller, source=savings, instalment=instalment, months=months,
                                        idempotency_key=f"rd-{savings.pk}")
    return savings, rd


def instalments(rd):
    return list(RecurringInstalment.objects.filter(account=rd).order_by("number")
                .values_list("number", "paid_on", "penalty", "missed"))


@pytest.mark.parametrize(("due", "paid", "penalty"), [
    (D(2026, 5, 10), D(2026, 5, 10), 0),          # on time
    (D(2026, 5, 10), D(2026, 5, 20), 15_00),      # 10 days late: one period, 1.50 × 10 = ₹15
    (D(2026, 5, 10), D(2026, 6, 9), 15_00),       # 30 days: still one
    (D(2026, 5, 10), D(2026, 6, 10), 30_00),      # 31 days: two started periods
    (D(2026, 5, 10), D(2026, 6, 19), 30_00),      # 40 days: two (DESIGN §5's example)
])
def test_the_late_penalty_counts_each_started_thirty_days(due, paid, penalty):
    assert terms.late_penalty(1_000_00, due, paid) == penalty


def test_the_penalty_is_rounded_half_up_once():
    # ₹333.33 × 1.50 / 100 = ₹4.99995 → ₹5.00 (one period); × 2 periods = ₹9.9999 → ₹10.00.
    assert terms.late_penalty(333_33, D(2026, 1, 1), D(2026, 1, 2)) == 5_00
    assert terms.late_penalty(333_33, D(2026, 1, 1), D(2026, 2, 5)) == 10_00


def test_an_rd_with_two_late_instalments_by_hand(bank):
    # ₹1,000 a month for 6 months from 10 Jan 2026: 181 days to maturity on 10 Jul, 6.25%.
    # Due 10 Jan, 10 Feb, 10 Mar, 10 Apr, 10 May, 10 Jun. The savings account starts with ₹4,000.
    savings, rd = open_rd(bank, day=D(2026, 1, 10), instalment=1_000_00, months=6, funds=4_000_00)
    assert (rd.rate, rd.maturity_date, rd.maturity_amount) == (Decimal("6.25"), D(2026, 7, 10), 6_109_75)
    for day in (D(2026, 1, 10), D(2026, 2, 10), D(2026, 3, 10), D(2026, 4, 10)):
        close_day(day)
    assert balance(savings) == 0 and balance(rd) == 4_000_00  # four on time

    # 10 May: nothing in the account. The instalment is missed and tried again each day.
    close_day(D(2026, 5, 10))
    close_day(D(2026, 5, 11))
    assert instalments(rd)[-1] == (5, None, 0, True)
    assert "Instalment 5 not paid" in TermDepositState.objects.get(account=rd).problem
    # 10 Jun: still nothing; the sixth falls due and waits behind the fifth.
    close_day(D(2026, 6, 10))
    assert [row[1] for row in instalments(rd)] == [D(2026, 1, 10), D(2026, 2, 10), D(2026, 3, 10),
                                                     D(2026, 4, 10), None, None]

    # 19 Jun: ₹2,100 arrives. Oldest first:
    #   instalment 5, due 10 May, 40 days late: two periods, 2 × 1.50 × 10 = ₹30 → ₹1,030;
    #   instalment 6, due 10 Jun,  9 days late: one period,  1.50 × 10 = ₹15 → ₹1,015.
    #   2,100 − 1,030 − 1,015 = ₹55 left in the account.
    bank.fund(savings, 2_100_00)
    close_day(D(2026, 6, 19))
    assert instalments(rd)[4:] == [(5, D(2026, 6, 19), 30_00, True), (6, D(2026, 6, 19), 15_00, True)]
    assert balance(savings) == 55_00 and balance(rd) == 6_000_00 and gl("4204") == 45_00
    narration = Posting.objects.filter(account=savings.ledger_account).order_by("-id")[1].entry.narration
    assert narration == (f"Recurring deposit {rd.number}: instalment 5 of 6, due 10 May 2026, paid late with a "
                         "penalty of ₹30.00")
    summary = terms.recurring_summary(rd)
    assert (summary["paid"], summary["missed"], summary["unpaid"], summary["penalties"]) == (6, 2, [], 45_00)
    assert TermDepositState.objects.get(account=rd).problem == ""

    # 10 Jul, maturity: every instalment was paid, so the maturity amount:
    #   ₹1,000 × Σ 1.015625^(k/3) for k = 1..6 = 1,000 × 6.1097547726 = 6,109.75 (test_interest),
    #   interest 6,109.75 − 6,000 = ₹109.75, no TDS; ₹6,109.75 to the savings account.
    mail.outbox.clear()
    close_day(D(2026, 7, 10))
    settlement = TermDepositSettlement.objects.get(account=rd)
    assert (settlement.interest, settlement.tds, settlement.paid_out) == (109_75, 0, 6_109_75)
    assert balance(savings) == 55_00 + 6_109_75 and balance(rd) == 0
    rd.refresh_from_db()
    assert rd.is_closed and gl("5102") == 109_75
    assert mail.outbox[0].subject.endswith("recurring deposit " + rd.masked_number + " has matured")
    after = books()
    close_day(D(2026, 7, 10))
    assert books() == after and trial_balance_nets_to_zero()


def test_each_rd_step_run_twice_for_a_date_changes_nothing(bank):
    savings, rd = open_rd(bank, day=D(2026, 1, 10), instalment=500_00, months=6, funds=700_00)
    for day in (D(2026, 1, 10), D(2026, 2, 10), D(2026, 2, 25)):
        close_day(day)
        first = books(), instalments(rd)
        close_day(day)
        assert (books(), instalments(rd)) == first
    bank.fund(savings, 1_000_00)
    close_day(D(2026, 3, 1))
    # Instalment 2 (due 10 Feb) paid 19 days late with ₹7.50 (1.50 × 5).
    assert instalments(rd)[1] == (2, D(2026, 3, 1), 7_50, True)


def test_six_unpaid_instalments_put_the_rd_in_default(bank):
    # ₹1,000 a month for 12 months from 1 Jan 2026 (365 days, 6.80%). The first is paid;
    # then the account is empty for six due dates, 1 Feb to 1 Jul.
    savings, rd = open_rd(bank, day=D(2026, 1, 1), instalment=1_000_00, months=12, funds=1_000_00)
    close_day(D(2026, 1, 1))
    mail.outbox.clear()
    for month in range(2, 7):
        close_day(D(2026, month, 1))
    assert TermDepositState.objects.get(account=rd).defaulted_on is None  # five unpaid
    close_day(D(2026, 7, 1))
    state = TermDepositState.objects.get(account=rd)
    assert state.defaulted_on == D(2026, 7, 1)
    assert len(mail.outbox) == 1 and "is in default" in mail.outbox[0].subject
    assert "6 monthly instalments of ₹1,000.00" in mail.outbox[0].body

    # Money arrives: a deposit in default takes nothing more, and tells nobody again.
    bank.fund(savings, 10_000_00)
    close_day(D(2026, 8, 1))
    assert balance(savings) == 10_000_00 and balance(rd) == 1_000_00 and len(mail.outbox) == 1

    # Maturity, 1 Jan 2027: the one instalment paid earns its year from 1 Jan 2026 at 6.80%,
    #   1,000 × 1.017⁴ = 1,069.7537 → ₹1,069.75, interest ₹69.75.
    close_day(D(2027, 1, 1))
    settlement = TermDepositSettlement.objects.get(account=rd)
    assert (settlement.principal, settlement.interest, settlement.paid_out) == (1_000_00, 69_75, 1_069_75)
    assert balance(savings) == 10_000_00 + 1_069_75


def test_a_product_sets_its_own_penalty_and_default(bank):
    savings, rd = open_rd(bank, day=D(2026, 1, 10), instalment=1_000_00, months=6, funds=0)
    RecurringDepositRule.objects.create(product=rd.product, penalty_per_hundred=Decimal("2.00"), missed_to_default=2)
    close_day(D(2026, 1, 10))
    bank.fund(savings, 5_000_00)
    close_day(D(2026, 1, 20))
    # 10 days late at ₹2 per ₹100: ₹20.
    assert instalments(rd)[0] == (1, D(2026, 1, 20), 20_00, True)
    bank.withdraw(savings, balance(savings))
    close_day(D(2026, 2, 10))
    close_day(D(2026, 3, 10))
    assert TermDepositState.objects.get(account=rd).defaulted_on == D(2026, 3, 10)
