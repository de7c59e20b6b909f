"""Savings and current accounts at end of day, worked by hand: interest on a slab
product across a balance change mid-quarter, a leap year's quarter and its rounding,
minimum-balance charges (one capped by what the account holds), dormancy, and the
steps' places in the day."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail

from banking.audit.models import AuditEvent
from banking.core.eod import registered
from banking.core.errors import ValidationFailed
from banking.deposits import savings
from banking.deposits.actions import mark_inoperative
from banking.deposits.models import (
    BalanceSlab,
    DepositStatus,
    DormancyNotice,
    MinimumBalanceCharge,
    Product,
    SavingsAccrual,
    SavingsCredit,
    SavingsInterestPayable,
)
from banking.ledger.actions import place_hold
from banking.ledger.chart import (
    GST_PAYABLE,
    MINIMUM_BALANCE_CHARGES,
    SAVINGS_INTEREST_EXPENSE,
    SAVINGS_INTEREST_PAYABLE,
    SAVINGS_INTEREST_ROUNDING,
)
from banking.ledger.models import AccountStatus, JournalEntry, Posting

from .savings_days import close_day, close_days, gl_balance, on

pytestmark = pytest.mark.django_db

D = datetime.date


def slab_product():
    """Savings Plus: ₹10,00,000 or less at 3.00%, above it 3.50% on the whole balance."""
    product = Product.objects.create(code="SBP", name="Savings Plus", kind="savings", control_gl_code="2110",
                                     interest_rate=Decimal("3.50"))
    BalanceSlab.objects.create(product=product, up_to=10_00_000_00, rate=Decimal("3.00"))
    return product


def test_a_slab_product_across_a_balance_change_in_the_middle_of_the_quarter(bank):
    # ₹8,00,000 from 1 Jan 2027; ₹4,00,000 more on 15 Feb: ₹12,00,000, above the slab.
    # 1 Jan – 14 Feb, 45 days at 3.00% on ₹8,00,000 (80,000,000 paise):
    #   80,000,000 × 3.00 ÷ 365 = 657,534.25 → 657,534 hundredths of a paisa a day
    #   × 45 = 29,589,030
    # 15 Feb – 31 Mar, 14 + 31 = 45 days at 3.50% on all of ₹12,00,000:
    #   120,000,000 × 3.50 ÷ 365 = 1,150,684.93 → 1,150,685 a day; × 45 = 51,780,825
    # The quarter: 81,369,855 hundredths = 813,698.55 paise → ₹8,136.99 (half-up).
    product = slab_product()
    on(D(2027, 1, 1))
    account = bank.open_account(product=product, deposit=8_00_000_00)

    def business(day):
        if day == D(2027, 2, 15):
            bank.fund(account, 4_00_000_00)

    close_days(D(2027, 1, 1), D(2027, 3, 31), before=business)

    rows = SavingsAccrual.objects.filter(account=account)
    assert rows.get(date=D(2027, 2, 14)).interest == 657_534
    assert rows.get(date=D(2027, 2, 15)).interest == 1_150_685
    assert rows.get(date=D(2027, 3, 31)).accrued == 81_369_855
    credit = SavingsCredit.objects.get(account=account, date=D(2027, 3, 31))
    assert (credit.accrued, credit.amount) == (81_369_855, 8_136_99)
    account.ledger_account.refresh_from_db()
    assert account.ledger_account.balance == 12_00_000_00 + 8_136_99
    entry = JournalEntry.objects.get(pk=credit.entry_id)
    assert entry.narration == "Interest credited for the quarter 1 Jan 2027 to 31 Mar 2027"
    assert entry.reference == account.number
    # The GL took in the same quarter, day by day: ₹8,136.99 of expense, payable back to nothing.
    assert gl_balance(SAVINGS_INTEREST_EXPENSE) == 8_136_99
    assert gl_balance(SAVINGS_INTEREST_PAYABLE) == 0
    assert gl_balance(SAVINGS_INTEREST_ROUNDING) == 0
    # The next day starts the next quarter from nothing.
    close_day(D(2027, 4, 1))
    assert SavingsAccrual.objects.get(account=account, date=D(2027, 4, 1)).accrued == (
        (12_00_000_00 + 8_136_99) * Decimal("3.50") / 365).quantize(Decimal(1))


def test_a_leap_years_quarter_is_actual_365_and_the_rounding_goes_to_its_gl(bank):
    # Q1 2028: 31 + 29 + 31 = 91 days, each at 1/365 of the rate (not 1/366).
    # Savings, ₹1,00,000 (10,000,000 paise) at 2.70%:
    #   10,000,000 × 2.70 ÷ 365 = 73,972.60 → 73,973 a day; × 91 = 6,731,543 → ₹673.15
    #   (at 1/366 it would be ₹671.31).
    # Zero-balance savings, ₹620.00 (62,000 paise) and ₹333.33 (33,333 paise) at 2.70%:
    #   62,000 × 2.70 ÷ 365 = 458.63 → 459 a day; × 91 = 41,769 → 417.69 paise → ₹4.18
    #   33,333 × 2.70 ÷ 365 = 246.57 → 247 a day; × 91 = 22,477 → 224.77 paise → ₹2.25
    # The zero-balance accounts together accrued 64,246 hundredths = 642.46 paise: the
    # GL's interest payable holds ₹6.42 for them, the customers are credited ₹6.43, and
    # the paisa between goes to the rounding GL (Dr rounding ₹0.01, Cr payable ₹0.01).
    on(D(2028, 1, 1))
    saver = bank.open_account(product="SB", deposit=1_00_000_00)
    small = bank.open_account(product="BSBDA", deposit=620_00)
    smaller = bank.open_account(product="BSBDA", deposit=333_33)
    close_days(D(2028, 1, 1), D(2028, 3, 30))
    # The day before the credit, payable holds each product's accruals rounded once.
    payable = {b.product.code: b.accrued for b in SavingsInterestPayable.objects.select_related("product")}
    assert payable == {"SB": 73_973 * 90, "BSBDA": (459 + 247) * 90}
    assert gl_balance(SAVINGS_INTEREST_PAYABLE) == savings.paise(73_973 * 90) + savings.paise(706 * 90)

    close_day(D(2028, 3, 31))
    credited = dict(SavingsCredit.objects.values_list("account_id", "amount"))
    assert credited == {saver.pk: 673_15, small.pk: 4_18, smaller.pk: 2_25}
    assert gl_balance(SAVINGS_INTEREST_EXPENSE) == 673_15 + 6_42
    assert gl_balance(SAVINGS_INTEREST_ROUNDING) == 1
    assert gl_balance(SAVINGS_INTEREST_PAYABLE) == 0
    assert SavingsInterestPayable.objects.filter(accrued=0).count() == 2
    rounding = JournalEntry.objects.get(postings__account__code=SAVINGS_INTEREST_ROUNDING)
    assert rounding.narration.startswith("Rounding of the interest credited on BSBDA accounts")
    # No TDS on savings interest: the credits are the interest, whole.
    assert not Posting.objects.filter(account__code="2601").exists()


def test_a_minimum_balance_charge_is_capped_by_what_the_account_holds(bank):
    # Savings: minimum average balance ₹2,000; 10% of the shortfall, at most ₹100; GST 18%.
    # April 2027, 30 days, every account on the books the whole month.
    # ₹1,500 all month: shortfall ₹500 → ₹50.00, GST ₹9.00: ₹59.00 taken, ₹1,441 left.
    # ₹50 all month: shortfall ₹1,950 → ₹195, capped at ₹100, GST ₹18: ₹118, more than
    #   the ₹50.00 there. The most that fits: charge c with c + 18% of c ≤ 5,000 paise:
    #   c = floor(5,000 ÷ 1.18) = 4,237 paise, GST 762.66 → 763; 4,237 + 763 = 5,000.
    # ₹50 with a ₹10 lien: ₹40.00 may be taken: 4,000 ÷ 1.18 → 3,389, GST 610.02 → 610.
    # Zero-balance savings with nothing in it, and an inoperative account: never charged.
    Product.objects.filter(code="SB").update(minimum_balance=2_000_00, minimum_balance_charge=100_00,
                                             minimum_balance_charge_rate=Decimal("10.00"))
    on(D(2027, 3, 31))
    middling = bank.open_account(product="SB", deposit=1_500_00)
    poor = bank.open_account(product="SB", deposit=50_00)
    liened = bank.open_account(product="SB", deposit=50_00)
    place_hold(actor=bank.teller, account=liened.ledger_account, amount=10_00, reason="Court order")
    basic = bank.open_account(product="BSBDA")
    dormant = bank.open_account(product="SB", deposit=10_00)
    mark_inoperative(actor=None, account=dormant)
    close_days(D(2027, 4, 1), D(2027, 4, 29))
    assert not MinimumBalanceCharge.objects.exists()

    close_day(D(2027, 4, 30))
    charges = {c.account_id: (c.average, c.charge, c.gst, c.capped_by_balance)
               for c in MinimumBalanceCharge.objects.all()}
    assert charges == {
        middling.pk: (1_500_00, 50_00, 9_00, False),
        poor.pk: (50_00, 42_37, 7_63, True),
        liened.pk: (50_00, 33_89, 6_10, True),
    }
    for account in (middling, poor, liened, basic, dormant):
        account.ledger_account.refresh_from_db()
    balances = {a.pk: a.ledger_account.balance for a in (middling, poor, liened, basic, dormant)}
    assert balances == {middling.pk: 1_441_00, poor.pk: 0, liened.pk: 10_01, basic.pk: 0, dormant.pk: 10_00}
    assert gl_balance(MINIMUM_BALANCE_CHARGES) == 50_00 + 42_37 + 33_89
    assert gl_balance(GST_PAYABLE) == 9_00 + 7_63 + 6_10
    entry = JournalEntry.objects.get(pk=MinimumBalanceCharge.objects.get(account=middling).entry_id)
    assert entry.narration == ("Minimum balance charge for April 2027: average balance ₹1,500.00 against "
                               "₹2,000.00, ₹50.00 + GST ₹9.00")
    # Run again: no one is charged twice.
    before = Posting.objects.count()
    assert close_day(D(2027, 4, 30))[savings.CHARGES_STEP] == 0
    assert Posting.objects.count() == before


def test_an_account_opened_in_the_month_is_not_charged_for_it(bank):
    Product.objects.filter(code="SB").update(minimum_balance=2_000_00, minimum_balance_charge=100_00,
                                             minimum_balance_charge_rate=Decimal("10.00"))
    on(D(2027, 5, 10))
    late = bank.open_account(product="SB", deposit=1_000_00)
    close_days(D(2027, 5, 10), D(2027, 5, 31))
    assert SavingsAccrual.objects.get(account=late, date=D(2027, 5, 31)).month_days == 22
    assert not MinimumBalanceCharge.objects.exists()
    close_days(D(2027, 6, 1), D(2027, 6, 30))
    assert MinimumBalanceCharge.objects.get(account=late).charge == 100_00


def test_dormancy_warns_three_months_before_and_then_freezes_debits(bank):
    on(D(2027, 1, 10))
    account = bank.open_account(product="SB", deposit=5_000_00)
    active = bank.open_account(product="SB", deposit=5_000_00)
    type(account).objects.filter(pk=account.pk).update(last_customer_activity_on=D(2025, 4, 15))
    type(active).objects.filter(pk=active.pk).update(last_customer_activity_on=D(2026, 12, 1))

    assert savings.watch_dormancy(date=D(2027, 1, 14)) == 0  # 21 months come on 15 Jan
    assert savings.watch_dormancy(date=D(2027, 1, 15)) == 1
    (warning,) = mail.outbox
    assert warning.to == [account.customer.email]
    assert "will become inoperative on 15 April 2027" in warning.subject
    assert "since 15 April 2025" in warning.body and "Interest the bank credits" in warning.body
    notice = DormancyNotice.objects.get(account=account)
    assert (notice.active_since, notice.inoperative_on, notice.warned_on) == (
        D(2025, 4, 15), D(2027, 4, 15), D(2027, 1, 15))
    assert savings.watch_dormancy(date=D(2027, 2, 1)) == 0  # warned once
    assert len(mail.outbox) == 1

    # An interest credit is not the customer's doing: the account still goes dormant.
    on(D(2027, 3, 31))
    close_day(D(2027, 3, 31))
    account.refresh_from_db()
    assert account.last_customer_activity_on == D(2025, 4, 15)

    assert savings.watch_dormancy(date=D(2027, 4, 14)) == 0
    assert savings.watch_dormancy(date=D(2027, 4, 15)) == 1
    account.refresh_from_db(), active.refresh_from_db()
    assert account.status == DepositStatus.INOPERATIVE
    assert account.ledger_account.status == AccountStatus.DEBIT_FROZEN
    assert active.status == DepositStatus.ACTIVE
    event = AuditEvent.objects.filter(action="deposits.account_status", object_id=str(account.pk)).latest("id")
    assert event.after["status"] == "inoperative" and "since 15 Apr 2025" in event.after["reason"]
    assert savings.watch_dormancy(date=D(2027, 4, 16)) == 0


def test_a_customer_transaction_after_the_warning_starts_the_two_years_again(bank):
    on(D(2027, 1, 10))
    account = bank.open_account(product="SB", deposit=5_000_00)
    type(account).objects.filter(pk=account.pk).update(last_customer_activity_on=D(2025, 4, 15))
    assert savings.watch_dormancy(date=D(2027, 1, 15)) == 1
    type(account).objects.filter(pk=account.pk).update(last_customer_activity_on=D(2027, 2, 1))
    assert savings.watch_dormancy(date=D(2027, 4, 15)) == 0
    account.refresh_from_db()
    assert account.status == DepositStatus.ACTIVE
    assert savings.watch_dormancy(date=D(2028, 11, 1)) == 1  # 21 months after 1 Feb 2027: warned again
    assert len(mail.outbox) == 2


def test_accrual_refuses_to_skip_a_day(bank):
    on(D(2027, 1, 1))
    bank.open_account(product="SB", deposit=1_000_00)
    close_day(D(2027, 1, 1))
    with pytest.raises(ValidationFailed, match="02 Jan 2027 comes before 03 Jan 2027"):
        savings.accrue_savings_interest(date=D(2027, 1, 3))


def test_the_steps_take_their_places_in_the_day():
    places = {step.name: (step.order, step.partitions is not None) for step in registered()}
    assert places["ledger.release_expired_holds"] == (10, False)
    assert places[savings.ACCRUAL_STEP] == (40, True)
    assert places[savings.ACCRUAL_POSTING_STEP] == (45, False)
    assert places[savings.CREDIT_STEP] == (50, True)
    assert places[savings.CREDIT_ROUNDING_STEP] == (55, False)
    assert places[savings.DORMANCY_STEP] == (70, True)
    assert places[savings.CHARGES_STEP] == (80, True)
    steps = {step.name: step for step in registered()}
    assert [d for d in (D(2027, 3, 31), D(2027, 6, 30), D(2027, 9, 30), D(2027, 12, 31), D(2027, 3, 30),
                        D(2027, 4, 30)) if steps[savings.CREDIT_STEP].applies_on(d)] == [
        D(2027, 3, 31), D(2027, 6, 30), D(2027, 9, 30), D(2027, 12, 31)]
    assert steps[savings.CHARGES_STEP].applies_on(D(2028, 2, 29)) and not steps[savings.CHARGES_STEP].applies_on(
        D(2027, 2, 27))
    assert steps[savings.ACCRUAL_STEP].applies_on("2027-02-27")
