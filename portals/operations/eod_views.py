"""End of day, its history, the trial balances it keeps, and the holiday calendar.

Everyone on the operations side (policy operations) reads these screens. Starting end
of day needs operations.run_end_of_day (policy ops_end_of_day); entering, removing and
approving a holiday needs operations.manage_holidays (policy ops_holidays; the holiday
page's own POST checks it, as a view carries one policy). The end of day screen is
live: while a run is under way, HTMX polls its fragment; when the run it watched
finishes, the whole page reloads, so the business date in the header moves with it."""

import calendar
import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRefresh
from django_tables2 import RequestConfig

from banking.approvals.actions import approve_request, reject_request
from banking.approvals.models import ApprovalRequest
from banking.core.errors import BankingError
from banking.ledger import holidays as holiday_rules
from banking.ledger.models import Holiday
from banking.operations import actions as operations_actions  # its clock is read at call time, so tests can set it
from banking.operations.actions import (
    HOLIDAY_KINDS,
    HOLIDAY_PERMISSION,
    EndOfDayRefused,
    EndOfDayRunning,
    business_date,
    pre_check_problems,
    request_holiday,
    request_holiday_removal,
    start_end_of_day,
)
from banking.operations.models import EodRun, RunState, TrialBalanceSnapshot
from portals import policies
from portals.supervisor.forms import RejectForm

from .eod_forms import HolidayForm
from .eod_tables import EodRunTable

LIVE = [RunState.WAITING, RunState.RUNNING]
# Where each pre-check is put right, and what the link says.
FIXES = {
    "tills": ("supervisor:tills", "Tills and vault"),
    "branch": ("supervisor:tills", "Close the branch's cash"),
    "neft": ("ops:neft-batches", "NEFT batches"),
    "approval": ("supervisor:queue", "Approval queue"),
}


def _links(problems):
    """Each pre-check's problem with the address where it is fixed."""
    rows = []
    for problem in problems:
        name, label = FIXES[problem.fix]
        if problem.fix == "approval" and problem.subject:
            url = reverse("supervisor:request-detail", kwargs={"pk": problem.subject})
            label = f"Request #{problem.subject}"
        else:
            url = reverse(name)
        rows.append({"text": problem.text, "url": url, "label": label, "fix": problem.fix})
    return rows


def _shown_run():
    """The run the screen follows: one under way or stopped, else the latest."""
    return EodRun.objects.unfinished().first() or EodRun.objects.newest_first().first()


def _run_context(run):
    if run is None:
        return {"run": None}
    steps = list(run.steps.order_by("order"))
    log = list(run.log.order_by("-id")[:40])
    return {"run": run, "steps": steps, "log": log, "live": run.state in LIVE}


def _eod_context(request, refused=None):
    date = business_date()
    run = _shown_run()
    context = {
        "date": date,
        "calendar_date": operations_actions.calendar_date(),
        # Rolled already tonight: the new date's own end of day waits for its day.
        "ahead": date > operations_actions.calendar_date() and (run is None or run.state not in LIVE),
        "holiday": holiday_rules.holiday_name(date),
        "can_start": request.user.has_perm("operations.run_end_of_day"),
        **_run_context(run),
    }
    if refused is not None:
        context["problems"], context["refused"] = _links(refused), True
    elif run is None or run.state not in LIVE:
        context["problems"] = _links(pre_check_problems(date))
    return context


@require_GET
@policies.operations
@vary_on_headers("HX-Request")
def eod(request):
    """End of day now: the pre-checks with where to fix each, Start, and the run's
    steps with progress bars, counts, durations, errors and its log. HTMX polls the
    live fragment while a run is under way."""
    watched = request.GET.get("watch", "")
    if request.htmx and watched.isdigit():
        run = EodRun.objects.filter(pk=int(watched)).first()
        if run is None or run.state not in LIVE:
            return HttpResponseClientRefresh()
    template = "portals/operations/eod_home.html"
    if request.htmx:
        template += "#eod-live"
    return render(request, template, _eod_context(request))


@require_POST
@policies.ops_end_of_day
def eod_start(request):
    try:
        run = start_end_of_day(actor=request.user)
    except EndOfDayRefused as refused:
        messages.error(request, str(refused))
        return render(request, "portals/operations/eod_home.html", _eod_context(request, refused.problems))
    except EndOfDayRunning as running:
        messages.info(request, str(running))
        return redirect("ops:eod")
    except BankingError as error:
        messages.error(request, str(error))
        return redirect("ops:eod")
    if run.state == RunState.RUNNING:
        messages.success(request, f"End of day for {run.business_date:%d %b %Y} restarted: its failed parts are back "
                                  "on the queue.")
    else:
        messages.success(request, f"End of day for {run.business_date:%d %b %Y} started. The steps run on the "
                                  "workers; this page follows them.")
    return redirect("ops:eod")


@require_GET
@policies.operations
def eod_history(request):
    """Past days, newest first, each with its state and timings."""
    table = EodRunTable(EodRun.objects.newest_first().select_related("started_by").prefetch_related("steps"))
    RequestConfig(request, paginate={"per_page": 30}).configure(table)
    return render(request, "portals/operations/eod_history.html", {"table": table})


def _date_or_404(text):
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise Http404("No such date.") from None


@require_GET
@policies.operations
def eod_run(request, date):
    """One day's end of day: its steps with their timings, parts and errors, and its log."""
    run = get_object_or_404(EodRun.objects.select_related("started_by"), business_date=_date_or_404(date))
    context = _run_context(run)
    context["log"] = list(run.log.order_by("id"))
    context["snapshot"] = TrialBalanceSnapshot.objects.filter(business_date=run.business_date).first()
    return render(request, "portals/operations/eod_run.html", context)


