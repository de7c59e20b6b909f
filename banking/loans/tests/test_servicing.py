"""Loan servicing: dues, allocation, the cash and account channels, part-prepayment,
foreclosure, charges, floating-rate resets and the auto-debit.

The loan of most tests: a personal loan of ₹5,00,000 at 10.50% for 60 months,
disbursed on 5 Jan 2026. EMI ₹10,746.95. The first instalment, due 5 Feb 2026, is
₹4,458.90 interest (5,00,000 × 10.5% × 31 ÷ 365) and ₹6,288.05 principal.
"""

import datetime
from decimal import Decimal

import pytest

from banking.core.errors import (
    IdempotencyConflict,
    InsufficientFunds,
    InvalidAmount,
    NotPermitted,
    ValidationFailed,
)
from banking.ledger.chart import (
    GST_PAYABLE,
    INTEREST_RECEIVABLE,
    LOAN_CHARGES_RECEIVABLE,
    LOAN_PENAL_CHARGES,
    LOAN_PREPAYMENT_CHARGES,
)
from banking.ledger.models import BusinessDate, LedgerAccount
from banking.loans import servicing
from banking.loans.actions import disburse_loan, enter_benchmark_rate
from banking.loans.models import (
    AllocationPart,
    ChargeKind,
    LoanCharge,
    LoanProductVersion,
    LoanStatus,
    Repayment,
    ScheduleReason,
)
from banking.teller.actions import fund_vault
from banking.teller.denominations import Denominations
from banking.teller.models import CashBox
from banking.teller.tests.factories import VAULT_CASH, teller_with_open_till
from banking.testing import give_totp, make_user, totp_code
from banking.users.roles import Role

from .factories import key

DISBURSED = datetime.date(2026, 1, 5)
FIRST_DUE = datetime.date(2026, 2, 5)
EMI = 10_746_95


def set_date(day):
    BusinessDate.objects.update_or_create(pk=1, defaults={"date": day})
    # Every open till opens its day on the new date too (the tests skip the close of day).
    from django.utils import timezone

    from banking.teller.models import TillDay

    for box in CashBox.objects.tills().exclude(days__business_date=day):
        last = box.days.order_by("-business_date").first()
        if last is not None:
            TillDay.objects.create(till=box, business_date=day, opened_by=last.opened_by, opened_at=timezone.now(),
                                   opening=last.opening)


def balance(code):
    return LedgerAccount.objects.get(code=code).balance


@pytest.fixture
def loan(bank):
    set_date(DISBURSED)
    loan = bank.sanctioned()
    disburse_loan(actor=bank.teller, loan=loan, amount=5_00_000_00, idempotency_key=key())
    bank.fund(bank.account, 2_00_000_00)
    loan.refresh_from_db()
    return loan


@pytest.fixture
def cashier(bank, loan):
    """A teller with an open till at the bank's branch (its day opens on each date the test sets)."""
    fund_vault(actor=None, branch=bank.branch, counts=VAULT_CASH, idempotency_key=key())
    return teller_with_open_till(bank.branch, bank.supervisor, cash_limit=10_00_000_00, mfa=False)


def till_of(teller):
    return CashBox.objects.get(teller=teller)


