from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from banking.core.errors import CurrencyMismatch, InvalidAmount
from banking.core.money import Money, format_money


@pytest.mark.parametrize(
    "minor,text",
    [
        (0, "₹0.00"),
        (5, "₹0.05"),
        (100000, "₹1,000.00"),
        (12345678_90, "₹1,23,45,678.90"),
        (-50000, "-₹500.00"),
        (100_00000_00, "₹1,00,00,000.00"),
    ],
)
def test_inr_uses_indian_grouping(minor, text):
    assert format_money(minor, "INR") == text


def test_parse_accepts_what_people_type():
    assert Money.parse("1,23,456.50") == Money(12345650)
    assert Money.parse("₹ 500") == Money(50000)
    assert Money.parse(" 0.05 ") == Money(5)


@pytest.mark.parametrize("text", ["", "abc", "1.234", "1e", "NaN", "Infinity", "12.3.4"])
def test_parse_refuses_bad_input_with_a_message(text):
    with pytest.raises(InvalidAmount) as caught:
        Money.parse(text)
    assert str(caught.value)


@pytest.mark.parametrize("text", [
    "1e2", "1E2", "1e3", "1_000", "１２３", "١٢", "१२३४", "𝟘𝟘", "²", "1,2,3", "12.345", "-5", "+5", "NaN", "-Infinity",
    "Infinity", "sNaN", "0x10", "1,0000", "10,00", "1,00,0000", ",100", "100,", "1500.", ".50", "5₹", "₹-5", "1 000",
])
def test_parse_takes_only_plain_rupees(text):
    """Decimal() reads all of these; a person typing an amount means none of them."""
    with pytest.raises(InvalidAmount) as caught:
        Money.parse(text)
    assert "Enter the amount in rupees, like 1,500 or 1500.50" in str(caught.value)


@pytest.mark.parametrize("text, minor", [
    ("1,00,000", 1_00_000_00), ("100,000", 1_00_000_00), ("1500.50", 1_500_50), ("1500", 1_500_00),
    ("12,34,56,789.5", 12_34_56_789_50), ("123,456,789", 12_34_56_789_00), ("₹1,500", 1_500_00), ("999", 999_00),
])
def test_parse_takes_indian_and_international_grouping(text, minor):
    assert Money.parse(text) == Money(minor)


def test_money_refuses_floats_and_mixed_currencies():
    with pytest.raises(TypeError):
        Money(1.5)
    with pytest.raises(TypeError):
        Money.parse(1.5)
    with pytest.raises(CurrencyMismatch):
        Money(100, "INR") + Money(100, "USD")


def test_rounding_is_explicit_and_half_even():
    assert Money.rounded(Decimal("10.005")) == Money(1000)
    assert Money.rounded(Decimal("10.015")) == Money(1002)


@given(st.integers(min_value=0, max_value=10**15))
def test_format_then_parse_round_trips(minor):
    assert Money.parse(format_money(minor, "INR", symbol=False)) == Money(minor)
