"""Reads over the ledger: statements, trial balance, the chart as a tree.

Statements and balances as of a date read `Posting.balance_after` through the
(account, business_date, id) index: their cost does not grow with the number of
postings an account has.
"""

import datetime
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, Sum, prefetch_related_objects

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


def latest_postings(account_ids, count):
    """The latest `count` postings of each ledger account in `account_ids`, newest
    first, with their entries: {account id: [Posting]}. A screen listing several
    accounts asks two queries however many accounts it shows: one UNION ALL of each
    account's own newest rows, each read backwards along the (account,
    business_date, id) index however long its history, then the entries."""
    ids = list(dict.fromkeys(i for i in account_ids if i))
    newest = [Posting.objects.filter(account_id=i).order_by("-business_date", "-id")[:count] for i in ids]
    if not newest:
        return {}
    postings = list(newest[0].union(*newest[1:], all=True) if len(newest) > 1 else newest[0])
    prefetch_related_objects(postings, "entry")
    latest = {i: [] for i in ids}
    for posting in sorted(postings, key=lambda p: (p.business_date, p.pk), reverse=True):
        latest[posting.account_id].append(posting)
    return latest


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


def subledger_totals():
    """{control account id: (number of customer sub-ledgers, sum of their balances)},
    summed by the database: a bank has far more customer accounts than GL accounts."""
    rows = (
        LedgerAccount.objects.filter(is_subledger=True)
        .values("parent_id")
        .annotate(count=Count("id"), total=Sum("balance"))
    )
    return {row["parent_id"]: (row["count"], row["total"] or 0) for row in rows}


def trial_balance(as_of=None):
    """The trial balance, now (`as_of` None) or at close of a business date.

    Customers' sub-ledgers are rolled up into their product's control account, as a
    bank's trial balance shows them.
    """
    accounts = {a.pk: a for a in LedgerAccount.objects.general()}
    if as_of is None:
        balances = {pk: a.balance for pk, a in accounts.items() if not a.is_header}
        for parent_id, (_count, total) in subledger_totals().items():
            balances[parent_id] = balances.get(parent_id, 0) + total
    else:
        by_account = balances_as_of(as_of)
        balances = {pk: by_account.get(pk, 0) for pk, a in accounts.items() if not a.is_header}
        parents = LedgerAccount.objects.filter(is_subledger=True).values_list("id", "parent_id")
        for account_id, parent_id in parents.iterator(chunk_size=5000):
            balances[parent_id] = balances.get(parent_id, 0) + by_account.get(account_id, 0)
    # Detail GL accounts, and the control headers that carry customers' accounts.
    rows = [TrialBalanceRow(accounts[pk], amount) for pk, amount in balances.items()]
    return TrialBalance(as_of, sorted(rows, key=lambda r: r.account.code))


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
    accounts = list(LedgerAccount.objects.general().order_by("code"))
    subledgers = subledger_totals()
    nodes = {}
    for a in accounts:
        count, total = subledgers.get(a.pk, (0, 0))
        nodes[a.pk] = ChartNode(a, 0, (0 if a.is_header else a.balance) + total, subledger_count=count)
    roots = []
    for account in accounts:
        if account.parent_id in nodes:
            nodes[account.parent_id].children.append(nodes[account.pk])
        else:
            roots.append(nodes[account.pk])

    flat = []

    def walk(node, depth):
        node.depth = depth
        flat.append(node)
        for child in node.children:
            walk(child, depth + 1)
            node.balance += child.balance

    for root in sorted(roots, key=lambda n: (TYPE_ORDER.index(n.account.type), n.account.code)):
        walk(root, 0)
    return flat
