"""Closing a savings account between quarter ends credits it the interest accrued so
far, before the closing payout (savings.settle_interest_on_closing): the customer is
paid for every day the money stayed, and the GL's interest payable keeps equal to the
accruals not yet credited."""

import datetime

import pytest
from django.db.models import Sum

from banking.approvals.actions import approve_request
from banking.core.errors import ValidationFailed
from banking.deposits import actions, savings
from banking.deposits.models import DepositStatus, SavingsAccrual, SavingsCredit, SavingsInterestPayable
from banking.ledger.chart import SAVINGS_INTEREST_EXPENSE, SAVINGS_INTEREST_PAYABLE, SAVINGS_INTEREST_ROUNDING
from banking.ledger.models import JournalEntry, LedgerAccount, Posting

from .savings_days import close_day, close_days, gl_balance, on

pytestmark = pytest.mark.django_db

D = datetime.date


def assert_payable_is_the_accruals_not_yet_credited():
    """The GL's interest payable (2202) holds each product and branch's accruals not
    yet credited, rounded once; and those are the accounts' own: each one's last
    accrual less what a credit took of it that day."""
    books = list(SavingsInterestPayable.objects.all())
    assert gl_balance(SAVINGS_INTEREST_PAYABLE) == sum(savings.paise(book.accrued) for book in books)
    owed = {}
    for account_id in set(SavingsAccrual.objects.values_list("account_id", flat=True)):
        last = SavingsAccrual.objects.filter(account_id=account_id).latest("date")
        credit = SavingsCredit.objects.filter(account_id=account_id, date=last.date).first()
        key = (last.account.product_id, last.account.branch_id)
        owed[key] = owed.get(key, 0) + last.accrued - (credit.accrued if credit else 0)
    for book in books:
        assert book.accrued == owed.get((book.product_id, book.branch_id), 0)


def test_closing_mid_quarter_credits_the_interest_then_pays_it_out(bank):
    # ₹1,00,000 (10,000,000 paise) at 2.70% from 1 Jan 2027, closed on 15 Feb:
    #   10,000,000 × 2.70 ÷ 365 = 73,972.60 → 73,973 hundredths of a paisa a day
    #   1 Jan – 14 Feb, 45 days: 3,328,785 hundredths = 33,287.85 paise → ₹332.88.
    on(D(2027, 1, 1))
    account = bank.open_account(deposit=1_00_000_00)
    stays = bank.open_account(deposit=50_000_00)
    payout = bank.open_account("CA")
    close_days(D(2027, 1, 1), D(2027, 2, 14))
    assert SavingsAccrual.objects.get(account=account, date=D(2027, 2, 14)).accrued == 3_328_785
    payable_before = gl_balance(SAVINGS_INTEREST_PAYABLE)

    on(D(2027, 2, 15))
    request = actions.request_closure(actor=bank.teller, account=account, reason="Moving abroad", payout_to=payout)
    assert request.amount == 1_00_000_00 + 332_88  # what the checker approves: the balance and the interest
    approve_request(actor=bank.supervisor, request_id=request.pk)

    account.refresh_from_db()
    payout.refresh_from_db()
    assert account.status == DepositStatus.CLOSED and account.ledger_account.balance == 0
    assert payout.ledger_account.balance == 1_00_000_00 + 332_88
    credit = SavingsCredit.objects.get(account=account)
    assert (credit.date, credit.accrued, credit.amount) == (D(2027, 2, 14), 3_328_785, 332_88)
    entry = JournalEntry.objects.get(pk=credit.entry_id)
    assert entry.narration == "Interest credited on closing, up to 14 Feb 2027"
    # The interest came in before the payout, which carried it.
    interest_in = Posting.objects.get(entry=entry, account=account.ledger_account)
    payout_out = Posting.objects.filter(account=account.ledger_account, side="D").latest("id")
    assert interest_in.side == "C" and interest_in.amount == 332_88 and interest_in.id < payout_out.id
    assert payout_out.amount == 1_00_000_00 + 332_88
    # Interest payable gave up what it held for the account; the rest is the other one's.
    assert gl_balance(SAVINGS_INTEREST_PAYABLE) < payable_before
    assert_payable_is_the_accruals_not_yet_credited()

    # To the quarter's end and its credit: the closed account accrues and gets nothing more.
    close_days(D(2027, 2, 15), D(2027, 3, 31))
    assert not SavingsAccrual.objects.filter(account=account, date__gte=D(2027, 2, 15)).exists()
    assert SavingsCredit.objects.filter(account=account).count() == 1
    assert SavingsCredit.objects.filter(account=stays, date=D(2027, 3, 31)).exists()
    assert_payable_is_the_accruals_not_yet_credited()
    assert gl_balance(SAVINGS_INTEREST_PAYABLE) == 0  # every accrual credited, to the closed account too
    credited = SavingsCredit.objects.aggregate(s=Sum("amount"))["s"]
    assert gl_balance(SAVINGS_INTEREST_EXPENSE) == credited - gl_balance(SAVINGS_INTEREST_ROUNDING)
    signed = {side: LedgerAccount.objects.filter(normal_side=side).aggregate(s=Sum("balance"))["s"] or 0
              for side in "CD"}
    assert signed["C"] == signed["D"]  # the trial balance nets to zero


def test_closing_an_emptied_account_with_interest_due_needs_somewhere_to_pay_it(bank):
    on(D(2027, 1, 1))
    account = bank.open_account(deposit=10_000_00)
    close_days(D(2027, 1, 1), D(2027, 1, 10))
    on(D(2027, 1, 11))
    bank.withdraw(account, 10_000_00)
    entries = JournalEntry.objects.count()
    # 1,000,000 × 2.70 ÷ 365 = 7,397.26 → 7,397 a day; × 10 = 73,970 hundredths → ₹7.40
    with pytest.raises(ValidationFailed, match=r"credits it ₹7\.40 of interest accrued this quarter\. Choose"):
        actions.request_closure(actor=bank.teller, account=account, reason="Not needed")
    assert JournalEntry.objects.count() == entries
    other = bank.open_account("CA")
    request = actions.request_closure(actor=bank.teller, account=account, reason="Not needed", payout_to=other)
    approve_request(actor=bank.supervisor, request_id=request.pk)
    other.refresh_from_db()
    assert other.ledger_account.balance == 7_40
    assert_payable_is_the_accruals_not_yet_credited()


def test_an_account_that_never_accrued_closes_as_before(bank):
    account = bank.open_account()
    request = actions.request_closure(actor=bank.teller, account=account, reason="Opened by mistake")
    approve_request(actor=bank.supervisor, request_id=request.pk)
    account.refresh_from_db()
    assert account.is_closed
    assert not SavingsCredit.objects.exists()
    close_day(D(2027, 3, 31))
    assert_payable_is_the_accruals_not_yet_credited()
