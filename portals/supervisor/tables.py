import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from banking.approvals.models import ApprovalRequest
from banking.core.money import format_money
from portals.templatetags.ages import age, remaining

# Columns a phone can do without; the summary links to everything.
WIDE_ONLY = {"th": {"class": "d-none d-md-table-cell"}, "td": {"class": "d-none d-md-table-cell"}}


class ApprovalQueueTable(tables.Table):
    created_at = tables.Column(verbose_name="Sent", attrs={"td": {"class": "text-nowrap"}})
    summary = tables.Column(verbose_name="Request")
    branch = tables.Column(verbose_name="Branch", default="Head office", attrs=WIDE_ONLY)
    maker = tables.Column(verbose_name="Made by", attrs=WIDE_ONLY)
    amount = tables.Column(verbose_name="Amount", attrs={"th": {"class": "text-end"}, "td": {"class": "amount"}})
    expires_at = tables.Column(verbose_name="Expires", attrs=WIDE_ONLY)

    class Meta:
        model = ApprovalRequest
        fields = ["created_at", "summary", "branch", "maker", "amount", "expires_at"]
        orderable = False
        empty_text = "Nothing is waiting for you. New requests appear here as they arrive."
        attrs = {"class": "table table-hover align-middle mb-0", "id": "approval-queue"}

    def __init__(self, *args, checker=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.checker = checker

    def render_created_at(self, value):
        return age(value)

    def render_summary(self, record):
        return format_html(
            '<a class="fw-semibold" href="{}">{}</a><div class="small text-body-secondary">{}</div>',
            reverse("supervisor:request-detail", kwargs={"pk": record.pk}), record.summary, record.kind_label,
        )

    def render_branch(self, value):
        return value.name

    def render_maker(self, value):
        return value.display_name

    def render_amount(self, record):
        if record.amount is None:
            return "—"
        text = format_money(record.amount, record.currency)
        if not record.exceeds_limit_of(self.checker):
            return text
        return format_html('{}<div class="small text-danger">above your limit</div>', text)

    def render_expires_at(self, value):
        return remaining(value)
