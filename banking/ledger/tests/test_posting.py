import datetime
import importlib
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone

from banking.audit.models import AuditEvent
from banking.core.errors import (
    AccountClosed,
    AccountFrozen,
    AccountNotPostable,
    AlreadyReversed,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidAmount,
    UnbalancedEntry,
)
from banking.core.money import Money
from banking.ledger.actions import (
    Line,
    advance_business_date,
    place_hold,
    post_entry,
    release_expired_holds,
    release_hold,
    reverse_entry,
    set_account_status,
)
from banking.ledger.chart import ensure_standard_chart
from banking.ledger.models import AccountStatus, BusinessDate, EntryKind, LedgerAccount
from banking.ledger.queries import latest_postings, statement, trial_balance
from banking.testing import make_user

from .helpers import customer_account, key, snapshot, transfer

pytestmark = pytest.mark.django_db


def test_transfer_moves_money_and_records_balances():
    a, b = customer_account(100_000), customer_account(0)
    entry = transfer(a, b, 40_000)
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.balance, b.balance) == (60_000, 40_000)
    assert [(p.account_id, p.side, p.amount, p.balance_after) for p in entry.postings.order_by("id")] == [
        (a.pk, "D", 40_000, 60_000),
        (b.pk, "C", 40_000, 40_000),
    ]
    assert entry.business_date == BusinessDate.objects.current()
    assert AuditEvent.objects.filter(action="ledger.entry_posted", object_id=str(entry.pk)).exists()


@pytest.mark.parametrize(
    "lines_factory,error",
    [
        (lambda a, b: [Line.debit(a, 100), Line.credit(b, 99)], UnbalancedEntry),
        (lambda a, b: [Line.debit(a, 100)], UnbalancedEntry),
        (lambda a, b: [Line.debit(a, 0), Line.credit(b, 0)], InvalidAmount),
        (lambda a, b: [Line.debit(a, -5), Line.credit(b, -5)], InvalidAmount),
        (lambda a, b: [Line.debit(a, Decimal("1.5")), Line.credit(b, Decimal("1.5"))], InvalidAmount),
    ],
)
def test_bad_entries_are_refused_and_write_nothing(lines_factory, error):
    a, b = customer_account(10_000), customer_account(0)
    before = snapshot()
    with pytest.raises(error) as caught:
        post_entry(actor=None, lines=lines_factory(a, b), kind=EntryKind.TRANSFER, narration="x",
                   idempotency_key=key())
    assert str(caught.value)
    assert snapshot() == before


def test_three_decimals_never_become_an_amount():
    with pytest.raises(InvalidAmount):
        Money.parse("10.005")


def test_header_account_is_refused():
    chart = ensure_standard_chart()
    a = customer_account(10_000)
    before = snapshot()
    with pytest.raises(AccountNotPostable, match="header"):
        transfer(a, chart["2110"], 100)
    assert snapshot() == before


def test_closed_account_is_refused():
    a, b = customer_account(10_000), customer_account(0)
    set_account_status(actor=None, account=b, status=AccountStatus.CLOSED, reason="customer request")
    before = snapshot()
    with pytest.raises(AccountClosed):
        transfer(a, b, 100)
    assert snapshot() == before


def test_closing_needs_a_zero_balance():
    a = customer_account(10_000)
    with pytest.raises(Exception, match="pay it out"):
        set_account_status(actor=None, account=a, status=AccountStatus.CLOSED, reason="x")


def test_total_freeze_refuses_both_sides():
    a, b = customer_account(10_000), customer_account(10_000)
    set_account_status(actor=None, account=a, status=AccountStatus.FROZEN, reason="court order")
    with pytest.raises(AccountFrozen):
        transfer(a, b, 100)
    with pytest.raises(AccountFrozen):
        transfer(b, a, 100)


def test_debit_freeze_refuses_debits_and_allows_credits():
    a, b = customer_account(10_000), customer_account(10_000)
    set_account_status(actor=None, account=a, status=AccountStatus.DEBIT_FROZEN, reason="KYC lapsed")
    with pytest.raises(AccountFrozen, match="only credits"):
        transfer(a, b, 100)
    transfer(b, a, 100)
    a.refresh_from_db()
    assert a.balance == 10_100


