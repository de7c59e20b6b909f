from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers
from django_tables2 import RequestConfig

from banking.audit.models import AuditEvent
from portals import policies
from portals.shared.requests import render_my_requests

from .filters import AuditEventFilter
from .tables import AuditEventTable


@require_GET
@policies.operations
def home(request):
    return render(request, "portals/operations/home.html")


@require_GET
@policies.auditor
@vary_on_headers("HX-Request")
def audit_list(request):
    """The audit trail, newest first, filtered; HTMX swaps just the results."""
    events = AuditEventFilter(request.GET, queryset=AuditEvent.objects.order_by("-id"))
    table = AuditEventTable(events.qs)
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    template = "portals/operations/audit_list.html"
    if request.htmx:
        template += "#audit-results"
    return render(request, template, {"filter": events, "table": table})


@require_GET
@policies.operations
@vary_on_headers("HX-Request")
def my_requests(request):
    """What this member of operations sent for approval, and how each was decided."""
    return render_my_requests(request)
