"""The head teller's view of the branch's cash: the vault and every till today,
cash differences flagged at close, closing the branch's cash for the day, and the
cash position report by denomination.

Everything is scoped to the supervisor's own branch.
"""

import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_tables2 import RequestConfig

from banking.approvals.models import ApprovalRequest
from banking.core.errors import BankingError
from banking.teller.actions import TILL_CLOSE, TILL_KINDS, branch_close_problems, close_branch, today
from banking.teller.models import BranchDay, CashBox, TillDay, TillDayStatus
from banking.teller.reports import cash_position
from portals import policies

from .cash_tables import CashDifferenceTable


def _branch(request):
    branch = request.user.branch
    if branch is None:
        raise PermissionDenied("No branch")
    return branch


def tills_context(branch):
    date = today()
    vault = CashBox.objects.vaults().for_branch(branch).first()
    days = {day.till_id: day for day in TillDay.objects.for_branch(branch).on(date)
            .select_related("close_request", "difference_entry")}
    waiting = list(ApprovalRequest.objects.pending().filter(kind__in=[*TILL_KINDS, TILL_CLOSE], branch=branch)
                   .select_related("maker").newest_first())
    rows = []
    for till in CashBox.objects.tills().for_branch(branch).select_related("teller").order_by("teller__first_name"):
        day = days.get(till.pk)
        rows.append({"till": till, "day": day,
                     "status": day.get_status_display() if day else "Not opened",
                     "state": day.status if day else "none"})
    flagged = [row for row in rows if row["day"] and row["day"].is_flagged]
    return {
        "date": date, "vault": vault, "rows": rows, "waiting": waiting, "flagged": flagged,
        "problems": branch_close_problems(branch, date),
        "branch_day": BranchDay.objects.filter(branch=branch, business_date=date).select_related("closed_by").first(),
        "counted_statuses": TillDayStatus,
    }


@require_GET
@policies.supervisor
@vary_on_headers("HX-Request")
def tills(request):
    """The vault and every till of the branch today, live: who is open, who has
    counted, which closings are short or over, what waits for approval."""
    branch = _branch(request)
    template = "portals/supervisor/tills.html"
    if request.htmx:
        template += "#tills-live"
    return render(request, template, {"branch": branch, **tills_context(branch)})


@require_POST
@policies.supervisor
def branch_close(request):
    branch = _branch(request)
    try:
        branch_day = close_branch(actor=request.user, branch=branch)
    except BankingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{branch.name} closed its cash for {branch_day.business_date:%d %b %Y}.")
    return redirect("supervisor:tills")


def _report_date(request):
    current = today()
    raw = request.GET.get("date", "")
    if not raw:
        return current, None
    try:
        date = datetime.date.fromisoformat(raw)
    except ValueError:
        return current, "Enter the date as a calendar date."
    if date > current:
        return current, f"There is no cash position after the business date, {current:%d %b %Y}."
    return date, None


@require_GET
@policies.supervisor
def cash_position_report(request):
    """Per denomination and in total, for the vault and every till: opening,
    receipts, payments and closing of a business date."""
    branch = _branch(request)
    date, error = _report_date(request)
    report = cash_position(branch, date)
    return render(request, "portals/supervisor/cash_position.html",
                  {"branch": branch, "report": report, "date": date, "error": error, "today": today()})


@require_GET
@policies.supervisor
def cash_differences(request):
    """Every till closing whose count differed from the books, newest first."""
    branch = _branch(request)
    days = (TillDay.objects.for_branch(branch).with_difference()
            .select_related("till__teller", "closed_by", "signed_off_by", "difference_entry", "close_request")
            .order_by("-business_date", "-id"))
    table = CashDifferenceTable(days)
    RequestConfig(request, paginate={"per_page": 25}).configure(table)
    return render(request, "portals/supervisor/cash_differences.html", {"branch": branch, "table": table})
