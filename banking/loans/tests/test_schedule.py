import datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from banking.loans.schedule import (
    BULLET,
    EMI,
    EQUAL_PRINCIPAL,
    annual_percentage_rate,
    broken_period_interest,
    build_schedule,
    emi_amount,
    totals,
)

D = datetime.date


def test_emi_ten_lakh_at_eight_and_a_half_for_twenty_years():
    assert emi_amount(1_000_000_00, Decimal("8.5"), 240) == 8_678_23


def test_emi_five_lakh_at_ten_and_a_half_for_five_years():
    assert emi_amount(5_00_000_00, Decimal("10.5"), 60) == 10_746_95


def test_full_240_row_schedule_sums_exactly():
    rows = build_schedule(principal=10_00_000_00, annual_rate=Decimal("8.5"), months=240,
                          schedule_type=EMI, disbursed_on=D(2026, 3, 5), first_due=D(2026, 4, 5))
    assert len(rows) == 240
    principal, interest, total = totals(rows)
    assert principal == 10_00_000_00
    assert total == principal + interest
    assert rows[-1].closing == 0
    # every instalment but the last is the EMI; each row's closing is the next row's opening
    assert {row.total for row in rows[:-1]} == {8_678_23}
    assert all(a.closing == b.opening for a, b in zip(rows, rows[1:], strict=False))
    assert [row.due_date for row in rows[:3]] == [D(2026, 4, 5), D(2026, 5, 5), D(2026, 6, 5)]
    assert rows[-1].due_date == D(2046, 3, 5)


def test_broken_period_interest_actual_365():
    # ₹1,00,000 at 10% for 31 days: 1,00,00,000 × 10 × 31 / 36,500 = 84,931.5 paise → 84,932
    assert broken_period_interest(1_00_000_00, Decimal("10"), D(2026, 1, 1), D(2026, 2, 1)) == 84_932
    # a leap year still counts 365 days a year: 29 Feb is one more day
    assert broken_period_interest(1_00_000_00, Decimal("10"), D(2028, 2, 1), D(2028, 3, 1)) == 79_452


def test_first_instalment_carries_broken_period_and_last_absorbs_rounding():
    # ₹1,000 at 12% for 3 months, disbursed 1 Jan, first due 1 Feb (31 days), worked by hand:
    # EMI = 1,00,000 × 0.01 × 1.030301 / 0.030301 = 34,002.21 → 34,002 paise
    # 1: interest 1,00,000 × 12 × 31 / 36,500 = 1,019.18 → 1,019; principal 32,983; left 67,017
    # 2: interest 670.17 → 670; principal 33,332; left 33,685
    # 3: interest 336.85 → 337; principal 33,685 (all that is left); total 34,022
    rows = build_schedule(principal=1_000_00, annual_rate=Decimal("12"), months=3, schedule_type=EMI,
                          disbursed_on=D(2026, 1, 1), first_due=D(2026, 2, 1))
    assert [(r.principal, r.interest, r.total) for r in rows] == [
        (32_983, 1_019, 34_002), (33_332, 670, 34_002), (33_685, 337, 34_022),
    ]


def test_equal_principal_schedule():
    rows = build_schedule(principal=1_000_00, annual_rate=Decimal("12"), months=3,
                          schedule_type=EQUAL_PRINCIPAL, disbursed_on=D(2026, 1, 1), first_due=D(2026, 2, 1))
    # 1,00,000 / 3 = 33,333.33 → 33,333; the last takes 33,334
    assert [r.principal for r in rows] == [33_333, 33_333, 33_334]
    assert [r.interest for r in rows] == [1_019, 667, 333]


def test_bullet_schedule_for_gold():
    rows = build_schedule(principal=75_000_00, annual_rate=Decimal("9"), months=12, schedule_type=BULLET,
                          disbursed_on=D(2026, 1, 15))
    assert len(rows) == 1
    assert rows[0].due_date == D(2027, 1, 15)
    # 75,00,000 × 9 × 365 / 36,500 = 6,75,000 paise
    assert (rows[0].principal, rows[0].interest) == (75_000_00, 6_750_00)


def test_month_end_due_dates_clamp():
    rows = build_schedule(principal=1_000_00, annual_rate=Decimal("12"), months=3, schedule_type=EMI,
                          disbursed_on=D(2026, 1, 10), first_due=D(2026, 1, 31))
    assert [r.due_date for r in rows] == [D(2026, 1, 31), D(2026, 2, 28), D(2026, 3, 31)]


def test_zero_rate_repays_principal_only():
    rows = build_schedule(principal=1_000_00, annual_rate=Decimal("0"), months=3, schedule_type=EMI,
                          disbursed_on=D(2026, 1, 1))
    assert [r.principal for r in rows] == [33_333, 33_333, 33_334]
    assert totals(rows)[1] == 0


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError):
        build_schedule(principal=0, annual_rate=Decimal("8"), months=12, schedule_type=EMI, disbursed_on=D(2026, 1, 1))
    with pytest.raises(ValueError):
        build_schedule(principal=100, annual_rate=Decimal("8"), months=12, schedule_type="balloon",
                       disbursed_on=D(2026, 1, 1))
    with pytest.raises(ValueError):
        build_schedule(principal=100, annual_rate=Decimal("8"), months=12, schedule_type=EMI,
                       disbursed_on=D(2026, 1, 1), first_due=D(2026, 1, 1))


def test_apr_includes_the_fee():
    rows = build_schedule(principal=5_00_000_00, annual_rate=Decimal("10.5"), months=60, schedule_type=EMI,
                          disbursed_on=D(2026, 1, 1), first_due=D(2026, 2, 1))
    no_fee = annual_percentage_rate(net_disbursed=5_00_000_00, rows=rows, disbursed_on=D(2026, 1, 1))
    with_fee = annual_percentage_rate(net_disbursed=5_00_000_00 - 11_800_00, rows=rows, disbursed_on=D(2026, 1, 1))
    assert Decimal("10.45") <= no_fee <= Decimal("10.55")
    assert with_fee > no_fee + Decimal("0.5")


@settings(max_examples=300, deadline=None)
@given(
    principal=st.integers(min_value=1, max_value=10_00_00_000_00),
    rate=st.decimals(min_value=0, max_value=36, places=2),
    months=st.integers(min_value=1, max_value=360),
    schedule_type=st.sampled_from([EMI, EQUAL_PRINCIPAL]),
    lag=st.integers(min_value=1, max_value=60),
)
def test_principal_always_sums_exactly(principal, rate, months, schedule_type, lag):
    disbursed = D(2026, 1, 31)
    rows = build_schedule(principal=principal, annual_rate=rate, months=months, schedule_type=schedule_type,
                          disbursed_on=disbursed, first_due=disbursed + datetime.timedelta(days=lag))
    assert sum(r.principal for r in rows) == principal
    assert len(rows) <= months
    assert all(r.principal >= 0 and r.interest >= 0 and r.closing >= 0 for r in rows)
    assert rows[-1].closing == 0