def test_insufficient_funds_are_refused_with_the_available_balance():
    a, b = customer_account(10_000), customer_account(0)
    before = snapshot()
    with pytest.raises(InsufficientFunds, match="₹100.00 available"):
        transfer(a, b, 10_001)
    assert snapshot() == before


def test_overdraft_extends_and_minimum_balance_restricts_available():
    od = customer_account(0, product="2120", overdraft=50_000)
    minimum = customer_account(100_000, min_balance=50_000)
    sink = customer_account(0)
    transfer(od, sink, 50_000)
    with pytest.raises(InsufficientFunds):
        transfer(od, sink, 1)
    transfer(minimum, sink, 50_000)
    with pytest.raises(InsufficientFunds):
        transfer(minimum, sink, 1)


def test_same_key_same_content_posts_once():
    a, b = customer_account(10_000), customer_account(0)
    k = key()
    first = transfer(a, b, 5_000, idempotency_key=k)
    second = transfer(a, b, 5_000, idempotency_key=k)
    assert first.pk == second.pk
    a.refresh_from_db()
    assert a.balance == 5_000


def test_retry_after_the_money_is_gone_still_returns_the_first_entry():
    a, b = customer_account(5_000), customer_account(0)
    k = key()
    first = transfer(a, b, 5_000, idempotency_key=k)
    assert transfer(a, b, 5_000, idempotency_key=k).pk == first.pk


def test_same_key_other_content_is_refused():
    a, b = customer_account(10_000), customer_account(0)
    k = key()
    transfer(a, b, 5_000, idempotency_key=k)
    before = snapshot()
    with pytest.raises(IdempotencyConflict):
        transfer(a, b, 6_000, idempotency_key=k)
    assert snapshot() == before


def test_reversal_restores_balances_and_links_entries():
    a, b = customer_account(10_000), customer_account(0)
    entry = transfer(a, b, 4_000)
    reversal = reverse_entry(actor=None, entry=entry, idempotency_key=key())
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.balance, b.balance) == (10_000, 0)
    assert reversal.reversal_of_id == entry.pk
    entry.refresh_from_db()
    assert entry.is_reversed


def test_an_entry_is_reversed_only_once():
    a, b = customer_account(10_000), customer_account(0)
    entry = transfer(a, b, 4_000)
    reversal = reverse_entry(actor=None, entry=entry, idempotency_key=key())
    before = snapshot()
    with pytest.raises(AlreadyReversed):
        reverse_entry(actor=None, entry=entry, idempotency_key=key())
    with pytest.raises(AlreadyReversed):
        reverse_entry(actor=None, entry=reversal, idempotency_key=key())
    assert snapshot() == before


def test_holds_reduce_available_and_release_restores_it():
    user = make_user()
    a, b = customer_account(10_000), customer_account(0)
    hold = place_hold(actor=user, account=a, amount=8_000, reason="Lien for loan")
    a.refresh_from_db()
    assert a.available == 2_000
    with pytest.raises(InsufficientFunds):
        transfer(a, b, 2_001)
    release_hold(actor=user, hold=hold, reason="Loan closed")
    a.refresh_from_db()
    assert (a.held, a.available) == (0, 10_000)


