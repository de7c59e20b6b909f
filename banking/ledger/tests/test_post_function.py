"""cbs_post_entry, the ledger's one posting engine, through its thin caller
`post_entry`: the rules as the design overview states them (an oracle written in
this test, from the words of DESIGN §2), the rows it writes, every refusal reaching
the caller in words, and an audit hash that verifies."""

import datetime

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from banking.audit.actions import seal_events, verify_trail
from banking.audit.models import AuditEvent
from banking.core.errors import (
    AccountClosed,
    AccountFrozen,
    AccountNotPostable,
    BankingError,
    CurrencyMismatch,
    IdempotencyConflict,
    InsufficientFunds,
    UnbalancedEntry,
)
from banking.ledger.actions import Line, place_hold, post_entry, set_account_status
from banking.ledger.chart import ensure_standard_chart
from banking.ledger.models import AccountStatus, AccountType, EntryKind, Hold, LedgerAccount, Posting
from banking.testing import make_user

from .helpers import customer_account, key, snapshot, transfer

pytestmark = pytest.mark.django_db

# Mostly postable accounts, so that most entries get as far as the balance rules.
account_states = st.fixed_dictionaries({
    "type": st.sampled_from([AccountType.LIABILITY, AccountType.ASSET]),
    "status": st.sampled_from([AccountStatus.ACTIVE] * 9 + [AccountStatus.DEBIT_FROZEN] * 3
                              + [AccountStatus.FROZEN, AccountStatus.CLOSED]),
    "is_header": st.sampled_from([False] * 19 + [True]),
    "currency": st.sampled_from(["INR"] * 19 + ["USD"]),
    "balance": st.integers(-5_000, 20_000),
    "held": st.sampled_from([0, 0, 1, 2_500, 5_000]) | st.integers(0, 5_000),
    "overdraft_limit": st.integers(0, 3_000),
    "min_balance": st.integers(0, 4_000),
    "enforce_balance": st.booleans(),
})
# Lines over accounts 0..2 (two on the same account allowed), balanced by a last line.
line_draws = st.lists(st.tuples(st.integers(0, 2), st.sampled_from("DC"), st.integers(1, 15_000)),
                      min_size=1, max_size=4)

ERRORS = {"header": AccountNotPostable, "currency": CurrencyMismatch, "closed": AccountClosed,
          "frozen": AccountFrozen, "debit_frozen": AccountFrozen, "insufficient": InsufficientFunds}


def _make(states):
    chart = ensure_standard_chart()
    accounts = []
    for state in states:
        if state["is_header"]:  # a header holds no money (a check constraint says so)
            state = {**state, "balance": 0, "held": 0}
        normal = "D" if state["type"] == AccountType.ASSET else "C"
        accounts.append(LedgerAccount.objects.create(code=f"T-{key()[:16]}", name="Parity", parent=chart["2110"],
                                                     normal_side=normal, **state))
    return accounts


def _balanced(draws, accounts):
    lines = [Line(accounts[i].pk, side, amount) for i, side, amount in draws]
    debits = sum(line.amount for line in lines if line.side == "D")
    credits = sum(line.amount for line in lines if line.side == "C")
    last = accounts[(draws[0][0] + 1) % len(accounts)].pk
    if debits > credits:
        lines.append(Line(last, "C", debits - credits))
    elif credits > debits:
        lines.append(Line(last, "D", credits - debits))
    else:
        lines.append(Line(last, "D", 1))
        lines.append(Line(accounts[draws[0][0]].pk, "C", 1))
    return lines


