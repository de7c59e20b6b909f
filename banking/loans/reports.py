"""What the bank's staff read about its loan book: the portfolio by product and bucket,
the SMA and NPA report, provisions and a branch's overdue list.

Every figure comes from the day's end (`LoanDayStatus`): the classification RBI
asks banks to stamp daily, as it stood after that date's end of day. A report "as
of" a date reads the last end of day on or before it.
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import Count, Max, Sum

from banking.ledger.chart import LOAN_PROVISIONS, NPA_INTEREST_SUSPENSE
from banking.ledger.models import LedgerAccount

from . import classification as rules
from .eod_models import LoanDayStatus
from .models import Classification, LoanProduct

BUCKETS = [
    ("standard", "Standard", (Classification.STANDARD,)),
    ("sma0", "SMA-0 (1–30 days)", (Classification.SMA_0,)),
    ("sma1", "SMA-1 (31–60 days)", (Classification.SMA_1,)),
    ("sma2", "SMA-2 (61–90 days)", (Classification.SMA_2,)),
    ("substandard", "Sub-standard", (Classification.SUB_STANDARD,)),
    ("doubtful", "Doubtful (D1–D3)", (Classification.DOUBTFUL_1, Classification.DOUBTFUL_2,
                                      Classification.DOUBTFUL_3)),
    ("loss", "Loss", (Classification.LOSS,)),
]
OVERDUE_BUCKETS = [
    ("sma0", "SMA-0", (Classification.SMA_0,)),
    ("sma1", "SMA-1", (Classification.SMA_1,)),
    ("sma2", "SMA-2", (Classification.SMA_2,)),
    ("npa", "NPA", tuple(rules.NPA_CLASSES)),
]
SMA_NPA = (*rules.SMA_CLASSES, *rules.NPA_CLASSES)


def last_day(on=None, branch=None):
    """The last date end of day classified the loans, on or before `on` (None: ever)."""
    rows = LoanDayStatus.objects.all()
    if branch is not None:
        rows = rows.filter(branch_id=branch.pk)
    if on is not None:
        rows = rows.filter(date__lte=on)
    return rows.aggregate(last=Max("date"))["last"]


def _bucket_of(classification):
    return next(key for key, _, classes in BUCKETS if classification in classes)


@dataclass
class PortfolioRow:
    product: str
    bucket: str
    label: str
    loans: int = 0
    outstanding: int = 0
    provision: int = 0


@dataclass
class Portfolio:
    date: datetime.date | None
    rows: list = field(default_factory=list)
    loans: int = 0
    outstanding: int = 0
    provision: int = 0

    @property
    def npa_outstanding(self):
        return sum(row.outstanding for row in self.rows if row.bucket in ("substandard", "doubtful", "loss"))

    @property
    def gross_npa_percent(self):
        return round(self.npa_outstanding * 100 / self.outstanding, 2) if self.outstanding else 0


def portfolio(on=None):
    """Each product's loans by bucket as of the end of day on or before `on`: count,
    principal outstanding and provision; only the buckets that hold a loan."""
    date = last_day(on)
    report = Portfolio(date=date)
    if date is None:
        return report
    names = dict(LoanProduct.objects.values_list("pk", "name"))
    totals = {}
    for product_id, klass, loans, outstanding, provision in (
            LoanDayStatus.objects.on(date).values_list("product_id", "classification")
            .annotate(n=Count("pk"), o=Sum("outstanding"), p=Sum("provision")).order_by()):
        bucket = _bucket_of(klass)
        label = next(label for key, label, _ in BUCKETS if key == bucket)
        row = totals.setdefault((product_id, bucket), PortfolioRow(names.get(product_id, "?"), bucket, label))
        row.loans += loans
        row.outstanding += outstanding
        row.provision += provision
    order = [key for key, _, _ in BUCKETS]
    report.rows = sorted(totals.values(), key=lambda row: (row.product, order.index(row.bucket)))
    report.loans = sum(row.loans for row in report.rows)
    report.outstanding = sum(row.outstanding for row in report.rows)
    report.provision = sum(row.provision for row in report.rows)
    return report


def sma_npa(on=None, *, classes=SMA_NPA, branch=None):
    """(date, the day statuses) of every loan in `classes` as of the end of day on or
    before `on`, worst first, with each loan and its borrower."""
    date = last_day(on, branch)
    if date is None:
        return None, LoanDayStatus.objects.none()
    rows = LoanDayStatus.objects.on(date).filter(classification__in=classes)
    if branch is not None:
        rows = rows.filter(branch_id=branch.pk)
    return date, rows.select_related("loan__customer", "loan__product").order_by("-days_past_due", "loan_id")


def overdue_buckets(rows):
    """(key, label, count, outstanding) of each overdue bucket among day statuses `rows`."""
    counted = {klass: (n, o) for klass, n, o in rows.values_list("classification").annotate(
        n=Count("pk"), o=Sum("outstanding")).order_by()}
    result = []
    for key, label, classes in OVERDUE_BUCKETS:
        result.append((key, label, sum(counted.get(c, (0, 0))[0] for c in classes),
                       sum(counted.get(c, (0, 0))[1] for c in classes)))
    return result


@dataclass
class ProvisionRow:
    classification: str
    label: str
    secured_rate: object
    unsecured_rate: object
    loans: int
    outstanding: int
    secured: int
    provision: int


@dataclass
class Provisions:
    date: datetime.date | None
    rows: list
    total: int
    held_in_gl: int
    suspense_in_gl: int
    suspense: int
    previous_total: int | None
    latest: bool

    @property
    def change(self):
        return None if self.previous_total is None else self.total - self.previous_total

    @property
    def agrees(self):
        """The day statuses add up to the GL (compared for the last end of day only:
        the GL's balance is today's)."""
        return self.total == self.held_in_gl


def provisions(on=None):
    """Provisions by class as of the end of day on or before `on`, with the rates, the
    GL's provisions held (2904) and interest suspense (2903), and the change from the
    end of day before."""
    date = last_day(on)
    rows, total, suspense = [], 0, 0
    if date is not None:
        found = {klass: values for klass, *values in LoanDayStatus.objects.on(date).values_list("classification")
                 .annotate(n=Count("pk"), o=Sum("outstanding"), s=Sum("secured"), p=Sum("provision"),
                           i=Sum("suspense")).order_by()}
        for klass in Classification:
            if klass in found:
                n, o, s, p, i = found[klass]
                secured_rate, unsecured_rate = rules.PROVISION_PERCENT[klass]
                rows.append(ProvisionRow(klass, klass.label, secured_rate, unsecured_rate, n, o, s, p))
                total += p
                suspense += i
    previous = last_day(date - datetime.timedelta(days=1)) if date is not None else None
    previous_total = (LoanDayStatus.objects.on(previous).aggregate(p=Sum("provision"))["p"] or 0
                      if previous is not None else None)
    gl = dict(LedgerAccount.objects.filter(code__in=[LOAN_PROVISIONS, NPA_INTEREST_SUSPENSE])
              .values_list("code", "balance"))
    return Provisions(date=date, rows=rows, total=total, held_in_gl=gl.get(LOAN_PROVISIONS, 0),
                      suspense_in_gl=gl.get(NPA_INTEREST_SUSPENSE, 0), suspense=suspense,
                      previous_total=previous_total, latest=date is not None and date == last_day())
