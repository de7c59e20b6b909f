import django_tables2 as tables

from banking.core.money import format_money
from banking.loans.eod_models import LoanDayStatus

WIDE_ONLY = {"th": {"class": "d-none d-md-table-cell"}, "td": {"class": "d-none d-md-table-cell"}}
AMOUNT = {"th": {"class": "text-end"}, "td": {"class": "amount"}}


class LoanStatusTable(tables.Table):
    """Loans as end of day classified them on a date: the SMA and NPA report, and a
    branch's overdue list."""

    loan = tables.Column(verbose_name="Loan", accessor="loan__number")
    borrower = tables.Column(verbose_name="Borrower", accessor="loan__customer__display_name", orderable=False)
    product = tables.Column(verbose_name="Product", accessor="loan__product__name", attrs=WIDE_ONLY)
    classification = tables.Column(verbose_name="Class")
    days_past_due = tables.Column(verbose_name="Days past due", attrs=AMOUNT)
    outstanding = tables.Column(verbose_name="Outstanding", attrs=AMOUNT)
    provision = tables.Column(verbose_name="Provision",
                              attrs={**WIDE_ONLY, "td": {"class": "amount d-none d-md-table-cell"}})

    class Meta:
        model = LoanDayStatus
        fields = ["loan", "borrower", "product", "classification", "days_past_due", "outstanding", "provision"]
        orderable = False
        empty_text = "No loan is overdue."
        attrs = {"class": "table align-middle mb-0", "id": "loan-status"}

    def render_classification(self, record):
        return record.get_classification_display().split(" (")[0]

    def render_outstanding(self, value):
        return format_money(value)

    def render_provision(self, value):
        return format_money(value)
