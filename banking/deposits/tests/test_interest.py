"""Deposit arithmetic against figures worked by hand.

Quarterly compounding: whole quarters (three calendar months each) compound at
(1 + r/400); the days after the last whole quarter earn simple interest,
r × days / 36,500, on the compounded amount. One rounding, half-up (DESIGN §5), at the end.
"""

import datetime
from decimal import Decimal

from banking.deposits import interest

D = datetime.date


def test_quarters_are_calendar_months():
    assert interest.quarters_and_days(D(2026, 1, 1), D(2027, 1, 1)) == (4, 0)
    # 1 Apr and 1 Jul are whole quarters; 1 Jul → 20 Jul is 19 days.
    assert interest.quarters_and_days(D(2026, 1, 1), D(2026, 7, 20)) == (2, 19)
    assert interest.quarters_and_days(D(2026, 1, 31), D(2026, 4, 30)) == (1, 0)  # 31 Jan + 3 months = 30 Apr


def test_one_year_fixed_deposit():
    # ₹1,00,000 for 1 year at 6.80%: four quarters at 1.017.
    #   1.017² = 1.034289;  1.017⁴ = 1.034289² = 1.069753735521
    #   1,00,000 × 1.069753735521 = 1,06,975.3735521 → ₹1,06,975.37
    assert interest.maturity_amount(1_00_000_00, Decimal("6.80"), D(2026, 1, 1), D(2027, 1, 1)) == 1_06_975_37


def test_quarters_then_days():
    # ₹50,000 from 1 Jan to 20 Jul 2026 (200 days) at 6.25%:
    #   two quarters: 1.015625² = 1.031494140625
    #   19 days simple: 1 + 6.25 × 19 / 36,500 = 1.0032534246575...
    #   50,000 × 1.031494140625 × 1.0032534246575 = 51,742.5014548... → ₹51,742.50
    assert interest.maturity_amount(50_000_00, Decimal("6.25"), D(2026, 1, 1), D(2026, 7, 20)) == 51_742_50


def test_short_deposit_earns_simple_interest():
    # ₹10,000 for 30 days at 3.50%: 10,000 × 3.5 × 30 / 36,500 = 28.767... → ₹28.77
    assert interest.maturity_amount(10_000_00, Decimal("3.50"), D(2026, 1, 1), D(2026, 1, 31)) == 10_028_77


def test_recurring_deposit():
    # ₹500 a month for 6 months at 6.25%: the k-th instalment from the end stays k
    # months and grows by 1.015625^(k/3):
    #   k=1 1.0051814396  k=2 1.0103897266  k=3 1.015625
    #   k=4 1.0208873996  k=5 1.0261770661  k=6 1.031494140625
    #   sum = 6.1097547726; × ₹500 = ₹3,054.8773863 → ₹3,054.88
    assert interest.recurring_maturity_amount(500_00, Decimal("6.25"), 6) == 3_054_88


def test_rounding_is_half_up():
    # DESIGN §5: half-up to the paisa, so 100.5 and 101.5 both go up (half-even gave 100 and 102).
    assert interest.to_paise(Decimal("100.5")) == 101
    assert interest.to_paise(Decimal("101.5")) == 102
    assert interest.to_paise(Decimal("100.4999")) == 100


def test_a_maturity_amount_ending_in_half_a_paisa_goes_up():
    # ₹25 for 5 days at 7.30%: 2,500 paise × 7.30 × 5 / 36,500 = 2.5 paise exactly,
    # so the deposit pays 2,502.5 paise → ₹25.03 (half to even would have paid ₹25.02).
    assert interest.maturity_amount(25_00, Decimal("7.30"), D(2026, 1, 1), D(2026, 1, 6)) == 25_03


def test_accruals_are_kept_to_a_hundredth_of_a_paisa_half_up():
    # 1.225 paise is 122.5 hundredths of a paisa → 123 (half to even would keep 122);
    # 1.22499 paise → 122.499 → 122.
    assert interest.to_hundredths(Decimal("1.225")) == 123
    assert interest.to_hundredths(Decimal("1.22499")) == 122


def test_add_months_clamps_to_month_end():
    assert interest.add_months(D(2026, 1, 31), 1) == D(2026, 2, 28)
    assert interest.add_months(D(2026, 11, 15), 3) == D(2027, 2, 15)
