import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from banking.core.money import format_money
from banking.payments.models import BankBranch, NeftBatch, Payment, Reconciliation

STATUS_TONE = {"settled": "success", "sent": "info", "debited": "info", "initiated": "secondary",
               "awaiting_approval": "warning", "returned": "danger", "failed": "danger", "reversed": "dark",
               "rejected": "secondary"}
MONEY = {"td": {"class": "amount"}, "th": {"class": "text-end"}}


def status_badge(payment):
    return format_html('<span class="badge text-bg-{}">{}</span>', STATUS_TONE.get(payment.status, "secondary"),
                       payment.get_status_display())


class PaymentTable(tables.Table):
    number = tables.Column(verbose_name="Payment")
    initiated_at = tables.DateTimeColumn(verbose_name="When", format="d M H:i:s", attrs={
        "td": {"class": "d-none d-sm-table-cell"}, "th": {"class": "d-none d-sm-table-cell"}})
    rail = tables.Column(verbose_name="Rail")
    direction = tables.Column(verbose_name="Direction", attrs={"td": {"class": "d-none d-md-table-cell"},
                                                               "th": {"class": "d-none d-md-table-cell"}})
    reference = tables.Column(verbose_name="UTR / RRN", default="—",
                              attrs={"td": {"class": "font-monospace small d-none d-lg-table-cell"},
                                     "th": {"class": "d-none d-lg-table-cell"}})
    counterparty = tables.Column(verbose_name="Counterparty", empty_values=(), orderable=False,
                                 attrs={"td": {"class": "d-none d-md-table-cell"},
                                        "th": {"class": "d-none d-md-table-cell"}})
    amount = tables.Column(verbose_name="Amount", attrs=MONEY)
    status = tables.Column(verbose_name="Status")

    class Meta:
        model = Payment
        fields = ["number", "initiated_at", "rail", "direction", "reference", "counterparty", "amount", "status"]
        orderable = False
        attrs = {"class": "table table-sm table-hover align-middle mb-0"}

    def render_number(self, value, record):
        return format_html('<a href="{}">{}</a>', reverse("ops:payment-detail", args=[record.pk]), value)

    def render_direction(self, record):
        return record.get_direction_display()

    def render_counterparty(self, record):
        return record.counterparty or "—"

    def render_amount(self, value):
        return format_money(value)

    def render_status(self, record):
        return status_badge(record)


class NeftBatchTable(tables.Table):
    name = tables.Column(verbose_name="Cycle", accessor="pk")
    settled_at = tables.DateTimeColumn(verbose_name="Settled at", format="d M Y H:i")
    payments_count = tables.Column(verbose_name="Payments", attrs={"td": {"class": "text-end"}})
    settled_count = tables.Column(verbose_name="Settled", attrs={"td": {"class": "text-end"}})
    settled_amount = tables.Column(verbose_name="Settled amount", attrs=MONEY)
    returned_count = tables.Column(verbose_name="Returned", attrs={"td": {"class": "text-end"}})
    returned_amount = tables.Column(verbose_name="Returned amount", attrs={
        "td": {"class": "amount d-none d-md-table-cell"}, "th": {"class": "text-end d-none d-md-table-cell"}})

    class Meta:
        model = NeftBatch
        fields = ["name", "settled_at", "payments_count", "settled_count", "settled_amount", "returned_count",
                  "returned_amount"]
        orderable = False
        attrs = {"class": "table table-sm table-hover align-middle mb-0"}

    def render_name(self, record):
        return format_html('<a href="{}">{}</a>', reverse("ops:neft-batch-detail", args=[record.pk]), record.name)

    def render_settled_amount(self, value):
        return format_money(value)

    def render_returned_amount(self, value):
        return format_money(value)


class ReconciliationTable(tables.Table):
    run_at = tables.DateTimeColumn(verbose_name="Run at", format="d M Y H:i:s")
    file = tables.Column(verbose_name="Settlement file", accessor="file__name")
    lines = tables.Column(verbose_name="Lines", attrs={"td": {"class": "text-end"}})
    matched = tables.Column(verbose_name="Matched", attrs={"td": {"class": "text-end"}})
    exceptions = tables.Column(verbose_name="Exceptions", attrs={"td": {"class": "text-end"}})
    malformed = tables.Column(verbose_name="Malformed lines", attrs={"td": {"class": "text-end"}})

    class Meta:
        model = Reconciliation
        fields = ["run_at", "file", "lines", "matched", "exceptions", "malformed"]
        orderable = False
        attrs = {"class": "table table-sm table-hover align-middle mb-0"}

    def render_file(self, record):
        return format_html('<a href="{}">{}</a>', reverse("ops:reconciliation-detail", args=[record.pk]),
                           record.file.name)

    def render_malformed(self, value):
        return len(value)


class BankBranchTable(tables.Table):
    class Meta:
        model = BankBranch
        fields = ["ifsc", "bank_name", "branch_name", "city", "neft_enabled", "rtgs_enabled", "imps_enabled"]
        orderable = False
        attrs = {"class": "table table-sm table-hover align-middle mb-0"}
