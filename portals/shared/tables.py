import django_tables2 as tables
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import format_html

from banking.approvals.models import ApprovalRequest, Status
from banking.core.money import format_money
from portals.templatetags.ages import age, remaining

WIDE_ONLY = {"th": {"class": "d-none d-md-table-cell"}, "td": {"class": "d-none d-md-table-cell"}}


class MyRequestsTable(tables.Table):
    """A maker's own requests and how each was decided."""

    created_at = tables.Column(verbose_name="Sent", attrs=WIDE_ONLY)
    summary = tables.Column(verbose_name="Request")
    amount = tables.Column(
        verbose_name="Amount",
        attrs={"th": {"class": "d-none d-md-table-cell text-end"}, "td": {"class": "d-none d-md-table-cell amount"}},
    )
    status = tables.Column(verbose_name="Status", attrs=WIDE_ONLY)
    decision = tables.Column(verbose_name="Decision", accessor="decision_reason", empty_values=(), attrs=WIDE_ONLY)

    class Meta:
        model = ApprovalRequest
        fields = ["created_at", "summary", "amount", "status", "decision"]
        orderable = False
        empty_text = "You have not sent anything for approval yet."
        attrs = {"class": "table align-middle mb-0", "id": "my-requests"}

    def render_created_at(self, value):
        return format_html(
            '{}<div class="small text-body-secondary">{}</div>',
            timezone.localtime(value).strftime("%d %b %Y, %H:%M"), age(value),
        )

    def render_summary(self, record):
        # On a phone the other columns fold into this one.
        return format_html(
            '{}<div class="small text-body-secondary">{} · #{}</div>'
            '<div class="d-md-none small mt-1"><span class="amount me-2">{}</span>{}<div class="mt-1">{}</div></div>',
            record.summary, record.kind_label, record.pk, self.render_amount(record), self.render_status(record),
            self.render_decision(record),
        )

    def render_amount(self, record):
        return "—" if record.amount is None else format_money(record.amount, record.currency)

    def render_status(self, record):
        return render_to_string("components/request_status.html", {"approval": record})

    def render_decision(self, record):
        status = record.shown_status
        when = timezone.localtime(record.decided_at).strftime("%d %b %Y, %H:%M") if record.decided_at else ""
        checker = record.checker.display_name if record.checker else ""
        if status == Status.PENDING:
            return f"Waiting for a checker; expires {remaining(record.expires_at)}."
        if status == Status.APPROVED:
            return f"Approved by {checker}, {when}."
        if status == Status.REJECTED:
            return format_html(
                'Rejected by {}, {}.<div><span class="fw-semibold">Reason:</span> {}</div>',
                checker, when, record.decision_reason,
            )
        if status == Status.FAILED:
            return format_html(
                'Approved by {}, {}, but it could not be carried out: <span class="text-danger">{}</span>',
                checker, when, record.decision_reason,
            )
        return "Expired before anyone checked it. You can submit it again."
