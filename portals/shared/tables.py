import django_tables2 as tables
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince, timeuntil

from banking.approvals.models import ApprovalRequest, Status
from banking.core.money import format_money

WIDE_ONLY = {"th": {"class": "d-none d-md-table-cell"}, "td": {"class": "d-none d-md-table-cell"}}


class MyRequestsTable(tables.Table):
    """A maker's own requests and how each was decided."""

    created_at = tables.Column(verbose_name="Sent", attrs=WIDE_ONLY)
    summary = tables.Column(verbose_name="Request")
    amount = tables.Column(verbose_name="Amount", attrs={"th": {"class": "text-end"}, "td": {"class": "amount"}})
    status = tables.Column(verbose_name="Status")
    decision = tables.Column(verbose_name="Decision", accessor="decision_reason", empty_values=())

    class Meta:
        model = ApprovalRequest
        fields = ["created_at", "summary", "amount", "status", "decision"]
        orderable = False
        empty_text = "You have not sent anything for approval yet."
        attrs = {"class": "table align-middle mb-0", "id": "my-requests"}

    def render_created_at(self, value):
        return format_html(
            '{}<div class="small text-body-secondary">{} ago</div>',
            timezone.localtime(value).strftime("%d %b %Y, %H:%M"), timesince(value).split(",")[0],
        )

    def render_summary(self, record):
        return format_html('{}<div class="small text-body-secondary">{} · #{}</div>', record.summary,
                           record.kind_label, record.pk)

    def render_amount(self, record):
        return "—" if record.amount is None else format_money(record.amount, record.currency)

    def render_status(self, record):
        return render_to_string("components/request_status.html", {"approval": record})

    def render_decision(self, record):
        status = record.shown_status
        when = timezone.localtime(record.decided_at).strftime("%d %b %Y, %H:%M") if record.decided_at else ""
        checker = record.checker.display_name if record.checker else ""
        if status == Status.PENDING:
            return f"Waiting for a checker; expires in {timeuntil(record.expires_at).split(',')[0]}."
        if status == Status.APPROVED:
            return f"Approved by {checker}, {when}."
        if status == Status.REJECTED:
            return format_html(
                'Rejected by {}, {}.<div class="fw-semibold" data-testid="rejection-reason">Reason: {}</div>',
                checker, when, record.decision_reason,
            )
        if status == Status.FAILED:
            return format_html(
                'Approved by {}, {}, but it could not be carried out: <span class="text-danger">{}</span>',
                checker, when, record.decision_reason,
            )
        return "Expired before anyone checked it. You can submit it again."
