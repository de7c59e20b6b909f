"""The queue of background jobs (banking.core.jobs): waiting, running, failed with
their error, and retried, filterable by status, queue and task, live (HTMX polls the
list). Everyone on the operations side reads it (policy operations); sending a
failed job back to the queue needs core.retry_jobs (policy ops_jobs), and is
audited. The queue is the bank's, so the scope is all of it."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_tables2 import RequestConfig

from banking.core import jobs
from banking.core.actions import RETRY_PERMISSION, retry_job
from banking.core.errors import BankingError
from portals import policies

from .job_filters import JobFilter
from .job_tables import JobTable

PAGE = {"per_page": 50}
TEMPLATE = "portals/operations/jobs_list.html"


def every(cron):
    """A cron schedule in words, for the schedules the bank uses (UTC)."""
    minute, *rest = cron.split()
    if rest == ["*", "*", "*", "*"]:
        if minute == "*":
            return "Every minute"
        if minute.startswith("*/"):
            return f"Every {minute[2:]} minutes"
        if minute == "0,30":
            return "Every half hour, round the clock"
    return f"On the schedule {cron} (UTC)"


def _list_context(request):
    found = JobFilter(request.GET, queryset=jobs.jobs_query())
    table = JobTable(found.qs, may_retry=request.user.has_perm(RETRY_PERMISSION))
    RequestConfig(request, paginate=PAGE).configure(table)
    counts = jobs.status_counts()
    return {
        "filter": found, "table": table, "workers": jobs.live_workers(),
        "waiting": counts.get("todo", 0), "running": counts.get("doing", 0), "failed": counts.get("failed", 0),
    }


@require_GET
@policies.operations
@vary_on_headers("HX-Request")
def jobs_list(request):
    context = _list_context(request)
    if request.htmx:
        return render(request, TEMPLATE + "#job-results", context)
    context["schedule"] = [{"task": name, "when": every(cron), "what": jobs.summary(name)}
                           for name, cron in jobs.schedule()]
    return render(request, TEMPLATE, context)


@require_POST
@policies.ops_jobs
def job_retry(request, pk):
    try:
        task_name = retry_job(actor=request.user, job_id=pk)
    except BankingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Job #{pk} ({task_name}) is back in the queue: a worker will run it shortly.")
    if request.htmx:
        return render(request, TEMPLATE + "#job-results", _list_context(request))
    query = request.GET.urlencode()
    return redirect(reverse("ops:jobs") + (f"?{query}" if query else ""))
