import itertools
import uuid

from banking.ledger.actions import Line, post_entry
from banking.ledger.chart import SHARE_CAPITAL, ensure_standard_chart
from banking.ledger.models import AccountType, EntryKind, JournalEntry, LedgerAccount, Posting

_serial = itertools.count(1)


def key():
    return uuid.uuid4().hex


def customer_account(opening=0, *, product="2110", overdraft=0, min_balance=0, name=None):
    """A customer's deposit sub-ledger, funded with `opening` paise from share capital."""
    chart = ensure_standard_chart()
    n = next(_serial)
    account = LedgerAccount.objects.create(
        code=f"{product}-T{uuid.uuid4().hex[:12]}", name=name or f"Customer {n}", type=AccountType.LIABILITY,
        parent=chart[product], is_subledger=True, overdraft_limit=overdraft, min_balance=min_balance,
    )
    if opening:
        fund(account, opening)
        account.refresh_from_db()
    return account


def fund(account, amount):
    capital = LedgerAccount.objects.get(code=SHARE_CAPITAL)
    return post_entry(
        actor=None, lines=[Line.debit(capital, amount), Line.credit(account, amount)],
        kind=EntryKind.OPENING, narration="Opening balance", idempotency_key=key(),
    )


def transfer(source, target, amount, idempotency_key=None, actor=None):
    return post_entry(
        actor=actor, lines=[Line.debit(source, amount), Line.credit(target, amount)],
        kind=EntryKind.TRANSFER, narration="Transfer", idempotency_key=idempotency_key or key(),
    )


def snapshot():
    """What a refused or repeated posting must leave as it was: the entries, the
    postings and every account's balance, held amount and version."""
    return (
        JournalEntry.objects.count(),
        Posting.objects.count(),
        tuple(LedgerAccount.objects.order_by("pk").values_list("balance", "held", "version")),
    )


def deadlock_once(monkeypatch, target, sqlstate="40P01"):
    """Make the function at dotted `target` fail its first call as PostgreSQL fails
    a transaction it picked as a deadlock's victim (40P01) or could not serialize
    (40001): psycopg's error, raised through Django's wrapper as OperationalError.
    Later calls run the real function. Returns the list of calls made."""
    import psycopg.errors
    from django.db import connection
    from django.utils.module_loading import import_string

    real = import_string(target)
    calls = []

    def failing_once(*args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            with connection.wrap_database_errors:
                raise psycopg.errors.lookup(sqlstate)("deadlock detected" if sqlstate == "40P01" else
                                                      "could not serialize access due to concurrent update")
        return real(*args, **kwargs)

    monkeypatch.setattr(target, failing_once)
    return calls