def _expected(lines):
    """The design's rules, applied by hand: the refusal of the lowest account that
    breaks one, or None and the balance after each line."""
    accounts = {a.pk: a for a in LedgerAccount.objects.filter(pk__in={line.account for line in lines})}
    for pk in sorted(accounts):
        account = accounts[pk]
        change = sum(account.signed(line.side, line.amount) for line in lines if line.account == pk)
        debited = any(line.side == "D" for line in lines if line.account == pk)
        if account.is_header:
            return "header", None
        if account.currency != "INR":
            return "currency", None
        if account.status in (AccountStatus.CLOSED, AccountStatus.FROZEN):
            return account.status, None
        if account.status == AccountStatus.DEBIT_FROZEN and debited:
            return "debit_frozen", None
        if account.enforce_balance and change < 0 and account.available + change < account.min_balance:
            return "insufficient", None
    afters = []
    for line in lines:
        account = accounts[line.account]
        account.balance += account.signed(line.side, line.amount)
        afters.append(account.balance)
    return None, afters


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(states=st.lists(account_states, min_size=3, max_size=3), draws=line_draws)
def test_the_engine_applies_the_rules_and_writes_the_balance_after_each_line(states, draws):
    with transaction.atomic():
        accounts = _make(states)
        lines = _balanced(draws, accounts)
        refusal, afters = _expected(lines)
        before = snapshot()
        try:
            entry = post_entry(actor=None, lines=lines, kind=EntryKind.TRANSFER, narration="Parity",
                               idempotency_key=key())
        except BankingError as error:
            assert refusal is not None, f"refused: {error}"
            assert type(error) is ERRORS[refusal]
            assert str(error)
            assert snapshot() == before
        else:
            assert refusal is None, f"posted, but the rules refuse it ({refusal})"
            postings = list(Posting.objects.filter(entry=entry).order_by("id"))
            assert [(p.account_id, p.side, p.amount) for p in postings] == [
                (line.account, line.side, line.amount) for line in lines]
            assert [p.balance_after for p in postings] == afters
            for account in accounts:
                mine = [p.balance_after for p in postings if p.account_id == account.pk]
                account_now = LedgerAccount.objects.get(pk=account.pk)
                assert account_now.balance == (mine[-1] if mine else account.balance)
                assert account_now.version == account.version + (1 if mine else 0)
        transaction.set_rollback(True)


def test_a_posting_is_one_statement(django_assert_num_queries):
    a, b = customer_account(10_000), customer_account()
    with django_assert_num_queries(0):  # the engine's statement goes to psycopg itself, prepared
        entry = transfer(a, b, 2_500)
    assert entry.pk and entry.number.startswith("JE")
    a.refresh_from_db(), b.refresh_from_db()
    assert (a.balance, b.balance) == (7_500, 2_500)


def test_a_retry_is_answered_by_the_engine_through_the_keys_index():
    """A retry writes nothing and gets the first entry back, even once the money has
    gone; a reused key with other lines is refused."""
    a, b = customer_account(10_000), customer_account()
    k = key()
    first = transfer(a, b, 10_000, idempotency_key=k)
    before = snapshot()
    assert transfer(a, b, 10_000, idempotency_key=k).pk == first.pk
    with pytest.raises(IdempotencyConflict, match="already made with different details"):
        transfer(a, b, 9_000, idempotency_key=k)
    with pytest.raises(IdempotencyConflict):  # would also be refused for want of money: the key speaks first
        transfer(a, b, 10_001, idempotency_key=k)
    assert snapshot() == before


def _refusals():
    """Each of the engine's refusals: (set-up, the error, the words the caller sees)."""

    def insufficient():
        a, b = customer_account(10_000, name="Asha Rao"), customer_account()
        place_hold(actor=make_user(), account=a, amount=2_500, reason="Lien")
        return [Line.debit(a, 8_000), Line.credit(b, 8_000)]

    def frozen():
        a, b = customer_account(10_000), customer_account(name="Asha Rao")
        set_account_status(actor=None, account=b, status=AccountStatus.FROZEN, reason="Court order")
        return [Line.debit(a, 100), Line.credit(b, 100)]

    def debit_frozen():
        a, b = customer_account(10_000, name="Asha Rao"), customer_account()
        set_account_status(actor=None, account=a, status=AccountStatus.DEBIT_FROZEN, reason="KYC lapsed")
        return [Line.debit(a, 100), Line.credit(b, 100)]

    def closed():
        a, b = customer_account(10_000), customer_account(name="Asha Rao")
        set_account_status(actor=None, account=b, status=AccountStatus.CLOSED, reason="Customer asked")
        return [Line.debit(a, 100), Line.credit(b, 100)]

    def header():
        return [Line.debit(customer_account(10_000), 100), Line.credit(ensure_standard_chart()["2110"], 100)]

    def unbalanced():
        return [Line.debit(customer_account(10_000), 100), Line.credit(customer_account(), 99)]

    def one_sided():
        return [Line.debit(customer_account(10_000), 100), Line.debit(customer_account(10_000), 100)]

    def currency():
        a = customer_account(10_000)
        b = customer_account(name="Asha Rao")
        LedgerAccount.objects.filter(pk=b.pk).update(currency="USD")
        return [Line.debit(a, 100), Line.credit(b, 100)]

    return [
        (insufficient, InsufficientFunds,
         r"Asha Rao \(.*\) has ₹75.00 available, less than ₹80.00"),
        (frozen, AccountFrozen, r"Asha Rao \(.*\) is frozen: no debits or credits"),
        (debit_frozen, AccountFrozen, r"Asha Rao \(.*\) has a debit freeze: only credits are allowed"),
        (closed, AccountClosed, r"Asha Rao \(.*\) is closed"),
        (header, AccountNotPostable, r"is a header account; post to one of its detail accounts"),
        (unbalanced, UnbalancedEntry, r"Debits \(₹1.00\) and credits \(₹0.99\) differ by ₹0.01"),
        (one_sided, UnbalancedEntry, r"An entry needs at least one debit and one credit"),
        (currency, CurrencyMismatch, r"is kept in USD, not INR"),
    ]


