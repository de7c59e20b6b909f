"""cbs_post_entry, the posting action's one-statement path on PostgreSQL, against the
step-by-step path in actions.py: the same decisions, the same rows, an audit hash
that verifies."""

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from banking.audit.actions import seal_events, verify_trail
from banking.audit.models import AuditEvent
from banking.core.errors import AccountNotPostable, BankingError, IdempotencyConflict
from banking.ledger import actions
from banking.ledger.actions import Line, _content_hash, _normalise, post_entry
from banking.ledger.chart import ensure_standard_chart
from banking.ledger.models import AccountStatus, AccountType, EntryKind, LedgerAccount, Posting

from .helpers import customer_account, key, snapshot, transfer

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="cbs_post_entry is PostgreSQL's"),
]

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


def _make(states):
    chart = ensure_standard_chart()
    accounts = []
    for state in states:
        if state["is_header"]:  # a header holds no money (a check constraint says so)
            state = {**state, "balance": 0, "held": 0}
        accounts.append(LedgerAccount.objects.create(code=f"T-{key()[:16]}", name="Parity", parent=chart["2110"],
                                                     **state))
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


def _python_decision(lines):
    """What the step-by-step path decides, and the balance after each line."""
    accounts = {a.pk: a for a in LedgerAccount.objects.filter(pk__in={line.account for line in lines})}
    try:
        actions._check_rules(accounts, lines, "INR", None)
    except BankingError:
        return "refused", None
    afters = []
    for line in lines:
        account = accounts[line.account]
        account.balance += account.signed(line.side, line.amount)
        afters.append(account.balance)
    return "posted", afters


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(states=st.lists(account_states, min_size=3, max_size=3), draws=line_draws)
def test_the_function_and_the_python_rules_decide_alike(states, draws):
    with transaction.atomic():
        accounts = _make(states)
        lines, total = _normalise(_balanced(draws, accounts), "INR")
        expected, afters = _python_decision(lines)
        entry = actions._post_in_one_call(
            lines, total, actor=None, kind=EntryKind.TRANSFER, narration="Parity", channel="system",
            currency="INR", checker=None, reference="", reversal_of=None, idempotency_key=key(),
            content_hash=_content_hash(lines, EntryKind.TRANSFER, "INR", None))
        assert ("refused" if entry is None else "posted") == expected
        if entry is not None:
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


def test_a_posting_that_passes_the_rules_takes_one_statement(monkeypatch):
    a, b = customer_account(10_000), customer_account()

    def step_by_step(*args, **kwargs):
        raise AssertionError("the step-by-step path ran")

    monkeypatch.setattr(actions, "_lock_accounts", step_by_step)
    entry = transfer(a, b, 2_500)
    assert entry.pk and entry.number.startswith("JE")
    a.refresh_from_db(), b.refresh_from_db()
    assert (a.balance, b.balance) == (7_500, 2_500)


def test_a_retry_is_answered_by_the_function_through_the_keys_index(monkeypatch):
    """The function looks the key up only by inserting under it: a retry writes
    nothing and gets the first entry back, a reused key with other lines is refused."""
    a, b = customer_account(10_000), customer_account()
    k = key()
    first = transfer(a, b, 2_500, idempotency_key=k)
    monkeypatch.setattr(actions, "_lock_accounts", lambda ids: pytest.fail("the step-by-step path ran"))
    before = snapshot()
    assert transfer(a, b, 2_500, idempotency_key=k).pk == first.pk
    with pytest.raises(IdempotencyConflict):
        transfer(a, b, 2_600, idempotency_key=k)
    assert snapshot() == before


def test_a_refusal_goes_the_step_by_step_way_and_writes_nothing(monkeypatch):
    a, b = customer_account(1_000), customer_account()
    calls = []
    original = actions._lock_accounts
    monkeypatch.setattr(actions, "_lock_accounts", lambda ids: calls.append(ids) or original(ids))
    with pytest.raises(BankingError, match="available"):
        transfer(a, b, 1_001)
    assert calls == [{a.pk, b.pk}]
    assert not Posting.objects.filter(account__in=[a, b]).exclude(entry__kind=EntryKind.OPENING).exists()


def test_the_event_hash_made_in_the_database_verifies():
    a, b = customer_account(10_000), customer_account()
    narration = 'Rent "May" ₹ नमस्ते \\u0000 "object_id":"\\u0000" \\ end'
    entry = post_entry(actor=None, lines=[Line.debit(a, 700), Line.credit(b, 700)], kind=EntryKind.TRANSFER,
                       narration=narration, idempotency_key=key())
    event = AuditEvent.objects.get(action="ledger.entry_posted", object_id=str(entry.pk))
    assert event.summary.startswith(f"Transfer: {narration}")
    assert event.content_hash == event.compute_hash()
    seal_events()
    assert verify_trail() is None


@pytest.mark.parametrize("missing", ["one", "all"])
def test_an_account_that_does_not_exist_is_refused_in_words(missing):
    a = customer_account(1_000)
    lines = [Line.debit(a, 10), Line.credit(999_999_999, 10)] if missing == "one" else [
        Line.debit(999_999_998, 10), Line.credit(999_999_999, 10)]
    with pytest.raises(AccountNotPostable, match="no ledger account"):
        post_entry(actor=None, lines=lines, kind=EntryKind.TRANSFER, narration="Nowhere", idempotency_key=key())
