"""Floating-rate resets: the borrower's choice before the reset date, and end of day's
reset (order 44) under each of the three choices RBI's 2023 circular asks for.

The loan: a home loan of ₹20,00,000 for 120 months at the repo rate 5.50% + 2.75%,
disbursed 5 Jan 2026, resetting every quarter from 5 Apr 2026. Two EMIs are paid on
their dates; on 20 Mar operations enter the repo rate at 6.50% from 5 Apr, so the
rate goes from 8.25% to 9.25% at the reset.
"""

import datetime
from decimal import Decimal

import pytest

from banking.audit.models import AuditEvent
from banking.core.eod import registered
from banking.core.errors import NotPermitted, ValidationFailed
from banking.ledger.models import JournalEntry, LedgerAccount
from banking.loans import resets, servicing
from banking.loans.actions import disburse_loan, enter_benchmark_rate
from banking.loans.models import LoanProductVersion, RateResetChoice, Repayment, Schedule, ScheduleReason
from banking.teller.actions import fund_vault
from banking.teller.tests.factories import VAULT_CASH, teller_with_open_till
from banking.testing import totp_code

from .factories import key
from .test_servicing import borrower_login, notes, set_date

DISBURSED = datetime.date(2026, 1, 5)
CHOOSING = datetime.date(2026, 3, 20)
RESET = datetime.date(2026, 4, 5)