@pytest.mark.parametrize("make_lines,error,words", _refusals(), ids=lambda value: getattr(value, "__name__", ""))
def test_every_refusal_reaches_the_caller_in_words_and_writes_nothing(make_lines, error, words):
    lines = make_lines()
    before = snapshot()
    with pytest.raises(error, match=words):
        post_entry(actor=None, lines=lines, kind=EntryKind.TRANSFER, narration="Refused", idempotency_key=key())
    assert snapshot() == before


def test_expired_holds_are_released_only_when_they_are_what_stands_in_the_way():
    user = make_user()
    a, b = customer_account(10_000), customer_account()
    expired = place_hold(actor=user, account=a, amount=3_000, reason="Cheque in clearing",
                         expires_at=timezone.now() + datetime.timedelta(minutes=1))
    live = place_hold(actor=user, account=a, amount=5_000, reason="Lien for loan")
    Hold.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))

    with pytest.raises(InsufficientFunds, match="₹20.00 available"):  # even without the expired hold: ₹50 < ₹60
        transfer(a, b, 6_000)
    expired.refresh_from_db()
    assert expired.released_at is None

    transfer(a, b, 4_000)  # ₹50 available once the expired hold stops counting
    expired.refresh_from_db(), live.refresh_from_db(), a.refresh_from_db()
    assert expired.released_at is not None and expired.release_reason == "Expired"
    assert live.released_at is None
    assert (a.balance, a.held) == (6_000, 5_000)
    assert AuditEvent.objects.filter(action="ledger.hold_released", object_id=str(expired.pk)).exists()


def test_the_event_hash_made_in_the_database_verifies():
    a, b = customer_account(10_000), customer_account()
    narration = 'Rent "May" ₹ नमस्ते \\u0000 "object_id":"\\u0000" \\ end'
    entry = post_entry(actor=None, lines=[Line.debit(a, 700), Line.credit(b, 700)], kind=EntryKind.TRANSFER,
                       narration=narration, idempotency_key=key())
    event = AuditEvent.objects.get(action="ledger.entry_posted", object_id=str(entry.pk))
    assert event.summary.startswith(f"Transfer: {narration}")
    assert event.content_hash == AuditEvent.objects.with_recomputed_hash().get(pk=event.pk).recomputed_hash
    seal_events()
    assert verify_trail() is None


@pytest.mark.parametrize("missing", ["one", "all"])
def test_an_account_that_does_not_exist_is_refused_in_words(missing):
    a = customer_account(1_000)
    lines = [Line.debit(a, 10), Line.credit(999_999_999, 10)] if missing == "one" else [
        Line.debit(999_999_998, 10), Line.credit(999_999_999, 10)]
    with pytest.raises(AccountNotPostable, match="no ledger account with id 99999999"):
        post_entry(actor=None, lines=lines, kind=EntryKind.TRANSFER, narration="Nowhere", idempotency_key=key())
