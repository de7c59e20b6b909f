"""Properties of the savings and current steps over random days of activity (deposits,
withdrawals, liens, freezes) from 1 March to 1 April 2027, a month end and a
quarter end included, each day followed by end of day:
- money is conserved: the trial balance nets to zero, customers hold what they paid
  in and took out plus the interest credited less the charges, and the interest
  expense is what payable holds plus what was credited less the rounding;
- the GL's interest payable for savings is the accruals not yet credited, per product
  and branch, rounded half-up once (and those figures are the accounts' own);
- no charge takes an account below zero;
- running a day's steps a second time changes nothing.
Each example runs in a transaction that is rolled back."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models import F, Q, Sum
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from banking.core.errors import BankingError
from banking.deposits import savings
from banking.deposits.actions import mark_inoperative
from banking.deposits.models import (
    BalanceSlab,
    DepositStatus,
    MinimumBalanceCharge,
    Product,
    SavingsAccrual,
    SavingsCredit,
    SavingsInterestPayable,
)
from banking.ledger.actions import Line, place_hold, post_entry, set_account_status
from banking.ledger.chart import (
    SAVINGS_INTEREST_EXPENSE,
    SAVINGS_INTEREST_PAYABLE,
    SAVINGS_INTEREST_ROUNDING,
    SHARE_CAPITAL,
)
from banking.ledger.models import AccountStatus, EntryKind, JournalEntry, LedgerAccount, Posting

from .factories import key
from .savings_days import close_day, days, gl_balance, on

pytestmark = pytest.mark.django_db

FIRST, LAST = datetime.date(2027, 3, 1), datetime.date(2027, 4, 1)
PRODUCTS = ["SB", "SBP", "BSBDA", "CA"]

accounts = st.lists(st.tuples(st.sampled_from(PRODUCTS), st.sampled_from([0, 300_00, 1_900_00, 25_000_00])
                              | st.integers(0, 12_00_000_00)), min_size=2, max_size=4)
activity = st.lists(st.tuples(
    st.integers(0, (LAST - FIRST).days),  # the day
    st.integers(0, 3),  # the account (modulo how many there are)
    st.sampled_from(["deposit", "withdraw", "withdraw", "hold", "freeze", "inoperative"]),
    st.integers(1, 3_00_000_00),
), max_size=12)


def _products():
    Product.objects.filter(code="SB").update(minimum_balance=2_000_00, minimum_balance_charge=100_00,
                                             minimum_balance_charge_rate=Decimal("10.00"))
    Product.objects.filter(code="CA").update(minimum_balance=10_000_00, minimum_balance_charge=500_00,
                                             minimum_balance_charge_rate=Decimal("10.00"),
                                             interest_rate=Decimal("0.50"))
    plus = Product.objects.create(code="SBP", name="Savings Plus", kind="savings", control_gl_code="2110",
                                  interest_rate=Decimal("3.50"), minimum_balance=5_000_00,
                                  minimum_balance_charge=250_00, minimum_balance_charge_rate=Decimal("5.00"))
    BalanceSlab.objects.create(product=plus, up_to=10_00_000_00, rate=Decimal("3.00"))


def _own_movements(ledger_ids):
    """What customers paid in less what they took out, by their own transfers."""
    capital = LedgerAccount.objects.get(code=SHARE_CAPITAL)
    moved = Posting.objects.filter(account_id__in=ledger_ids, entry__postings__account=capital)
    credits = moved.filter(side="C").aggregate(s=Sum("amount"))["s"] or 0
    debits = moved.filter(side="D").aggregate(s=Sum("amount"))["s"] or 0
    return credits - debits


def _state():
    return (
        JournalEntry.objects.count(), Posting.objects.count(),
        tuple(LedgerAccount.objects.order_by("pk").values_list("balance", "held", "status")),
        tuple(SavingsAccrual.objects.order_by("date", "account").values_list("interest", "accrued", "month_total")),
        tuple(SavingsCredit.objects.order_by("date", "account").values_list("amount")),
        tuple(MinimumBalanceCharge.objects.order_by("date", "account").values_list("charge", "gst")),
        tuple(SavingsInterestPayable.objects.order_by("pk").values_list("accrued", "accrued_through",
                                                                        "credited_through")),
    )


def _check_payable():
    """The GL holds each product and branch's accruals not yet credited, rounded once;
    and those are the accounts' own: each one's last accrual less what was credited
    of it that day."""
    books = list(SavingsInterestPayable.objects.all())
    assert gl_balance(SAVINGS_INTEREST_PAYABLE) == sum(savings.paise(book.accrued) for book in books)
    for book in books:
        owed = 0
        for account_id in set(SavingsAccrual.objects.filter(account__product=book.product_id,
                                                            account__branch=book.branch_id).values_list(
                "account_id", flat=True)):
            last = SavingsAccrual.objects.filter(account_id=account_id).latest("date")
            credited = SavingsCredit.objects.filter(account_id=account_id, date=last.date).first()
            owed += last.accrued - (credited.accrued if credited else 0)
        assert book.accrued == owed


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(opened=accounts, business=activity)
def test_money_is_conserved_payable_follows_accruals_no_charge_below_zero_and_a_rerun_changes_nothing(
        bank, opened, business):
    with transaction.atomic():
        _products()
        on(FIRST - datetime.timedelta(days=1))
        made = [bank.open_account(product=product, deposit=deposit) for product, deposit in opened]
        ledger_ids = [a.ledger_account_id for a in made]
        capital = LedgerAccount.objects.get(code=SHARE_CAPITAL)
        todo = {}
        for day, index, what, amount in business:
            todo.setdefault(FIRST + datetime.timedelta(days=day), []).append((made[index % len(made)], what, amount))

        for day in days(FIRST, LAST):
            on(day)
            for account, what, amount in todo.get(day, []):
                account.refresh_from_db()
                try:
                    if what == "deposit":
                        post_entry(actor=None, kind=EntryKind.TRANSFER, narration="Paid in", idempotency_key=key(),
                                   lines=[Line.debit(capital, amount), Line.credit(account.ledger_account, amount)])
                    elif what == "withdraw":
                        post_entry(actor=None, kind=EntryKind.TRANSFER, narration="Taken out", idempotency_key=key(),
                                   lines=[Line.debit(account.ledger_account, amount // 10),
                                          Line.credit(capital, amount // 10)])
                    elif what == "hold":
                        place_hold(actor=bank.teller, account=account.ledger_account, amount=amount // 50,
                                   reason="Lien")
                    elif what == "freeze" and account.status == DepositStatus.ACTIVE:
                        set_account_status(actor=None, account=account.ledger_account, status=AccountStatus.FROZEN,
                                           reason="Court order")
                        type(account).objects.filter(pk=account.pk).update(status=DepositStatus.FROZEN)
                    elif what == "inoperative" and account.status == DepositStatus.ACTIVE:
                        mark_inoperative(actor=None, account=account)
                except BankingError:
                    pass
            close_day(day, size=1 + day.day % 3)
            first_run = _state()
            assert close_day(day, size=2 + day.day % 2) is not None
            assert _state() == first_run  # a second run of the day changes nothing

            _check_payable()
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # every entry balances, as at commit
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")

        # The trial balance nets to zero.
        signed = LedgerAccount.objects.aggregate(c=Sum("balance", filter=Q(normal_side="C")),
                                                 d=Sum("balance", filter=Q(normal_side="D")))
        assert (signed["c"] or 0) == (signed["d"] or 0)
        # Customers hold what they moved themselves, plus interest, less charges.
        credited = SavingsCredit.objects.aggregate(s=Sum("amount"))["s"] or 0
        charged = MinimumBalanceCharge.objects.aggregate(s=Sum(F("charge") + F("gst")))["s"] or 0
        held_now = LedgerAccount.objects.filter(pk__in=ledger_ids).aggregate(s=Sum("balance"))["s"]
        assert held_now == _own_movements(ledger_ids) + credited - charged
        # Interest expense = still payable + credited − rounding.
        assert gl_balance(SAVINGS_INTEREST_EXPENSE) == (gl_balance(SAVINGS_INTEREST_PAYABLE) + credited
                                                        - gl_balance(SAVINGS_INTEREST_ROUNDING))
        # No charge took an account below zero, nor into money under a lien.
        for charge in MinimumBalanceCharge.objects.all():
            posting = Posting.objects.get(entry_id=charge.entry_id, side="D")
            assert posting.balance_after >= 0
            assert posting.amount == charge.charge + charge.gst
        event(f"charged: {bool(charged)}")
        event(f"rounding posted: {gl_balance(SAVINGS_INTEREST_ROUNDING) != 0}")
        # Every account accrued every day, frozen and inoperative ones included.
        for account in made:
            assert SavingsAccrual.objects.filter(account=account).count() == (LAST - FIRST).days + 1
        transaction.set_rollback(True)