def pay_in_cash(loan, teller):
    owed = servicing.dues(loan).total
    amount = -(-owed // 100) * 100
    servicing.repay(actor=teller, loan=loan, amount=amount, source="cash", counts=notes(amount // 100),
                    idempotency_key=key())


@pytest.fixture
def home_loan(bank):
    set_date(DISBURSED)
    bank.repo("5.50")
    loan = bank.sanctioned(checker=bank.manager, product="HL", amount=20_00_000_00, months=120,
                           monthly_income=3_00_000_00)
    disburse_loan(actor=bank.teller, loan=loan, amount=20_00_000_00, idempotency_key=key())
    fund_vault(actor=None, branch=bank.branch, counts=VAULT_CASH, idempotency_key=key())
    teller = teller_with_open_till(bank.branch, bank.supervisor, cash_limit=2_00_000_00, mfa=False)
    for due in (datetime.date(2026, 2, 5), datetime.date(2026, 3, 5)):
        set_date(due)
        pay_in_cash(loan, teller)
    set_date(CHOOSING)
    enter_benchmark_rate(actor=bank.ops, benchmark="repo", effective_from=RESET, rate="6.50")
    loan.refresh_from_db()
    loan.teller = teller
    return loan


def reach_the_reset(loan):
    """The reset date: its instalment paid at the counter, then the reset step."""
    set_date(RESET)
    pay_in_cash(loan, loan.teller)
    return resets.apply_resets(date=RESET)


def ahead(loan):
    schedule = loan.current_schedule
    return list(schedule.instalments.filter(due_date__gt=RESET).order_by("number"))


def assert_subledger_matches_schedule(loan):
    loan.refresh_from_db()
    rows = loan.current_schedule.instalments.all()
    assert sum(row.principal - row.principal_paid for row in rows) == loan.outstanding
    assert LedgerAccount.objects.get(pk=loan.ledger_account_id).balance == loan.outstanding


def test_the_reset_is_an_end_of_day_step_after_accrual(db):
    step = next(step for step in registered() if step.name == resets.RESET_STEP)
    orders = {s.name: s.order for s in registered()}
    assert step.order == 44 and orders["loans.interest_accrual"] < 44 < orders["loans.classification"]
    assert step.applies_on(datetime.date(1990, 1, 1)) is False


def reset_day_snapshot(loan):
    """What the reset step may write: schedules, events, entries, balances, the loan's
    terms and the choice's outcome."""
    loan.refresh_from_db()
    return {
        "schedules": list(Schedule.objects.filter(loan=loan).values_list("version", "reason", "is_current")),
        "events": AuditEvent.objects.count(),
        "entries": JournalEntry.objects.count(),
        "balances": dict(LedgerAccount.objects.values_list("pk", "balance")),
        "repayments": Repayment.objects.filter(loan=loan).count(),
        "loan": (loan.rate, loan.next_reset_on, loan.outstanding, loan.current_schedule.pk),
        "choice": list(RateResetChoice.objects.filter(loan=loan).values_list("applied_on", "outcome")),
    }


@pytest.mark.parametrize("choice", ["tenure", "prepayment"])
def test_rerunning_the_reset_step_for_a_date_changes_nothing(bank, home_loan, choice):
    """Step 44 run twice for one date, as the controller runs it (its partitions, then
    each): the second run makes no schedule, no event, no entry, moves no balance."""
    loan = home_loan
    resets.record_reset_choice(actor=loan.teller, loan=loan, choice=choice)
    if choice == "prepayment":
        bank.fund(bank.account, resets.reset_options(loan)["prepayment"].prepayment + 1_00_000_00)
    set_date(RESET)
    pay_in_cash(loan, loan.teller)
    step = next(step for step in registered() if step.name == resets.RESET_STEP)
    before = reset_day_snapshot(loan)

    def run_step():
        ranges = step.partitions(date=RESET, size=100) if step.applies_on(RESET) else []
        return sum(step.run(date=RESET, first=first, last=last) for first, last in ranges)

    assert run_step() == 1
    once = reset_day_snapshot(loan)
    assert once["schedules"] != before["schedules"] and once["events"] > before["events"]
    assert once["loan"][0] == Decimal("9.25")
    if choice == "prepayment":
        assert once["repayments"] == before["repayments"] + 1 and once["entries"] > before["entries"]
    assert run_step() == 0
    assert reset_day_snapshot(loan) == once
    # Run whole, bypassing the controller's `applies`, it still finds nothing to do.
    assert step.run(date=RESET) == 0
    assert reset_day_snapshot(loan) == once


def test_the_borrower_sees_the_three_choices_before_the_reset(bank, home_loan):
    options = resets.reset_options(home_loan)
    tenure, emi, prepay = options["tenure"], options["emi"], options["prepayment"]
    assert tenure.new_rate == emi.new_rate == Decimal("9.25") and tenure.on == RESET
    assert tenure.new_emi == tenure.old_emi and tenure.new_count > tenure.old_count == 117
    assert emi.new_count == 117 and emi.new_emi > emi.old_emi
    assert prepay.prepayment > 0 and abs(prepay.new_emi - prepay.old_emi) <= 1
    # The reset itself still waits for its date.
    with pytest.raises(ValidationFailed, match="not before"):
        servicing.reset_rate(actor=bank.ops, loan=home_loan)


def test_with_no_choice_the_reset_lengthens_the_tenure(bank, home_loan):
    loan = home_loan
    old_emi = servicing.current_emi(loan)
    assert reach_the_reset(loan) == 1
    loan.refresh_from_db()
    assert loan.rate == Decimal("9.25") and loan.next_reset_on == datetime.date(2026, 7, 5)
    assert loan.current_schedule.reason == ScheduleReason.RATE_RESET
    rows = ahead(loan)
    assert len(rows) > 117 and min(row.total for row in rows[:-1]) == old_emi
    assert_subledger_matches_schedule(loan)
    # A rerun of the date finds nothing to reset.
    assert resets.apply_resets(date=RESET) == 0


def test_the_borrower_chooses_a_higher_emi_online(bank, home_loan):
    loan = home_loan
    user, secret = borrower_login(bank)
    old_emi = servicing.current_emi(loan)
    row = resets.record_reset_choice(actor=user, loan=loan, choice="emi", code=totp_code(secret))
    assert (row.channel, row.reset_on) == ("internet", RESET)
    assert reach_the_reset(loan) == 1
    rows = ahead(loan)
    assert len(rows) == 117 and rows[0].total > old_emi
    row.refresh_from_db()
    assert row.applied_on == RESET and "emi" in row.outcome.lower()
    assert_subledger_matches_schedule(loan)


def test_the_borrower_chooses_a_prepayment_at_the_counter(bank, home_loan):
    loan = home_loan
    old_emi = servicing.current_emi(loan)
    preview = resets.reset_options(loan)["prepayment"]
    resets.record_reset_choice(actor=loan.teller, loan=loan, choice="prepayment")
    bank.fund(bank.account, preview.prepayment + 1_00_000_00)
    set_date(RESET)
    pay_in_cash(loan, loan.teller)
    bank.account.ledger_account.refresh_from_db()
    before = bank.account.ledger_account.balance
    assert resets.apply_resets(date=RESET) == 1
    (prepaid,) = Repayment.objects.filter(loan=loan, kind="prepayment")
    assert prepaid.channel == "auto_debit" and prepaid.amount == preview.prepayment
    bank.account.ledger_account.refresh_from_db()
    assert before - bank.account.ledger_account.balance == prepaid.amount
    loan.refresh_from_db()
    assert loan.rate == Decimal("9.25")
    assert [s.reason for s in loan.schedules.order_by("version")][-2:] == ["rate_reset", "prepayment"]
    assert abs(servicing.current_emi(loan) - old_emi) <= 1 and len(ahead(loan)) == 117
    assert "receipt" in RateResetChoice.objects.get(loan=loan).outcome
    assert_subledger_matches_schedule(loan)


def test_a_prepayment_the_account_cannot_pay_falls_back_to_the_tenure(bank, home_loan):
    loan = home_loan
    resets.record_reset_choice(actor=loan.teller, loan=loan, choice="prepayment")
    bank.account.ledger_account.refresh_from_db()
    bank.withdraw(bank.account, bank.account.ledger_account.balance)
    assert reach_the_reset(loan) == 1
    assert not Repayment.objects.filter(loan=loan, kind="prepayment").exists()
    assert len(ahead(loan)) > 117
    assert "lengthened instead" in RateResetChoice.objects.get(loan=loan).outcome
    assert_subledger_matches_schedule(loan)


def test_the_tenure_stops_at_the_products_maximum_and_the_emi_rises(bank, home_loan):
    loan = home_loan
    LoanProductVersion.objects.filter(pk=loan.product_version_id).update(max_months=120)
    old_emi = servicing.current_emi(loan)
    preview = resets.reset_options(loan)["tenure"]
    assert preview.stretched and preview.new_count == 117 and preview.new_emi > old_emi
    assert reach_the_reset(loan) == 1
    rows = ahead(loan)
    assert len(rows) == 117 and rows[0].total > old_emi


def test_bad_choices_are_refused_and_nothing_is_written(bank, home_loan):
    loan = home_loan
    user, secret = borrower_login(bank)
    with pytest.raises(ValidationFailed, match="Choose a higher EMI"):
        resets.record_reset_choice(actor=loan.teller, loan=loan, choice="both")
    with pytest.raises(ValidationFailed):
        resets.record_reset_choice(actor=user, loan=loan, choice="emi", code="000000")
    with pytest.raises(ValidationFailed):
        resets.record_reset_choice(actor=user, loan=loan, choice="emi", code="")
    with pytest.raises(NotPermitted, match="Only the borrower"):
        resets.record_reset_choice(actor=bank.ops, loan=loan, choice="emi")
    assert not RateResetChoice.objects.exists()
    # A choice may change until the reset; after its date it is refused.
    resets.record_reset_choice(actor=loan.teller, loan=loan, choice="emi")
    resets.record_reset_choice(actor=loan.teller, loan=loan, choice="tenure")
    assert RateResetChoice.objects.get().choice == "tenure"
    set_date(datetime.date(2026, 4, 6))
    with pytest.raises(ValidationFailed, match="has passed"):
        resets.record_reset_choice(actor=loan.teller, loan=loan, choice="emi")


def test_a_fixed_rate_loan_has_no_reset_choice(bank):
    set_date(DISBURSED)
    loan = bank.sanctioned()
    disburse_loan(actor=bank.teller, loan=loan, amount=5_00_000_00, idempotency_key=key())
    with pytest.raises(ValidationFailed, match="fixed rate"):
        resets.record_reset_choice(actor=bank.teller, loan=loan, choice="emi")
    assert not RateResetChoice.objects.exists()