def notes(rupees):
    """Rupees as ₹500 notes and coins."""
    return Denominations(n500=rupees // 500, coins=rupees % 500)


def borrower_login(bank):
    user = make_user(Role.CUSTOMER, username=f"c{bank.customer.cif}")
    secret = give_totp(user)
    bank.customer.user = user
    bank.customer.save(update_fields=["user"])
    return user, secret


# -- what is due --------------------------------------------------------------------------


def test_nothing_is_due_before_the_first_due_date(bank, loan, cashier):
    assert servicing.dues(loan).total == 0
    with pytest.raises(ValidationFailed, match="Nothing is due .* falls due on 05 Feb 2026"):
        servicing.repay(actor=cashier, loan=loan, amount=10_747_00, source="cash", counts=notes(10_747),
                        idempotency_key=key())
    assert not Repayment.objects.exists()


def test_the_first_instalment_falls_due_on_its_date(bank, loan):
    owed = servicing.dues(loan, FIRST_DUE)
    assert (owed.interest, owed.principal, owed.total) == (4_458_90, 6_288_05, EMI)
    assert servicing.dues(loan, FIRST_DUE - datetime.timedelta(days=1)).total == 0


# -- cash at the counter ------------------------------------------------------------------


def test_a_cash_emi_pays_interest_then_principal_and_the_paise_go_to_the_account(bank, loan, cashier):
    teller = cashier
    set_date(FIRST_DUE)
    till_before = till_of(teller).ledger_account.balance
    account_before = bank.account.ledger_account.balance
    receivable = balance(INTEREST_RECEIVABLE)
    counts = Denominations(n500=21, coins=247)  # ₹10,747: the EMI rounded up to the rupee
    repayment = servicing.repay(actor=teller, loan=loan, amount=10_747_00, source="cash", counts=counts,
                                idempotency_key=key())
    parts = [(a.part, a.amount) for a in repayment.allocations.order_by("id")]
    assert parts == [("interest", 4_458_90), ("principal", 6_288_05), ("account", 5)]
    assert sum(amount for _part, amount in parts) == repayment.amount == 10_747_00
    till = till_of(teller)
    till.ledger_account.refresh_from_db()
    bank.account.ledger_account.refresh_from_db()
    loan.refresh_from_db()
    assert till.ledger_account.balance - till_before == 10_747_00
    assert till.n500 >= 21 and till.coins >= 247
    assert bank.account.ledger_account.balance - account_before == 5
    assert loan.outstanding == 5_00_000_00 - 6_288_05
    assert balance(INTEREST_RECEIVABLE) - receivable == -4_458_90
    first = loan.current_schedule.instalments.get(number=1)
    assert first.is_paid
    assert repayment.number.startswith("RP") and repayment.counts["n500"] == 21
    assert servicing.dues(loan).total == 0


def test_cash_must_add_up_and_be_in_rupees(bank, loan, cashier):
    set_date(FIRST_DUE)
    teller = cashier
    with pytest.raises(InvalidAmount, match="whole rupees"):
        servicing.repay(actor=teller, loan=loan, amount=EMI, source="cash", counts=notes(10_746),
                        idempotency_key=key())
    with pytest.raises(ValidationFailed):
        servicing.repay(actor=teller, loan=loan, amount=10_747_00, source="cash", counts=notes(10_000),
                        idempotency_key=key())
    assert not Repayment.objects.exists()


def test_more_than_is_due_is_refused(bank, loan, cashier):
    set_date(FIRST_DUE)
    with pytest.raises(ValidationFailed, match="Only ₹10,746.95 is due .* part-prepayment"):
        servicing.repay(actor=cashier, loan=loan, amount=10_748_00, source="cash", counts=notes(10_748),
                        idempotency_key=key())
    assert not Repayment.objects.exists()


def test_the_same_form_twice_pays_once(bank, loan, cashier):
    set_date(FIRST_DUE)
    token = key()
    first = servicing.repay(actor=cashier, loan=loan, amount=5_000_00, source="cash", counts=notes(5_000),
                            idempotency_key=token)
    again = servicing.repay(actor=cashier, loan=loan, amount=5_000_00, source="cash", counts=notes(5_000),
                            idempotency_key=token)
    assert first.pk == again.pk and Repayment.objects.count() == 1
    with pytest.raises(IdempotencyConflict):
        servicing.repay(actor=cashier, loan=loan, amount=4_000_00, source="cash", counts=notes(4_000),
                        idempotency_key=token)


# -- allocation -----------------------------------------------------------------------------


def test_charges_then_interest_then_principal_oldest_first(bank, loan, cashier):
    set_date(datetime.date(2026, 3, 5))  # two instalments due
    charge = servicing.levy_charge(actor=None, loan=loan, kind=ChargeKind.PENAL, amount=100_00,
                                   narration="Penal charge on the February instalment", idempotency_key=key())
    assert charge.gst == 18_00
    receivable = balance(LOAN_CHARGES_RECEIVABLE)
    repayment = servicing.repay(actor=cashier, loan=loan, amount=15_000_00, source="cash", counts=notes(15_000),
                                idempotency_key=key())
    rows = list(loan.current_schedule.instalments.order_by("number")[:2])
    parts = [(a.part, a.amount, a.instalment.number if a.instalment else None)
             for a in repayment.allocations.order_by("id")]
    # 118.00 charge; interest of both (4,458.90 + 4,319.98); then principal of the first.
    assert parts == [("charge", 118_00, None), ("interest", 4_458_90, 1), ("interest", rows[1].interest, 2),
                     ("principal", 15_000_00 - 118_00 - 4_458_90 - rows[1].interest, 1)]
    assert balance(LOAN_CHARGES_RECEIVABLE) - receivable == -118_00
    charge.refresh_from_db()
    assert charge.unpaid == 0
    assert not rows[0].is_paid  # a part payment leaves the rest overdue


def test_the_allocation_order_is_the_products(bank, loan, cashier):
    terms = loan.product_version
    fields = {f.name: getattr(terms, f.name) for f in LoanProductVersion._meta.concrete_fields
              if f.name not in ("id", "effective_from", "created_at", "product")}
    loan.product_version = LoanProductVersion.objects.create(
        product=terms.product, effective_from=datetime.date(2030, 1, 1),
        **(fields | {"allocation_order": "principal,interest,charges"}))
    loan.save(update_fields=["product_version"])
    set_date(FIRST_DUE)
    servicing.levy_charge(actor=None, loan=loan, kind=ChargeKind.PENAL, amount=100_00, narration="Penal",
                          idempotency_key=key())
    repayment = servicing.repay(actor=cashier, loan=loan, amount=7_000_00, source="cash", counts=notes(7_000),
                                idempotency_key=key())
    assert [(a.part, a.amount) for a in repayment.allocations.order_by("id")] == [
        ("principal", 6_288_05), ("interest", 7_000_00 - 6_288_05)]


def test_a_penal_charge_is_a_charge_never_interest_or_principal(bank, loan):
    income = balance(LOAN_PENAL_CHARGES)
    gst = balance(GST_PAYABLE)
    servicing.levy_charge(actor=None, loan=loan, kind=ChargeKind.PENAL, amount=250_00, narration="Penal",
                          idempotency_key=key())
    loan.refresh_from_db()
    assert loan.outstanding == 5_00_000_00
    assert balance(LOAN_PENAL_CHARGES) - income == 250_00 and balance(GST_PAYABLE) - gst == 45_00
    assert sum(row.interest for row in loan.current_schedule.instalments.all()) == sum(
        row.interest for row in loan.schedules.get(version=1).instalments.all())


# -- from the borrower's account ----------------------------------------------------------------


def test_paying_from_the_account_needs_the_borrowers_code(bank, loan):
    user, secret = borrower_login(bank)
    set_date(FIRST_DUE)
    before = bank.account.ledger_account.balance
    with pytest.raises(ValidationFailed, match="authenticator code is not right"):
        servicing.repay(actor=user, loan=loan, amount=EMI, source="account", account=bank.account, code="000000",
                        idempotency_key=key())
    with pytest.raises(NotPermitted):
        servicing.repay(actor=bank.teller, loan=loan, amount=EMI, source="account", account=bank.account,
                        code=totp_code(secret), idempotency_key=key())
    assert not Repayment.objects.exists()
    repayment = servicing.repay(actor=user, loan=loan, amount=EMI, source="account", account=bank.account,
                                code=totp_code(secret), idempotency_key=key())
    bank.account.ledger_account.refresh_from_db()
    assert before - bank.account.ledger_account.balance == EMI
    assert repayment.channel == "account" and repayment.deposit_account == bank.account


def test_another_customers_account_cannot_pay(bank, loan):
    from banking.deposits.tests.factories import make_customer

    user, secret = borrower_login(bank)
    other = bank.open_account(customer=make_customer(branch=bank.branch, created_by=bank.teller), deposit=50_000_00)
    set_date(FIRST_DUE)
    with pytest.raises(ValidationFailed, match="your own accounts"):
        servicing.repay(actor=user, loan=loan, amount=EMI, source="account", account=other, code=totp_code(secret),
                        idempotency_key=key())


def test_an_account_short_of_money_pays_nothing(bank, loan):
    user, secret = borrower_login(bank)
    set_date(FIRST_DUE)
    bank.withdraw(bank.account, bank.account.ledger_account.balance - 1_000_00)
    with pytest.raises(InsufficientFunds, match="available"):
        servicing.repay(actor=user, loan=loan, amount=EMI, source="account", account=bank.account,
                        code=totp_code(secret), idempotency_key=key())
    assert not Repayment.objects.exists()
    assert servicing.dues(loan).total == EMI


# -- part-prepayment -------------------------------------------------------------------------


def _pay_first_emi(bank, loan, teller):
    servicing.repay(actor=teller, loan=loan, amount=10_747_00, source="cash", counts=notes(10_747),
                    idempotency_key=key())


def test_prepayment_reducing_the_emi(bank, loan, cashier):
    set_date(FIRST_DUE)
    _pay_first_emi(bank, loan, cashier)
    # Outstanding 4,93,711.95 less 1,00,000 prepaid: 3,93,711.95 over the 59 instalments left.
    preview = servicing.preview_prepayment(loan, 1_00_000_00, "emi")
    # EMI = P·r·(1+r)^n / ((1+r)^n − 1), P 3,93,711.95, r 0.105 ÷ 12, n 59: 8,571.64.
    assert (preview.old_emi, preview.new_emi) == (EMI, 8_571_64)
    assert (preview.old_count, preview.new_count) == (59, 59)
    # 4% charge on 1,00,000 = 4,000, GST 18% = 720.
    assert (preview.charge, preview.gst, preview.dues) == (4_000_00, 720_00, 0)
    # The first new instalment: 28 days (5 Feb to 5 Mar) on 3,93,711.95 at 10.5% ÷ 365 = 3,171.27.
    assert preview.rows[0].interest == 3_171_27
    assert sum(row.principal for row in preview.rows) == 3_93_711_95
    charges = balance(LOAN_PREPAYMENT_CHARGES)
    repayment = servicing.part_prepay(actor=cashier, loan=loan, principal=1_00_000_00, choice="emi", source="cash",
                                      amount=1_04_720_00, counts=notes(1_04_720), idempotency_key=key())
    loan.refresh_from_db()
    assert loan.outstanding == 3_93_711_95
    assert balance(LOAN_PREPAYMENT_CHARGES) - charges == 4_000_00
    assert sum(a.amount for a in repayment.allocations.all()) == repayment.amount == 1_04_720_00
    schedule = loan.current_schedule
    assert (schedule.version, schedule.reason) == (2, ScheduleReason.PREPAYMENT)
    rows = list(schedule.instalments.order_by("number"))
    assert len(rows) == 60 and rows[0].is_paid and rows[1].number == 2
    assert rows[1].total == 8_571_64 and rows[1].interest == 3_171_27
    assert sum(r.principal - r.principal_paid for r in rows) == loan.outstanding
    assert repayment.schedule == schedule and repayment.choice == "emi"


def test_prepayment_reducing_the_tenure(bank, loan, cashier):
    set_date(FIRST_DUE)
    _pay_first_emi(bank, loan, cashier)
    preview = servicing.preview_prepayment(loan, 1_00_000_00, "tenure")
    # The EMI of 10,746.95 kept on 3,93,711.95: n = −ln(1 − P·r/E) ÷ ln(1 + r) = 44.36, so
    # 44 full instalments and a smaller 45th.
    assert preview.new_emi == EMI
    assert (preview.old_count, preview.new_count) == (59, 45)
    assert preview.rows[-1].total < EMI
    assert sum(row.principal for row in preview.rows) == 3_93_711_95
    servicing.part_prepay(actor=cashier, loan=loan, principal=1_00_000_00, choice="tenure", source="cash",
                          amount=1_04_720_00, counts=notes(1_04_720), idempotency_key=key())
    loan.refresh_from_db()
    rows = list(loan.current_schedule.instalments.order_by("number"))
    assert len(rows) == 1 + 45 and rows[-1].due_date == datetime.date(2029, 11, 5)


def test_no_prepayment_charge_on_a_floating_rate_loan_to_an_individual(bank):
    set_date(DISBURSED)
    bank.repo("5.50")
    loan = bank.sanctioned(checker=bank.manager, product="HL", amount=10_00_000_00, months=120,
                           monthly_income=3_00_000_00)
    disburse_loan(actor=bank.teller, loan=loan, amount=10_00_000_00, idempotency_key=key())
    loan.refresh_from_db()
    assert servicing.prepayment_charge(loan, 1_00_000_00) == (0, 0)
    assert servicing.foreclosure_quote(loan).prepayment_charge == 0


def test_a_prepayment_of_the_whole_outstanding_is_refused(bank, loan, cashier):
    for principal in (5_00_000_00, 6_00_000_00):
        with pytest.raises(ValidationFailed, match="not less than the principal outstanding"):
            servicing.part_prepay(actor=cashier, loan=loan, principal=principal, choice="emi", source="cash",
                                  amount=principal, counts=notes(principal // 100), idempotency_key=key())
    with pytest.raises(ValidationFailed, match="reduces the EMI or the tenure"):
        servicing.preview_prepayment(loan, 1_000_00, "both")
    assert not Repayment.objects.exists() and loan.schedules.count() == 1


def test_a_prepayment_pays_the_dues_first(bank, loan, cashier):
    set_date(datetime.date(2026, 2, 20))
    preview = servicing.preview_prepayment(loan, 50_000_00, "tenure")
    assert preview.dues == EMI
    repayment = servicing.part_prepay(actor=cashier, loan=loan, principal=50_000_00, choice="tenure",
                                      source="cash", amount=preview.total + 5, counts=notes((preview.total + 5) // 100),
                                      idempotency_key=key())
    parts = [a.part for a in repayment.allocations.order_by("id")]
    assert parts == ["interest", "principal", "principal", "charge", "account"]
    loan.refresh_from_db()
    assert servicing.dues(loan).total == 0
    # 15 days of interest on the principal not yet due is carried into the next instalment.
    rows = list(loan.current_schedule.instalments.order_by("number"))
    carried = round(Decimal(4_93_711_95) * Decimal("0.105") * 15 / 365)
    assert rows[1].interest == carried + round(Decimal(4_43_711_95) * Decimal("0.105") * 13 / 365)


# -- foreclosure ---------------------------------------------------------------------------


def test_a_foreclosure_quote_for_a_past_date_is_refused(bank, loan):
    set_date(datetime.date(2026, 1, 20))
    with pytest.raises(ValidationFailed, match="today .* or a later date"):
        servicing.foreclosure_quote(loan, datetime.date(2026, 1, 19))


def test_foreclosure_quote_and_closure(bank, loan, cashier):
    set_date(datetime.date(2026, 1, 25))
    quote = servicing.foreclosure_quote(loan, datetime.date(2026, 1, 25))
    # 20 days on 5,00,000 at 10.5% ÷ 365 = 2,876.71; 4% charge 20,000 + 18% GST 3,600.
    assert (quote.principal, quote.interest_due, quote.interest_to_date, quote.charges) == (
        5_00_000_00, 0, 2_876_71, 0)
    assert (quote.prepayment_charge, quote.gst) == (20_000_00, 3_600_00)
    assert quote.total == 5_26_476_71
    later = servicing.foreclosure_quote(loan, datetime.date(2026, 1, 30))
    assert later.interest_to_date == 3_595_89  # 25 days
    with pytest.raises(ValidationFailed, match="5,26,476.71"):
        servicing.foreclose(actor=cashier, loan=loan, amount=5_00_000_00, source="cash", counts=notes(5_00_000),
                            idempotency_key=key())
    repayment = servicing.foreclose(actor=cashier, loan=loan, amount=5_26_477_00, source="cash",
                                    counts=notes(5_26_477), idempotency_key=key())
    loan.refresh_from_db()
    assert loan.status == LoanStatus.CLOSED and loan.closed_on == datetime.date(2026, 1, 25)
    assert loan.outstanding == 0
    assert sum(a.amount for a in repayment.allocations.all()) == 5_26_477_00
    schedule = loan.current_schedule
    assert schedule.reason == ScheduleReason.FORECLOSURE
    (last,) = schedule.instalments.all()
    assert (last.principal, last.interest, last.is_paid) == (5_00_000_00, 2_876_71, True)
    assert LoanCharge.objects.get(loan=loan, kind=ChargeKind.PREPAYMENT).unpaid == 0
    with pytest.raises(ValidationFailed, match="closed"):
        servicing.repay(actor=cashier, loan=loan, amount=1_000_00, source="cash", counts=notes(1_000),
                        idempotency_key=key())
    with pytest.raises(ValidationFailed, match="closed"):
        servicing.foreclosure_quote(loan)


def test_foreclosure_with_arrears_pays_them_on_their_instalments(bank, loan, cashier):
    set_date(datetime.date(2026, 3, 10))
    servicing.levy_charge(actor=None, loan=loan, kind=ChargeKind.PENAL, amount=100_00, narration="Penal",
                          idempotency_key=key())
    quote = servicing.foreclosure_quote(loan)
    rows = list(loan.current_schedule.instalments.order_by("number")[:3])
    assert quote.interest_due == rows[0].interest + rows[1].interest
    assert quote.principal == 5_00_000_00 and quote.charges == 118_00
    # 5 days from 5 Mar on the principal not yet due
    assert quote.interest_to_date == round(Decimal(rows[2].opening) * Decimal("0.105") * 5 / 365)
    amount = -(-quote.total // 100) * 100
    servicing.foreclose(actor=cashier, loan=loan, amount=amount, source="cash", counts=notes(amount // 100),
                        idempotency_key=key())
    loan.refresh_from_db()
    assert loan.status == LoanStatus.CLOSED and loan.outstanding == 0
    assert all(row.is_paid for row in loan.current_schedule.instalments.all())
    assert not servicing.unpaid_charges(loan)


def test_paying_the_last_of_a_loan_closes_it(bank, cashier):
    loan = bank.sanctioned(amount=1_00_000_00, months=12)
    disburse_loan(actor=bank.teller, loan=loan, amount=1_00_000_00, idempotency_key=key())
    set_date(datetime.date(2027, 1, 5))
    loan.refresh_from_db()
    owed = servicing.dues(loan).total
    amount = -(-owed // 100) * 100
    servicing.repay(actor=cashier, loan=loan, amount=amount, source="cash", counts=notes(amount // 100),
                    idempotency_key=key())
    loan.refresh_from_db()
    assert loan.status == LoanStatus.CLOSED and loan.outstanding == 0


# -- floating-rate reset ---------------------------------------------------------------------------


@pytest.fixture
def home_loan(bank):
    set_date(DISBURSED)
    bank.repo("5.50")
    loan = bank.sanctioned(checker=bank.manager, product="HL", amount=20_00_000_00, months=120,
                           monthly_income=3_00_000_00)
    disburse_loan(actor=bank.teller, loan=loan, amount=20_00_000_00, idempotency_key=key())
    loan.refresh_from_db()
    assert loan.next_reset_on == datetime.date(2026, 4, 5) and loan.rate == Decimal("8.25")
    # Three EMIs paid on their dates, then the repo rate rises a point from the reset date.
    fund_vault(actor=None, branch=bank.branch, counts=VAULT_CASH, idempotency_key=key())
    teller = teller_with_open_till(bank.branch, bank.supervisor, cash_limit=2_00_000_00, mfa=False)
    for due in (datetime.date(2026, 2, 5), datetime.date(2026, 3, 5), datetime.date(2026, 4, 5)):
        set_date(due)
        owed = servicing.dues(loan).total
        amount = -(-owed // 100) * 100
        servicing.repay(actor=teller, loan=loan, amount=amount, source="cash", counts=notes(amount // 100),
                        idempotency_key=key())
    enter_benchmark_rate(actor=bank.ops, benchmark="repo", effective_from=datetime.date(2026, 4, 5), rate="6.50")
    loan.teller = teller
    return loan


def test_reset_keeps_the_emi_and_lengthens_the_tenure_by_default(bank, home_loan):
    loan = home_loan
    preview = servicing.preview_rate_reset(loan)
    assert preview.new_rate == Decimal("9.25") and preview.choice == "tenure"
    assert preview.new_emi == preview.old_emi and preview.new_count > preview.old_count == 117
    assert preview.new_count <= 360 - 3
    version = servicing.reset_rate(actor=bank.ops, loan=loan)
    loan.refresh_from_db()
    assert (version.reason, version.rate, loan.rate) == (ScheduleReason.RATE_RESET, Decimal("9.25"), Decimal("9.25"))
    assert loan.next_reset_on == datetime.date(2026, 7, 5)
    rows = list(loan.current_schedule.instalments.order_by("number"))
    assert len(rows) == 3 + preview.new_count and all(row.is_paid for row in rows[:3])
    assert sum(row.principal - row.principal_paid for row in rows) == loan.outstanding


def test_reset_with_a_higher_emi(bank, home_loan):
    loan = home_loan
    preview = servicing.preview_rate_reset(loan, "emi")
    assert preview.new_count == preview.old_count == 117 and preview.new_emi > preview.old_emi
    servicing.reset_rate(actor=bank.ops, loan=loan, choice="emi")
    loan.refresh_from_db()
    assert loan.current_schedule.instalments.count() == 120


def test_reset_with_a_prepayment_keeps_emi_and_tenure(bank, home_loan):
    loan = home_loan
    old_emi = servicing.current_emi(loan)
    preview = servicing.preview_rate_reset(loan, "prepayment")
    assert preview.prepayment > 0
    assert abs(preview.new_emi - old_emi) <= 1 and preview.new_count == 117
    amount = -(-preview.prepayment // 100) * 100
    repayment = servicing.reset_rate(actor=loan.teller, loan=loan, choice="prepayment", source="cash",
                                     amount=amount, counts=notes(amount // 100), idempotency_key=key())
    loan.refresh_from_db()
    assert repayment.kind == "prepayment" and repayment.prepayment_charge == 0
    assert [s.reason for s in loan.schedules.order_by("version")][-2:] == ["rate_reset", "prepayment"]
    assert abs(servicing.current_emi(loan) - old_emi) <= 1
    assert loan.rate == Decimal("9.25")


def test_a_reset_before_its_date_or_on_a_fixed_loan_is_refused(bank, loan):
    with pytest.raises(ValidationFailed, match="fixed rate"):
        servicing.reset_rate(actor=bank.ops, loan=loan)
    with pytest.raises(NotPermitted):
        servicing.reset_rate(actor=bank.teller, loan=loan)


# -- auto-debit -------------------------------------------------------------------------------------


def test_the_mandate_takes_what_the_account_holds(bank, loan):
    set_date(FIRST_DUE)
    bank.withdraw(bank.account, bank.account.ledger_account.balance - 6_000_00)
    assert servicing.collect_by_mandate(date=FIRST_DUE) == 1
    (repayment,) = Repayment.objects.filter(loan=loan)
    assert repayment.channel == "auto_debit" and repayment.amount == 6_000_00 and repayment.received_by is None
    assert servicing.dues(loan).total == EMI - 6_000_00
    # rerun: the same date's key, nothing taken twice; an empty account pays nothing
    assert servicing.collect_by_mandate(date=FIRST_DUE) == 0
    assert Repayment.objects.filter(loan=loan).count() == 1


def test_allocation_parts_are_named(bank):
    assert {p.value for p in AllocationPart} == {"charge", "interest", "principal", "account"}


def test_a_later_tranche_keeps_what_was_paid_and_the_subledger(bank):
    set_date(DISBURSED)
    bank.repo("5.50")
    loan = bank.sanctioned(checker=bank.manager, product="HL", amount=20_00_000_00, months=120,
                           monthly_income=3_00_000_00)
    disburse_loan(actor=bank.teller, loan=loan, amount=8_00_000_00, idempotency_key=key())
    fund_vault(actor=None, branch=bank.branch, counts=VAULT_CASH, idempotency_key=key())
    teller = teller_with_open_till(bank.branch, bank.supervisor, cash_limit=10_00_000_00, mfa=False)
    set_date(FIRST_DUE)
    loan.refresh_from_db()
    owed = servicing.dues(loan).total
    amount = -(-owed // 100) * 100
    servicing.repay(actor=teller, loan=loan, amount=amount, source="cash", counts=notes(amount // 100),
                    idempotency_key=key())
    set_date(datetime.date(2026, 2, 20))
    disburse_loan(actor=bank.teller, loan=loan, amount=12_00_000_00, idempotency_key=key())
    loan.refresh_from_db()
    rows = list(loan.current_schedule.instalments.order_by("number"))
    assert rows[0].is_paid and rows[0].due_date == FIRST_DUE and rows[1].number == 2
    assert len(rows) == 120 and loan.current_schedule.reason == ScheduleReason.TRANCHE
    assert sum(row.principal - row.principal_paid for row in rows) == loan.outstanding
    assert loan.outstanding == 20_00_000_00 - rows[0].principal
