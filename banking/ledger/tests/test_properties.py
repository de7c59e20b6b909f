"""Properties of money, for any sequence of postings (refused ones included):
debits equal credits, no available balance goes below its rule, a reversal
restores the balances, a retry with the same key posts once, and a refused
entry leaves the database unchanged."""

import uuid

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from banking.core.errors import BankingError
from banking.ledger.actions import Line, post_entry, reverse_entry
from banking.ledger.models import EntryKind, JournalEntry, LedgerAccount, Posting

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
)


def state():
    return (
        JournalEntry.objects.count(),
        Posting.objects.count(),
        tuple(LedgerAccount.objects.order_by("pk").values_list("balance", "held")),
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
        entries = []
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
                elif entries:
                    target = entries[i % len(entries)]
                    balances = {a.pk: a.balance for a in LedgerAccount.objects.all()}
                    posted = {p.account_id for p in target.postings.all()}
                    reversal = reverse_entry(actor=None, entry=target, idempotency_key=uuid.uuid4().hex)
                    for posting in target.postings.all():
                        # the reversal moves each account back by what the entry moved it
                        account = LedgerAccount.objects.get(pk=posting.account_id)
                        assert account.pk in posted
                    moved = {p.account_id: 0 for p in reversal.postings.all()}
                    for p in target.postings.select_related("account"):
                        moved[p.account_id] += p.account.signed(p.side, p.amount)
                    for account_id, change in moved.items():
                        assert LedgerAccount.objects.get(pk=account_id).balance == balances[account_id] - change
            except BankingError:
                assert state() == before, "a refused entry left something behind"

            # debits equal credits, everywhere
            totals = Posting.objects.values("side").annotate(s=Sum("amount"))
            sums = {row["side"]: row["s"] for row in totals}
            assert sums.get("D", 0) == sums.get("C", 0)
            # no available balance below its rule
            for account in LedgerAccount.objects.filter(enforce_balance=True, is_header=False):
                assert account.available >= account.min_balance
        # every balance equals the sum of its postings
        for account in LedgerAccount.objects.filter(is_header=False):
            signed = sum(account.signed(p.side, p.amount) for p in account.postings.all())
            assert signed == account.balance
        transaction.set_rollback(True)
