import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from banking.core.money import format_money
from banking.teller.models import TillDay

WIDE_ONLY = {"th": {"class": "d-none d-md-table-cell"}, "td": {"class": "d-none d-md-table-cell"}}


class CashDifferenceTable(tables.Table):
    """Till closings that were short or over, for the branch's cash differences report."""

    business_date = tables.DateColumn(verbose_name="Date", format="d M Y")
    till = tables.Column(verbose_name="Till", accessor="till__teller")
    difference = tables.Column(verbose_name="Difference", attrs={"th": {"class": "text-end"},
                                                                 "td": {"class": "amount"}})
    counted = tables.Column(verbose_name="Counted", empty_values=(), attrs=WIDE_ONLY)
    entry = tables.Column(verbose_name="Suspense entry", accessor="difference_entry", attrs=WIDE_ONLY)
    status = tables.Column(verbose_name="Sign-off")

    class Meta:
        model = TillDay
        fields = ["business_date", "till", "difference", "counted", "entry", "status"]
        orderable = False
        empty_text = "No till has closed short or over."
        attrs = {"class": "table align-middle mb-0", "id": "cash-differences"}

    def render_till(self, value):
        return value.display_name

    def render_difference(self, record):
        css = "text-danger" if record.difference < 0 else "text-success"
        return format_html('<span class="fw-semibold {}">{}</span>', css, record.difference_label)

    def render_counted(self, record):
        return format_html("{}<div class=\"small text-body-secondary\">expected {}</div>",
                           format_money(record.counted_counts.value), format_money(record.expected_counts.value))

    def render_entry(self, value):
        return value.number

    def render_status(self, record):
        if record.status == "signed_off":
            return f"Signed off by {record.signed_off_by.display_name}"
        if record.close_request_id:
            url = reverse("supervisor:request-detail", kwargs={"pk": record.close_request_id})
            return format_html('<a href="{}">Waiting for sign-off</a>', url)
        return record.get_status_display()
