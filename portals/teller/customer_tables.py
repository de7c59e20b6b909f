import django_tables2 as tables
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from banking.customers.models import Customer, KycStatus
from portals.templatetags.ages import age

# Columns a phone can do without; the name column carries what matters.
WIDE_ONLY = {"th": {"class": "d-none d-md-table-cell"}, "td": {"class": "d-none d-md-table-cell"}}


def kyc_badge(customer):
    return render_to_string("portals/teller/kyc_status_badge.html", {"customer": customer})


class CustomerTable(tables.Table):
    """Search results: enough to tell two Priya Sharmas apart."""

    name = tables.Column(verbose_name="Customer", accessor="cif", empty_values=())
    cif = tables.Column(verbose_name="CIF", attrs=WIDE_ONLY)
    mobile = tables.Column(verbose_name="Mobile", attrs=WIDE_ONLY)
    date_of_birth = tables.Column(verbose_name="Born / incorporated", attrs=WIDE_ONLY)
    home_branch = tables.Column(verbose_name="Home branch", attrs=WIDE_ONLY)
    kyc_status = tables.Column(verbose_name="KYC")

    class Meta:
        model = Customer
        fields = ["name", "cif", "mobile", "date_of_birth", "home_branch", "kyc_status"]
        orderable = False
        empty_text = "No customer matches. Check the spelling, or search by CIF, mobile or PAN."
        attrs = {"class": "table table-hover align-middle mb-0", "id": "customer-results-table"}

    def render_name(self, record):
        return format_html(
            '<a class="fw-semibold" href="{}">{}</a>'
            '<div class="small text-body-secondary">{}<span class="d-md-none"> · CIF {} · {}</span></div>',
            reverse("teller:customer-detail", kwargs={"pk": record.pk}),
            record.display_name or "(no name yet)", record.get_customer_type_display(), record.cif,
            record.mobile or "no mobile",
        )

    def render_cif(self, value):
        return format_html('<span class="font-monospace">{}</span>', value)

    def render_date_of_birth(self, value):
        return value.strftime("%d %b %Y")

    def render_home_branch(self, value):
        return value.name

    def render_kyc_status(self, record):
        return kyc_badge(record)


class DraftTable(tables.Table):
    """KYCs still open at the branch, most recently touched first."""

    name = tables.Column(verbose_name="Customer", accessor="cif", empty_values=())
    kyc_status = tables.Column(verbose_name="State")
    updated_at = tables.Column(verbose_name="Last saved", attrs=WIDE_ONLY)
    created_by = tables.Column(verbose_name="Started by", attrs=WIDE_ONLY)
    resume = tables.Column(verbose_name="", accessor="cif", empty_values=(),
                           attrs={"td": {"class": "text-end text-nowrap"}})

    class Meta:
        model = Customer
        fields = ["name", "kyc_status", "updated_at", "created_by"]
        orderable = False
        empty_text = "No KYC is waiting to be finished."
        attrs = {"class": "table align-middle mb-0", "id": "kyc-drafts-table"}

    def render_name(self, record):
        return format_html(
            '<a class="fw-semibold" href="{}">{}</a><div class="small text-body-secondary">CIF {}'
            '<span class="d-md-none"> · saved {}</span></div>',
            reverse("teller:customer-detail", kwargs={"pk": record.pk}), record.display_name or "(no name yet)",
            record.cif, age(record.updated_at),
        )

    def render_kyc_status(self, record):
        if record.kyc_status == KycStatus.REJECTED:
            return format_html('{}<div class="small text-danger mt-1">{}</div>', kyc_badge(record),
                               record.kyc_rejection_reason)
        if record.kyc_status == KycStatus.PENDING:
            return format_html('{}<div class="small text-body-secondary mt-1">{}</div>', kyc_badge(record),
                               "The verification request lapsed; submit it again.")
        return kyc_badge(record)

    def render_updated_at(self, value):
        return format_html('{}<div class="small text-body-secondary">{}</div>',
                           timezone.localtime(value).strftime("%d %b %Y, %H:%M"), age(value))

    def render_created_by(self, value):
        return value.display_name

    def render_resume(self, record):
        return format_html(
            '<a class="btn btn-sm btn-primary" href="{}"><i class="bi bi-arrow-right-circle" aria-hidden="true">'
            '</i> Resume<span class="visually-hidden"> the KYC of {}</span></a>',
            reverse("teller:kyc-step", kwargs={"pk": record.pk, "step": record.kyc_next_step()}),
            record.display_name or record.cif,
        )
