import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from banking.core.money import format_money
from banking.users.models import User
from portals.supervisor.tables import WIDE_ONLY, ApprovalQueueTable


class StaffTable(tables.Table):
    name = tables.Column(verbose_name="Person", accessor="username", order_by=("first_name", "last_name"))
    role = tables.Column(verbose_name="Roles", accessor="pk", orderable=False)
    branch = tables.Column(verbose_name="Branch", accessor="staff_profile__branch", default="Head office")
    approval_limit = tables.Column(verbose_name="Approval limit", accessor="staff_profile__approval_limit",
                                   attrs={"th": {"class": "text-end"}, "td": {"class": "amount"}})
    cash_limit = tables.Column(verbose_name="Cash limit", accessor="staff_profile__cash_limit",
                               attrs={"th": {"class": "text-end d-none d-md-table-cell"},
                                      "td": {"class": "amount d-none d-md-table-cell"}})
    change = tables.Column(verbose_name="", accessor="pk", orderable=False, attrs=WIDE_ONLY)

    class Meta:
        model = User
        fields = ["name", "role", "branch", "approval_limit", "cash_limit", "change"]
        orderable = False
        empty_text = "No staff yet."
        attrs = {"class": "table table-hover align-middle mb-0", "id": "staff-list"}

    def render_name(self, record):
        return format_html(
            '<a class="fw-semibold" href="{}">{}</a><div class="small text-body-secondary">{}{}</div>',
            reverse("ops:staff-change", kwargs={"pk": record.pk}), record.display_name, record.username,
            "" if record.is_active else " · inactive",
        )

    def render_role(self, record):
        return ", ".join(role.label for role in record.roles) or "No role"

    def render_branch(self, value):
        return value.name

    def render_approval_limit(self, value):
        return format_money(value)

    def render_cash_limit(self, value):
        return format_money(value)

    def render_change(self, record):
        return format_html('<a href="{}">Request a change</a>', reverse("ops:staff-change", kwargs={"pk": record.pk}))


class StaffRequestTable(ApprovalQueueTable):
    """The approval queue's columns; each request opens on the operations portal's own page."""

    class Meta(ApprovalQueueTable.Meta):
        empty_text = "No staff changes are waiting."
        attrs = {"class": "table table-hover align-middle mb-0", "id": "staff-requests"}
        exclude = ["branch", "amount"]

    def render_summary(self, record):
        return format_html(
            '<a class="fw-semibold" href="{}">{}</a><div class="small text-body-secondary">{}</div>',
            reverse("ops:staff-request", kwargs={"pk": record.pk}), record.summary, record.kind_label,
        )
