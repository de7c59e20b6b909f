"""Account statements on screen, as CSV and as PDF, shared by the teller portal
(a teller prints any customer's statement) and internet banking (a customer reads
their own). Each portal's thin views choose the account from their own scope and
their own policy, then call these.

The period comes from the filter form (from / to, defaulting to the last 90 days up
to the business date); opening and closing balances always cover the whole period,
and the running balance is the ledger's balance after each posting, so a filter on
direction or narration hides lines without changing the balances shown.
"""

import datetime

import django_filters
import django_tables2 as tables
from django import forms
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django_tables2 import RequestConfig

from banking.core.money import format_money
from banking.deposits.statements import StatementPeriod, csv_rows, pdf_bytes
from banking.ledger.models import BusinessDate, Posting, Side

DEFAULT_DAYS = 90
LONGEST = datetime.timedelta(days=3 * 366)
AMOUNT = {"td": {"class": "amount"}, "th": {"class": "text-end"}}
WIDE_ONLY = {"td": {"class": "d-none d-md-table-cell"}, "th": {"class": "d-none d-md-table-cell"}}


class StatementFilter(django_filters.FilterSet):
    start = django_filters.DateFilter(field_name="business_date", lookup_expr="gte", label="From",
                                      widget=forms.DateInput(attrs={"type": "date"}))
    end = django_filters.DateFilter(field_name="business_date", lookup_expr="lte", label="To",
                                    widget=forms.DateInput(attrs={"type": "date"}))
    direction = django_filters.ChoiceFilter(field_name="side", label="Show",
                                            choices=[(Side.DEBIT, "Debits only"), (Side.CREDIT, "Credits only")],
                                            empty_label="Debits and credits")
    narration = django_filters.CharFilter(field_name="entry__narration", lookup_expr="icontains", label="Narration")

    class Meta:
        model = Posting
        fields = ["start", "end", "direction", "narration"]


def period_from(request, account):
    """The statement's (start, end, error) from the query string, within what the ledger has.
    Without dates: the last 90 days, or since the account opened if that is later."""
    today = BusinessDate.objects.current()
    default_start = max(today - datetime.timedelta(days=DEFAULT_DAYS), account.opened_on or today)
    try:
        start = datetime.date.fromisoformat(request.GET["start"]) if request.GET.get("start") else default_start
        end = datetime.date.fromisoformat(request.GET["end"]) if request.GET.get("end") else today
    except ValueError:
        return default_start, today, "Enter the dates as calendar dates."
    error = None
    if end > today:
        end = today
        error = f"The ledger has nothing after the business date, {today:%d %b %Y}; the statement ends there."
    if start > end:
        start, error = end, "The start date was after the end date; the statement shows the end date alone."
    if end - start > LONGEST:
        start, error = end - LONGEST, "A statement covers at most three years; it starts three years before its end."
    return start, end, error


class StatementTable(tables.Table):
    value_date = tables.DateColumn(verbose_name="Value date", format="d M Y", accessor="business_date")
    narration = tables.Column(verbose_name="Narration", accessor="entry__narration")
    reference = tables.Column(verbose_name="Reference", accessor="entry__reference", empty_values=(), attrs=WIDE_ONLY)
    debit = tables.Column(verbose_name="Debit", accessor="amount", empty_values=(), attrs=AMOUNT)
    credit = tables.Column(verbose_name="Credit", accessor="amount", empty_values=(), attrs=AMOUNT)
    balance = tables.Column(verbose_name="Balance", accessor="balance_after", attrs=AMOUNT)

    class Meta:
        model = Posting
        fields = ["value_date", "narration", "reference", "debit", "credit", "balance"]
        orderable = False
        empty_text = "No transactions in this period."
        attrs = {"class": "table table-sm table-hover align-middle mb-0 statement-table", "id": "statement-lines"}
        template_name = "portals/shared/statement_table.html"

    def render_narration(self, record):
        return record.entry.narration

    def render_reference(self, record):
        return record.entry.reference or record.entry.number

    def render_debit(self, record):
        return format_money(record.amount) if record.side == Side.DEBIT else ""

    def render_credit(self, record):
        return format_money(record.amount) if record.side == Side.CREDIT else ""

    def render_balance(self, value):
        return format_money(value)


def render_statement(request, account, *, csv_url, pdf_url, back_url, template="portals/shared/statement.html"):
    start, end, error = period_from(request, account)
    data = request.GET.copy()
    data["start"], data["end"] = start.isoformat(), end.isoformat()
    postings = Posting.objects.filter(account=account.ledger_account).select_related("entry").order_by(
        "business_date", "id")
    lines = StatementFilter(data, queryset=postings)
    table = StatementTable(lines.qs)
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    period = StatementPeriod(account, start, end)
    query = f"?start={start.isoformat()}&end={end.isoformat()}"
    context = {
        "account": account, "filter": lines, "table": table, "period": period, "error": error,
        "opening": period.opening, "closing": period.closing, "csv_url": csv_url + query, "pdf_url": pdf_url + query,
        "back_url": back_url,
    }
    if request.htmx:
        template += "#statement-results"
    return render(request, template, context)


def filename(account, start, end, extension):
    return f"statement-{account.number}-{start:%Y%m%d}-{end:%Y%m%d}.{extension}"


def csv_response(request, account):
    """The statement as CSV, streamed: memory stays flat however many lines."""
    start, end, _ = period_from(request, account)
    rows = csv_rows(StatementPeriod(account, start, end))
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename(account, start, end, "csv")}"'
    response["Cache-Control"] = "no-store"
    return response


def pdf_response(request, account):
    start, end, _ = period_from(request, account)
    response = HttpResponse(pdf_bytes(StatementPeriod(account, start, end)), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename(account, start, end, "pdf")}"'
    response["Cache-Control"] = "no-store"
    return response
