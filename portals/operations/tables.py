import django_tables2 as tables

from banking.audit.models import AuditEvent
from banking.users.roles import Role


class AuditEventTable(tables.Table):
    id = tables.Column(verbose_name="#")
    occurred_at = tables.DateTimeColumn(verbose_name="When", format="d M Y H:i:s")
    actor_username = tables.Column(verbose_name="Who", default="system")
    role = tables.Column(verbose_name="Role")
    action = tables.Column(verbose_name="Action")
    summary = tables.Column(verbose_name="What", orderable=False)
    ip = tables.Column(verbose_name="From", default="—")

    def render_role(self, value):
        return Role(value).label if value in Role.values else value

    class Meta:
        model = AuditEvent
        fields = ["id", "occurred_at", "actor_username", "role", "action", "summary", "ip"]
        orderable = False
        attrs = {"class": "table table-sm table-hover align-middle"}
