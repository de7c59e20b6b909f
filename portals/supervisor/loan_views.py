"""The branch's overdue loans, by SMA bucket: what the supervisor follows up."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django_tables2 import RequestConfig

from banking.loans import reports
from portals import policies
from portals.operations.loan_report_tables import LoanStatusTable


@require_GET
@policies.supervisor
def loans_overdue(request):
    """The branch's loans past due at the last end of day, worst first; `bucket`
    narrows to SMA-0, SMA-1, SMA-2 or NPA."""
    branch = request.user.branch
    if branch is None:
        raise PermissionDenied("No branch")
    buckets = {key: classes for key, _, classes in reports.OVERDUE_BUCKETS}
    bucket = request.GET.get("bucket", "")
    if bucket not in buckets:
        bucket = ""
    date, rows = reports.sma_npa(branch=branch)
    counts = reports.overdue_buckets(rows) if date else []
    if bucket:
        rows = rows.filter(classification__in=buckets[bucket])
    table = LoanStatusTable(rows)
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    return render(request, "portals/supervisor/loans_overdue.html", {
        "branch": branch, "date": date, "table": table, "buckets": counts, "bucket": bucket})