def test_an_expired_hold_no_longer_blocks_a_debit():
    user = make_user()
    a, b = customer_account(10_000), customer_account(0)
    hold = place_hold(actor=user, account=a, amount=8_000, reason="Cheque in clearing",
                      expires_at=timezone.now() + datetime.timedelta(seconds=1))
    from banking.ledger.models import Hold

    Hold.objects.filter(pk=hold.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    transfer(a, b, 9_000)
    a.refresh_from_db()
    assert a.held == 0 and a.balance == 1_000


def test_release_expired_holds_sweeps():
    user = make_user()
    a = customer_account(10_000)
    place_hold(actor=user, account=a, amount=1_000, reason="x",
               expires_at=timezone.now() + datetime.timedelta(minutes=1))
    assert release_expired_holds(actor=None, now=timezone.now() + datetime.timedelta(minutes=2)) == 1
    a.refresh_from_db()
    assert a.held == 0


def test_statement_opening_plus_movements_is_closing_and_as_of_dates():
    a, b = customer_account(10_000), customer_account(0)
    day1 = BusinessDate.objects.current()
    transfer(a, b, 1_000)
    advance_business_date(actor=None)
    transfer(a, b, 2_000)
    transfer(b, a, 500)
    day2 = BusinessDate.objects.current()
    assert a.balance_as_of(day1) == 9_000
    assert a.balance_as_of(day2) == 7_500
    st = statement(a, day2, day2)
    assert st.opening == 9_000
    assert st.opening - st.total_debits + st.total_credits == st.closing == 7_500
    assert [p.balance_after for p in st.lines] == [7_000, 7_500]


def test_latest_postings_of_several_accounts(django_assert_max_num_queries):
    a, b, quiet = customer_account(10_000), customer_account(0), customer_account(0)
    transfer(a, b, 1_000)
    advance_business_date(actor=None)
    for amount in (100, 200, 300):
        transfer(a, b, amount)
    with django_assert_max_num_queries(2):
        latest = latest_postings([a.pk, b.pk, quiet.pk, a.pk, None], 3)
        amounts = {account: [p.amount for p in rows] for account, rows in latest.items()}
        narrations = {p.entry.narration for rows in latest.values() for p in rows}
    assert amounts == {a.pk: [300, 200, 100], b.pk: [300, 200, 100], quiet.pk: []}
    assert narrations == {"Transfer"}
    assert [p.balance_after for p in latest_postings([a.pk], 5)[a.pk]] == [8_400, 8_700, 8_900, 9_000, 10_000]
    assert latest_postings([], 5) == {}


def test_trial_balance_nets_to_zero_now_and_as_of():
    a, b = customer_account(10_000), customer_account(0)
    transfer(a, b, 1_000)
    day = BusinessDate.objects.current()
    advance_business_date(actor=None)
    transfer(b, a, 300)
    now = trial_balance()
    then = trial_balance(day)
    assert now.difference == 0 and now.total_debit > 0
    assert then.difference == 0
    debit_normal = LedgerAccount.objects.filter(normal_side="D").aggregate(s=Sum("balance"))["s"]
    credit_normal = LedgerAccount.objects.filter(normal_side="C").aggregate(s=Sum("balance"))["s"]
    assert debit_normal == credit_normal


def test_trial_balance_as_of_a_past_date_shows_each_accounts_balance_then():
    chart = ensure_standard_chart()
    a, b = customer_account(10_000), customer_account(0, product="2120")
    transfer(a, b, 1_000)
    day1 = BusinessDate.objects.current()
    advance_business_date(actor=None)
    transfer(b, a, 300)
    customer_account(2_500)
    post_entry(actor=None, lines=[Line.debit(chart["1901"], 700), Line.credit(chart["3100"], 700)],
               kind=EntryKind.MANUAL, narration="Suspense", idempotency_key=key())

    watched = {"2110", "2120", "3100", "1901"}

    def balances(report):
        return {row.account.code: row.balance for row in report.rows if row.account.code in watched}

    then, now = trial_balance(day1), trial_balance()
    assert then.as_of == day1
    assert balances(then) == {"2110": 9_000, "2120": 1_000, "3100": -10_000, "1901": 0}
    assert balances(now) == {"2110": 11_800, "2120": 700, "3100": -11_800, "1901": 700}
    assert (then.total_debit, then.difference) == (10_000, 0)
    assert balances(trial_balance(day1 - datetime.timedelta(days=1))) == dict.fromkeys(watched, 0)


def test_a_migration_sets_the_business_date_and_leaves_a_set_one_alone():
    from django.apps import apps
    from django.db import connection
    from django.db.migrations.recorder import MigrationRecorder

    migration = importlib.import_module("banking.ledger.migrations.0009_business_date_row")
    assert ("ledger", "0009_business_date_row") in MigrationRecorder(connection).applied_migrations()
    BusinessDate.objects.all().delete()
    migration.create_business_date(apps, None)
    assert BusinessDate.objects.get(pk=1).date == timezone.localdate()
    BusinessDate.objects.filter(pk=1).update(date=datetime.date(2026, 3, 31))
    migration.create_business_date(apps, None)
    assert BusinessDate.objects.current() == datetime.date(2026, 3, 31)


def test_business_date_never_moves_backwards():
    today = BusinessDate.objects.current()
    advance_business_date(actor=None)
    from banking.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        advance_business_date(actor=None, to=today)
