"""The RBI's classification and provisioning rules, as pure functions."""

import datetime

import pytest

from banking.loans.classification import (
    borrower_state,
    classify,
    days_past_due,
    interest_for_day,
    npa_class,
    provision,
    secured_portion,
)
from banking.loans.models import Classification as C

D = datetime.date


def test_overdue_counts_from_the_day_end_of_the_due_date():
    due = D(2027, 1, 5)
    assert days_past_due(due, D(2027, 1, 4)) == 0
    assert days_past_due(due, due) == 1  # SMA-0 on the due date itself (RBI 2021)
    assert days_past_due(None, due) == 0


@pytest.mark.parametrize(("on", "expected"), [
    (D(2027, 1, 4), C.STANDARD), (D(2027, 1, 5), C.SMA_0), (D(2027, 2, 3), C.SMA_0), (D(2027, 2, 4), C.SMA_1),
    (D(2027, 3, 5), C.SMA_1), (D(2027, 3, 6), C.SMA_2), (D(2027, 4, 4), C.SMA_2),
])
def test_sma_buckets_of_an_emi_due_5_january(on, expected):
    state = borrower_state(loans=[D(2027, 1, 5)], on=on)
    assert state.npa_since is None
    assert classify(oldest_unpaid_due=D(2027, 1, 5), on=on, borrower_npa_since=None)[0] == expected


def test_an_emi_due_5_january_unpaid_is_an_npa_on_5_april():
    state = borrower_state(loans=[D(2027, 1, 5)], on=D(2027, 4, 5))
    assert state.npa_since == D(2027, 4, 5)
    assert classify(oldest_unpaid_due=D(2027, 1, 5), on=D(2027, 4, 5), borrower_npa_since=state.npa_since) == (
        C.SUB_STANDARD, 91)


@pytest.mark.parametrize(("on", "expected"), [
    (D(2028, 4, 4), C.SUB_STANDARD), (D(2028, 4, 5), C.DOUBTFUL_1), (D(2029, 4, 4), C.DOUBTFUL_1),
    (D(2029, 4, 5), C.DOUBTFUL_2), (D(2031, 4, 4), C.DOUBTFUL_2), (D(2031, 4, 5), C.DOUBTFUL_3),
    (D(2040, 1, 1), C.DOUBTFUL_3),
])
def test_npa_ageing(on, expected):
    assert npa_class(D(2027, 4, 5), on) == expected


def test_an_npa_borrower_stays_one_through_a_part_payment_and_upgrades_when_every_arrear_is_paid():
    since = D(2027, 4, 5)
    # A part payment moved the oldest unpaid instalment to February: still arrears.
    assert borrower_state(loans=[D(2027, 2, 5)], on=D(2027, 4, 20), npa_since=since).npa_since == since
    # One loan clear, another with arrears: the borrower stays an NPA.
    assert borrower_state(loans=[None, D(2027, 4, 5)], on=D(2027, 4, 20), npa_since=since).npa_since == since
    # Every arrear paid (the next instalment is not yet due): standard again.
    assert borrower_state(loans=[D(2027, 5, 5), None], on=D(2027, 4, 20), npa_since=since).npa_since is None


def test_contagion_one_npa_loan_makes_the_borrower_an_npa():
    state = borrower_state(loans=[D(2027, 1, 5), None], on=D(2027, 4, 6))
    assert state.npa_since == D(2027, 4, 5)
    # The borrower's performing loan is sub-standard too, with its own days past due.
    assert classify(oldest_unpaid_due=None, on=D(2027, 4, 6), borrower_npa_since=state.npa_since) == (
        C.SUB_STANDARD, 0)


def test_loss_is_sticky_and_never_reached_by_age():
    assert classify(oldest_unpaid_due=None, on=D(2027, 1, 1), borrower_npa_since=D(2020, 1, 1), loss=True)[0] \
        == C.LOSS
    assert npa_class(D(2000, 1, 1), D(2040, 1, 1)) == C.DOUBTFUL_3


@pytest.mark.parametrize(("classification", "secured", "expected"), [
    (C.STANDARD, 10_00_000_00, 4_000_00),          # 0.40%
    (C.SMA_2, 10_00_000_00, 4_000_00),             # SMA is standard
    (C.SUB_STANDARD, 10_00_000_00, 1_50_000_00),   # 15% secured
    (C.SUB_STANDARD, 0, 2_50_000_00),              # 25% unsecured
    (C.DOUBTFUL_1, 10_00_000_00, 2_50_000_00),     # 25%
    (C.DOUBTFUL_2, 10_00_000_00, 4_00_000_00),     # 40%
    (C.DOUBTFUL_3, 10_00_000_00, 10_00_000_00),    # 100%
    (C.DOUBTFUL_1, 0, 10_00_000_00),               # 100% of the unsecured
    (C.DOUBTFUL_2, 6_00_000_00, 2_40_000_00 + 4_00_000_00),  # 40% of 6 lakh + 100% of 4 lakh
    (C.LOSS, 10_00_000_00, 10_00_000_00),
])
def test_each_provision_amount_on_ten_lakh(classification, secured, expected):
    assert provision(classification=classification, outstanding=10_00_000_00, secured_portion=secured) == expected


def test_provision_rounds_half_up_once():
    assert provision(classification=C.STANDARD, outstanding=125, secured_portion=125) == 1  # 0.5 paise
    assert provision(classification=C.STANDARD, outstanding=124, secured_portion=124) == 0


def test_secured_portion():
    assert secured_portion(outstanding=100, secured=False) == 0
    assert secured_portion(outstanding=100, secured=True) == 100
    assert secured_portion(outstanding=100, secured=True, security_value=60) == 60
    assert secured_portion(outstanding=100, secured=True, security_value=600) == 100


def test_a_days_interest_actual_365_in_hundredths_of_a_paisa():
    assert interest_for_day(10_00_000_00, "8.5") == 2_328_767  # ₹232.88 a day, kept to 1/100 paisa