# -- the trial balances kept at the close of each day ---------------------------------------


def _chosen(dates, text):
    try:
        chosen = datetime.date.fromisoformat(text) if text else None
    except ValueError:
        return None, "Choose a date from the list."
    if chosen is not None and chosen not in dates:
        return None, f"No trial balance was kept for {chosen:%d %b %Y}: choose a date from the list."
    return chosen, ""


@require_GET
@policies.operations
def eod_trial_balance(request):
    """A day's trial balance as kept at its close, compared with any later day's:
    each account's balance on both dates and the change between them."""
    dates = list(TrialBalanceSnapshot.objects.values_list("business_date", flat=True))
    date, error = _chosen(dates, request.GET.get("date", ""))
    compare, compare_error = _chosen(dates, request.GET.get("compare", ""))
    if date is None and not error and dates:
        date = dates[0]
    if compare is not None and date is not None and compare <= date:
        compare, compare_error = None, "Compare with a later date than the one shown."
    rows, snapshots = [], {}
    for when in (date, compare):
        if when is not None:
            snapshots[when] = TrialBalanceSnapshot.objects.get(business_date=when)
    if date is not None:
        first = {line.account_id: line for line in snapshots[date].lines.select_related("account")}
        later = ({line.account_id: line for line in snapshots[compare].lines.select_related("account")}
                 if compare else {})
        for account_id in sorted(set(first) | set(later),
                                 key=lambda pk: (first.get(pk) or later.get(pk)).account.code):
            line = first.get(account_id) or later.get(account_id)
            before = first[account_id].balance if account_id in first else 0
            after = later[account_id].balance if account_id in later else None
            if not before and not after:
                continue
            rows.append({"account": line.account, "balance": before, "later": after,
                         "change": (after or 0) - before if compare else None})
    context = {
        "dates": dates, "date": date, "compare": compare, "rows": rows,
        "snapshot": snapshots.get(date), "later": snapshots.get(compare),
        "later_dates": [d for d in dates if date is not None and d > date],
        "error": error or compare_error,
    }
    return render(request, "portals/operations/eod_trial_balance.html", context)


# -- holidays ---------------------------------------------------------------------------------


def _holiday_requests(user):
    return (ApprovalRequest.objects.for_checker(user, include_own=True).filter(kind__in=HOLIDAY_KINDS)
            .select_related("maker").newest_first())


def _months(year, known):
    weeks_of = calendar.Calendar(firstweekday=0)
    months = []
    for month in range(1, 13):
        weeks = [[{"date": day, "holiday": known.get(day), "inside": day.month == month} for day in week]
                 for week in weeks_of.monthdatescalendar(year, month)]
        months.append({"name": calendar.month_name[month], "number": month, "weeks": weeks})
    return months


def _year(request, today):
    text = request.GET.get("year", "")
    if text.isdigit() and 2000 <= int(text) <= 2100:
        return int(text)
    return today.year


def _render_holidays(request, form=None, status=200):
    today = business_date()
    year = _year(request, today)
    start, end = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    known = holiday_rules.holidays_between(start, end)
    entered = Holiday.objects.between(start, end).select_related("added_by", "approved_by")
    context = {
        "year": year, "today": today, "months": _months(year, known),
        "entered": entered, "waiting": _holiday_requests(request.user).pending(),
        "may_change": request.user.has_perm(HOLIDAY_PERMISSION),
        "form": form or HolidayForm(),
        "reject_form": RejectForm(),
    }
    return render(request, "portals/operations/eod_holidays.html", context, status=status)


@require_http_methods(["GET", "POST"])
@policies.operations
def holidays(request):
    """The bank's holiday calendar for a year: Sundays, second and fourth Saturdays and
    the holidays operations entered; asking for a holiday (the POST) needs
    operations.manage_holidays, and another member of operations approves it."""
    if request.method != "POST":
        return _render_holidays(request)
    if not request.user.has_perm(HOLIDAY_PERMISSION):
        raise PermissionDenied("ops_holidays policy")
    form = HolidayForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            approval = request_holiday(actor=request.user, date=data["date"], name=data["name"],
                                       idempotency_key=data["idempotency_key"])
        except BankingError as error:
            form.add_error(None, str(error))
        else:
            if approval.repeated:
                messages.info(request, "This holiday was already sent; nothing new was queued.")
            else:
                messages.success(request, f"Sent for approval: {approval.summary}. Another member of operations "
                                          "approves it.")
            return redirect(f"{reverse('ops:holidays')}?year={data['date'].year}")
    return _render_holidays(request, form)


@require_POST
@policies.ops_holidays
def holiday_remove(request, date):
    day = _date_or_404(date)
    try:
        approval = request_holiday_removal(actor=request.user, date=day,
                                           idempotency_key=request.POST.get("idempotency_key", "")[:80])
    except BankingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Sent for approval: {approval.summary}.")
    return redirect(f"{reverse('ops:holidays')}?year={day.year}")


@require_POST
@policies.ops_holidays
def holiday_request_approve(request, pk):
    approval = get_object_or_404(_holiday_requests(request.user), pk=pk)
    try:
        approve_request(actor=request.user, request_id=approval.pk)
    except BankingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Approved and carried out: {approval.summary}.")
    return redirect("ops:holidays")


@require_POST
@policies.ops_holidays
def holiday_request_reject(request, pk):
    approval = get_object_or_404(_holiday_requests(request.user), pk=pk)
    form = RejectForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give a reason for the rejection; the maker will read it.")
        return redirect("ops:holidays")
    try:
        reject_request(actor=request.user, request_id=approval.pk, reason=form.cleaned_data["reason"])
    except BankingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Rejected: {approval.summary}. The maker will see your reason.")
    return redirect("ops:holidays")
