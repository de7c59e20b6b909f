"""Reads over the ledger: statements, trial balance, the chart as a tree.

Statements and balances as of a date read `Posting.balance_after` through the
(account, business_date, id) index: their cost does not grow with the number of
postings an account has.
"""

import datetime
from dataclasses import dataclass, field

from django.db import connection

from .models import AccountType, LedgerAccount, Posting, Side


@dataclass
class Statement:
    account: LedgerAccount
    start: datetime.date
    end: datetime.date
    opening: int
    closing: int
    lines: list = field(default_factory=list)
    has_more: bool = False

    @property
    def total_debits(self):
        return sum(p.amount for p in self.lines if p.side == Side.DEBIT)

    @property
    def total_credits(self):
        return sum(p.amount for p in self.lines if p.side == Side.CREDIT)


def statement(account, start, end, *, after_id=None, limit=None):
    """Opening balance, each posting with its running balance, closing balance.

    With `limit`, returns one page of lines after `after_id` (keyset paging); the
    opening and closing still cover the whole range.
    """
    opening = account.balance_as_of(start - datetime.timedelta(days=1))
    closing = account.balance_as_of(end)
    postings = (
        Posting.objects.filter(account=account, business_date__gte=start, business_date__lte=end)
        .select_related("entry")
        .order_by("business_date", "id")
    )
    if after_id:
        postings = postings.filter(id__gt=after_id)
    lines = list(postings[: limit + 1]) if limit else list(postings)
    has_more = bool(limit) and len(lines) > limit
    return Statement(account, start, end, opening, closing, lines[:limit] if limit else lines, has_more)


def iter_statement_lines(account, start, end, chunk_size=2000):
    """All postings of a range, streamed in chunks (memory stays flat)."""
    return (
        Posting.objects.filter(account=account, business_date__gte=start, business_date__lte=end)
        .select_related("entry")
        .order_by("business_date", "id")
        .iterator(chunk_size=chunk_size)
    )


@dataclass
class TrialBalanceRow:
    account: LedgerAccount
    balance: int

    @property
    def debit(self):
        normal_debit = self.account.normal_side == Side.DEBIT
        if (normal_debit and self.balance > 0) or (not normal_debit and self.balance < 0):
            return abs(self.balance)
        return 0

    @property
    def credit(self):
        normal_credit = self.account.normal_side == Side.CREDIT
        if (normal_credit and self.balance > 0) or (not normal_credit and self.balance < 0):
            return abs(self.balance)
        return 0


@dataclass
class TrialBalance:
    as_of: datetime.date | None
    rows: list

    @property
    def total_debit(self):
        return sum(row.debit for row in self.rows)

    @property
    def total_credit(self):
        return sum(row.credit for row in self.rows)

    @property
    def difference(self):
        return self.total_debit - self.total_credit


def balances_as_of(date):
    """{account_id: balance at close of `date`} for every account with postings by then."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT a.id, (
                SELECT p.balance_after FROM ledger_posting p
                WHERE p.account_id = a.id AND p.business_date <= %s
                ORDER BY p.business_date DESC, p.id DESC LIMIT 1
            )
            FROM ledger_ledgeraccount a WHERE a.is_header = FALSE
            """,
            [date],
        )
        return {account_id: balance for account_id, balance in cursor.fetchall() if balance is not None}


def trial_balance(as_of=None, *, include_subledgers=True, roll_up_subledgers=True):
    """The trial balance, now (`as_of` None) or at close of a business date.

    Customers' sub-ledgers are rolled up into their product's control account, as a
    bank's trial balance shows them.
    """
    accounts = list(LedgerAccount.objects.detail().select_related("parent").order_by("code"))
    if as_of is None:
        balances = {a.pk: a.balance for a in accounts}
    else:
        balances = balances_as_of(as_of)
    rows = {}
    for account in accounts:
        amount = balances.get(account.pk, 0)
        key = account
        if account.is_subledger and roll_up_subledgers and account.parent is not None:
            key = account.parent
        if key.pk in rows:
            rows[key.pk].balance += amount
        else:
            rows[key.pk] = TrialBalanceRow(key, amount)
    ordered = sorted((r for r in rows.values() if r.balance or not r.account.is_subledger),
                     key=lambda r: r.account.code)
    return TrialBalance(as_of, ordered)


@dataclass
class ChartNode:
    account: LedgerAccount
    depth: int
    balance: int
    children: list = field(default_factory=list)
    subledger_count: int = 0


TYPE_ORDER = [AccountType.ASSET, AccountType.LIABILITY, AccountType.EQUITY, AccountType.INCOME, AccountType.EXPENSE]


def chart_tree():
    """The chart of accounts as a tree of GL accounts, each header's balance being the
    sum of everything under it. Customers' sub-ledgers are counted, not listed."""
    accounts = list(LedgerAccount.objects.order_by("code"))
    nodes = {a.pk: ChartNode(a, 0, 0 if a.is_header else a.balance) for a in accounts}
    roots = []
    for account in accounts:
        node = nodes[account.pk]
        if account.parent_id and account.parent_id in nodes:
            parent = nodes[account.parent_id]
            if account.is_subledger:
                parent.subledger_count += 1
            else:
                parent.children.append(node)
        else:
            roots.append(node)

    def total(node):
        for child in node.children:
            total(child)
        sub = sum(a.balance for a in accounts if a.parent_id == node.account.pk and a.is_subledger)
        node.balance = (node.balance if not node.account.is_header else 0) + sub + sum(
            c.balance for c in node.children
        )

    flat = []

    def walk(node, depth):
        node.depth = depth
        flat.append(node)
        for child in node.children:
            walk(child, depth + 1)

    for root in sorted(roots, key=lambda n: (TYPE_ORDER.index(n.account.type), n.account.code)):
        total(root)
        walk(root, 0)
    return flat
