"""Operations' reports on the loan book, from the loans' end of day: the portfolio by
product and bucket, the SMA and NPA report as of a date, and provisions."""

import datetime

from django.shortcuts import render
from django.views.decorators.http import require_GET
from django_tables2 import RequestConfig

from banking.ledger.models import BusinessDate
from banking.loans import reports
from portals import policies

from .loan_report_tables import LoanStatusTable

SMA_NPA_CHOICES = [("", "SMA and NPA"), ("sma", "SMA only"), ("npa", "NPA only")]


def as_of(request):
    """(date or None, raw text, error in words) from the `on` query parameter: a
    calendar date no later than the business date."""
    raw = request.GET.get("on", "").strip()
    if not raw:
        return None, raw, None
    try:
        on = datetime.date.fromisoformat(raw)
    except ValueError:
        return None, raw, "Enter the date as a calendar date, such as 2027-03-31."
    today = BusinessDate.objects.current()
    if on > today:
        return None, raw, f"End of day has not run past the business date, {today:%d %b %Y}."
    return on, raw, None


def _context(request, **more):
    on, raw, error = as_of(request)
    return on, {"raw": raw, "error": error, "today": BusinessDate.objects.current(), **more}


@require_GET
@policies.operations
def loan_portfolio(request):
    on, context = _context(request)
    report = reports.portfolio(on)
    return render(request, "portals/operations/loan_portfolio.html", {**context, "report": report})


@require_GET
@policies.operations
def loan_sma_npa(request):
    on, context = _context(request)
    kind = request.GET.get("kind", "")
    classes = {"sma": reports.rules.SMA_CLASSES, "npa": tuple(reports.rules.NPA_CLASSES)}.get(kind, reports.SMA_NPA)
    date, rows = reports.sma_npa(on, classes=classes)
    table = LoanStatusTable(rows)
    table.empty_text = "No loan was in special mention or non-performing at that end of day."
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    buckets = reports.overdue_buckets(reports.sma_npa(on)[1]) if date else []
    return render(request, "portals/operations/loan_sma_npa.html", {
        **context, "date": date, "table": table, "buckets": buckets, "kind": kind, "kinds": SMA_NPA_CHOICES})


@require_GET
@policies.operations
def loan_provisions(request):
    on, context = _context(request)
    return render(request, "portals/operations/loan_provisions.html", {**context, "report": reports.provisions(on)})
