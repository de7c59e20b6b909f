"""Properties of money, for any sequence of postings, reversals, holds and their
releases (refused ones included): debits equal credits, no debit takes an available
balance below its rule, a reversal restores the balances, a retry with the same key
posts once, and a refused entry leaves the database unchanged.

The whole sequence runs in one transaction that is rolled back at the end, so the
database's deferred balance check is made to run after every step (SET CONSTRAINTS
ALL IMMEDIATE), as a commit would run it."""

import uuid

import pytest
from django.db import connection, transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from banking.core.errors import BankingError
from banking.ledger.actions import Line, place_hold, post_entry, release_hold, reverse_entry
from banking.ledger.models import EntryKind, Hold, JournalEntry, LedgerAccount, Posting
from banking.testing import make_user
from banking.users.roles import Role

from .helpers import customer_account

N_ACCOUNTS = 5

operation = st.one_of(
    st.tuples(
        st.just("transfer"),
        st.integers(0, N_ACCOUNTS - 1),
        st.integers(0, N_ACCOUNTS - 1),
        st.integers(-100, 60_000),
        st.booleans(),  # retry with the same key
    ),
    st.tuples(st.just("reverse"), st.integers(0, 50), st.just(0), st.just(0), st.just(False)),
    st.tuples(st.just("hold"), st.integers(0, N_ACCOUNTS - 1), st.just(0), st.integers(-100, 60_000), st.just(False)),
    st.tuples(st.just("release"), st.integers(0, 50), st.just(0), st.just(0), st.just(False)),
)


def check_deferred_constraints():
    """Run the database's deferred checks now (the balance of every entry so far),
    as a commit would, and defer them again."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def state():
    return (
        JournalEntry.objects.count(),
        Posting.objects.count(),
        tuple(LedgerAccount.objects.order_by("pk").values_list("balance", "held")),
        tuple(Hold.objects.order_by("pk").values_list("amount", "released_at")),
    )


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(openings=st.lists(st.integers(0, 100_000), min_size=N_ACCOUNTS, max_size=N_ACCOUNTS),
       overdraft=st.integers(0, 20_000),
       operations=st.lists(operation, max_size=25))
def test_money_is_never_created_or_lost(openings, overdraft, operations):
    with transaction.atomic():
        accounts = [customer_account(amount, overdraft=overdraft if i == 0 else 0)
                    for i, amount in enumerate(openings)]
        officer = make_user(Role.OPERATIONS, mfa=False)
        entries, holds = [], []
        for kind, i, j, amount, retry in operations:
            before = state()
            try:
                if kind == "transfer":
                    k = uuid.uuid4().hex
                    lines = [Line.debit(accounts[i], amount), Line.credit(accounts[j], amount)]
                    entry = post_entry(actor=None, lines=lines, kind=EntryKind.TRANSFER, narration="t",
                                       idempotency_key=k)
                    if retry:
                        after_first = state()
                        again = post_entry(actor=None, lines=lines, kind=EntryKind.TRANSFER, narration="t",
                                           idempotency_key=k)
                        assert again.pk == entry.pk
                        assert state() == after_first
                    entries.append(entry)
                    # the debit left the source within its rule, holds counted
                    source = LedgerAccount.objects.get(pk=accounts[i].pk)
                    assert i == j or source.available >= source.min_balance
                elif kind == "reverse" and entries:
                    target = entries[i % len(entries)]
                    balances = dict(LedgerAccount.objects.values_list("pk", "balance"))
                    reversal = reverse_entry(actor=None, entry=target, idempotency_key=uuid.uuid4().hex)
                    # the mirror of the entry: each posting on the other side, same account and amount
                    mirrored = sorted((p.account_id, "C" if p.side == "D" else "D", p.amount)
                                      for p in target.postings.all())
                    assert sorted(reversal.postings.values_list("account_id", "side", "amount")) == mirrored
                    moved = {}
                    for p in target.postings.select_related("account"):
                        moved[p.account_id] = moved.get(p.account_id, 0) + p.account.signed(p.side, p.amount)
                    for account_id, change in moved.items():
                        assert LedgerAccount.objects.get(pk=account_id).balance == balances[account_id] - change
                    entries.append(reversal)  # reversing a reversal is tried too, and refused
                elif kind == "hold":
                    holds.append(place_hold(actor=officer, account=accounts[i], amount=amount, reason="lien"))
                elif kind == "release" and holds:
                    release_hold(actor=officer, hold=holds[i % len(holds)])
            except BankingError:
                assert state() == before, "a refused entry left something behind"

            check_deferred_constraints()
            # debits equal credits, everywhere
            totals = Posting.objects.values("side").annotate(s=Sum("amount"))
            sums = {row["side"]: row["s"] for row in totals}
            assert sums.get("D", 0) == sums.get("C", 0)
            # what is held is the sum of the holds not released
            for account in accounts:
                open_holds = Hold.objects.filter(account=account, released_at__isnull=True).aggregate(s=Sum("amount"))
                assert LedgerAccount.objects.get(pk=account.pk).held == (open_holds["s"] or 0)
        # every balance equals the sum of its postings
        for account in LedgerAccount.objects.filter(is_header=False):
            signed = sum(account.signed(p.side, p.amount) for p in account.postings.all())
            assert signed == account.balance
        transaction.set_rollback(True)
