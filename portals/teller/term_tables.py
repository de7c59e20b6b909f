import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from banking.customers.models import Customer

WIDE_ONLY = {"th": {"class": "d-none d-md-table-cell"}, "td": {"class": "d-none d-md-table-cell"}}


class RekycTable(tables.Table):
    """Customers whose periodic KYC is due, the longest overdue first."""

    name = tables.Column(verbose_name="Customer", accessor="cif", empty_values=())
    rekyc_due_on = tables.Column(verbose_name="Due since")
    risk_category = tables.Column(verbose_name="Risk", attrs=WIDE_ONLY)
    home_branch = tables.Column(verbose_name="Home branch", attrs=WIDE_ONLY)
    contacted = tables.Column(verbose_name="Told", accessor="rekyc_flagged", empty_values=(), attrs=WIDE_ONLY)

    class Meta:
        model = Customer
        fields = ["name", "rekyc_due_on", "risk_category", "home_branch", "contacted"]
        orderable = False
        empty_text = "Nobody's KYC is due for updating."
        attrs = {"class": "table table-hover align-middle mb-0", "id": "rekyc-table"}

    def render_name(self, record):
        return format_html(
            '<a class="fw-semibold" href="{}">{}</a><div class="small text-body-secondary">CIF {}'
            '<span class="d-md-none"> · {} risk</span></div>',
            reverse("teller:customer-detail", kwargs={"pk": record.pk}), record.display_name, record.cif,
            record.get_risk_category_display().lower())

    def render_rekyc_due_on(self, value):
        return value.strftime("%d %b %Y")

    def render_home_branch(self, value):
        return value.name

    def render_contacted(self, record):
        if not record.rekyc_flagged:
            return "Not yet (at the next end of day)"
        return "By email" if record.email else "No email on file: tell them at the counter"
