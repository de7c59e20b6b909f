"""Steps for the controller's own tests: one that posts to test accounts (and can be
slowed down, to be killed in the middle), and ones that count or fail on demand."""

import os
import time

from banking.core.eod import Step, id_ranges, posting_key
from banking.ledger.actions import Line, post_entry
from banking.ledger.chart import ensure_standard_chart
from banking.ledger.models import AccountType, Channel, EntryKind, LedgerAccount, Posting

POSTING = "test.posting"
PREFIX = "EODTEST-"
GL_CODE = "EODTESTGL"
# Seconds the posting step waits after each posting: set in a worker's environment to
# catch it in the middle of a partition.
SLEEP_ENV = "CBS_TEST_STEP_SLEEP"


def make_accounts(count):
    """`count` customer-like accounts for the posting step, and its expense GL."""
    ensure_standard_chart([])
    LedgerAccount.objects.get_or_create(code=GL_CODE, defaults={"name": "Test step expense",
                                                                "type": AccountType.EXPENSE})
    control, _ = LedgerAccount.objects.get_or_create(code="EODTESTCTL", defaults={
        "name": "Test accounts", "type": AccountType.LIABILITY, "is_header": True})
    return [LedgerAccount.objects.create(code=f"{PREFIX}{n:04d}", name=f"Test account {n}", parent=control,
                                         type=AccountType.LIABILITY, is_subledger=True)
            for n in range(1, count + 1)]


def _accounts():
    return LedgerAccount.objects.filter(code__startswith=PREFIX)


def post_to_accounts(*, date, first=None, last=None):
    """One posting of ₹1 to each test account in [first, last], keyed by date, step and account."""
    accounts = _accounts()
    if first is not None:
        accounts = accounts.filter(pk__gte=first, pk__lte=last)
    gl = LedgerAccount.objects.get(code=GL_CODE)
    pause = float(os.environ.get(SLEEP_ENV, "0") or 0)
    count = 0
    for account_id in accounts.order_by("pk").values_list("pk", flat=True):
        post_entry(actor=None, lines=[Line.debit(gl, 100), Line.credit(account_id, 100)], kind=EntryKind.INTEREST,
                   narration="End-of-day test posting", channel=Channel.SYSTEM,
                   idempotency_key=posting_key(date, POSTING, account_id))
        count += 1
        if pause:
            time.sleep(pause)
    return count


def posting_partitions(*, date, size):
    return id_ranges(_accounts(), size)


def postings_per_account():
    """{account id: number of postings} of the test accounts."""
    from django.db.models import Count

    rows = Posting.objects.filter(account__code__startswith=PREFIX).values("account").annotate(n=Count("id"))
    return {row["account"]: row["n"] for row in rows}


POSTING_STEP = Step(name=POSTING, title="Test postings", order=40, run=post_to_accounts,
                    partitions=posting_partitions)


class Recorder:
    """A step that records its calls and fails on the partitions it is told to."""

    def __init__(self, name, order, ranges=None, fail=(), title=None):
        self.calls, self.fail = [], set(fail)
        self.ranges = ranges
        self.step = Step(name=name, title=title or name, order=order, run=self.run,
                         partitions=(lambda *, date, size: self.ranges) if ranges is not None else None)

    def run(self, *, date, first=None, last=None):
        self.calls.append((date, first, last))
        if (first, last) in self.fail:
            raise RuntimeError(f"part {first}-{last} cannot be processed")
        return 1 if first is None else last - first + 1
