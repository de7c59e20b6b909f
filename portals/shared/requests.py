"""The maker's side of maker-checker, shared by the teller and operations portals:
each portal has a thin view with its own policy that calls `render_my_requests`."""

from django.shortcuts import render
from django_tables2 import RequestConfig

from banking.approvals.models import ApprovalRequest

from .tables import MyRequestsTable


def render_my_requests(request):
    """The signed-in person's own requests, newest first; HTMX polls the results."""
    mine = ApprovalRequest.objects.for_maker(request.user).select_related("checker").newest_first()
    table = MyRequestsTable(mine)
    RequestConfig(request, paginate={"per_page": 25}).configure(table)
    template = "portals/shared/request_list.html"
    if request.htmx:
        template += "#my-requests-results"
    waiting = ApprovalRequest.objects.for_maker(request.user).pending().count()
    return render(request, template, {"table": table, "waiting": waiting})
