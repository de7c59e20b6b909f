from collections import Counter

from allauth.account.decorators import reauthentication_required
from allauth.core.exceptions import ReauthenticationRequired
from django.conf import settings
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_tables2 import RequestConfig

from banking.approvals.actions import approve_request, reject_request
from banking.approvals.models import ApprovalRequest, Status, approval_limit_of
from banking.approvals.registry import label_for
from banking.core.errors import BankingError
from banking.core.money import format_money
from banking.teller.models import TillDay, TillDayStatus
from portals import policies

from .filters import ApprovalQueueFilter
from .forms import RejectForm
from .tables import ApprovalQueueTable


@require_GET
@policies.supervisor
@vary_on_headers("HX-Request")
def home(request):
    """A supervisor's work: the queue (live, with its counts) and the tills waiting
    for sign-off. HTMX polls the tills here; the queue redraws from the queue's
    address, whose answer carries the navigation's count too."""
    context = {"tills_to_sign_off": _tills_to_sign_off(request.user)}
    if request.htmx:
        return render(request, "portals/supervisor/home.html#tills-to-sign-off", context)
    return render(request, "portals/supervisor/home.html", {**_queue_context(request, {}), **context})


def _tills_to_sign_off(user):
    """Tills of the supervisor's branch counted at close and not yet signed off."""
    if user.branch is None:
        return []
    return list(TillDay.objects.for_branch(user.branch).filter(status=TillDayStatus.COUNTED)
                .select_related("till__teller", "close_request")
                .order_by("business_date", "till__teller__first_name", "pk"))


# -- the approval queue -------------------------------------------------------------
# Every query starts from ApprovalRequest.objects.for_checker(user): a request of
# another branch, or of a kind the supervisor may not check, is a 404.

QUEUE_COUNT = "portals/supervisor/queue_count.html"


def _queue_context(request, params):
    """The queue as the supervisor sees it, filtered by `params`, with its counts
    and the navigation's count, all from one reading: the badge cannot say 2 while
    the list beside it says 3."""
    user = request.user
    pending = ApprovalRequest.objects.for_checker(user).pending().select_related("maker", "branch").newest_first()
    filters = ApprovalQueueFilter(params, queryset=pending, request=request)
    table = ApprovalQueueTable(filters.qs, checker=user)
    RequestConfig(request, paginate={"per_page": 25}).configure(table)
    # What the whole queue holds, read once: its size, its kinds, and what is above the checker's limit.
    rows = list(pending.select_related(None).only("id", "kind", "amount", "currency"))
    cleaned = filters.form.cleaned_data if filters.form.is_valid() else None
    filtered = cleaned is None or any(value not in (None, "") for value in cleaned.values())
    total = len(rows) if filtered else table.paginator.count
    by_kind = Counter(row.kind for row in rows)
    return {
        "filter": filters, "table": table,
        "by_kind": sorted(((label_for(kind), waiting) for kind, waiting in by_kind.items()),
                          key=lambda item: (-item[1], item[0])),
        "above_limit": sum(1 for row in rows if row.exceeds_limit_of(user)),
        "live_badge": {"name": "supervisor:queue-count", "count": total,
                       "template": f"{QUEUE_COUNT}#count", "toggler": f"{QUEUE_COUNT}#toggler"},
    }


@require_GET
@policies.supervisor
@vary_on_headers("HX-Request")
def queue(request):
    """Pending requests the supervisor may check, newest first; HTMX polls and the
    filters swap only the results, with the navigation's count out of band."""
    template = "portals/supervisor/request_queue.html"
    if request.htmx:
        template = "portals/supervisor/queue_results.html#queue-update"
    return render(request, template, _queue_context(request, request.GET))


@require_GET
@policies.supervisor
def queue_count(request):
    """The navigation's live count of pending requests (a polled fragment), with the
    same count beside the menu's button on a phone, out of band."""
    count = ApprovalRequest.objects.for_checker(request.user).pending().count()
    return render(request, QUEUE_COUNT, {"count": count})


def _scope(user):
    return ApprovalRequest.objects.for_checker(user, include_own=True).select_related("maker", "branch", "checker")


def _needs_reauthentication(approval, user):
    """Above the threshold, unless the approval would be refused anyway (own
    request, over the checker's limit): no point asking for a password first."""
    return (
        approval.is_pending
        and approval.maker_id != user.pk
        and approval.amount is not None
        and approval.amount > settings.CBS_REAUTH_APPROVAL_ABOVE
        and not approval.exceeds_limit_of(user)
    )


def _kind_panel(approval):
    """A kind may show more than its describe() rows: a template named
    portals/supervisor/kinds/<kind>.html, when there is one, is included beside
    them with the page's context (a KYC request shows the uploaded documents)."""
    name = f"portals/supervisor/kinds/{approval.kind}.html"
    try:
        get_template(name)
    except TemplateDoesNotExist:
        return None
    return name


def _render_detail(request, approval, reject_form=None):
    user = request.user
    own = approval.maker_id == user.pk
    context = {
        "approval": approval,
        "rows": approval.description(),
        "kind_panel": _kind_panel(approval),
        "own": own,
        "can_decide": approval.is_pending and not own,
        "over_limit": approval.exceeds_limit_of(user),
        "approval_limit": approval_limit_of(user),
        "needs_reauthentication": _needs_reauthentication(approval, user),
        "reauth_above": settings.CBS_REAUTH_APPROVAL_ABOVE,
        "reject_form": reject_form
        or RejectForm(action=reverse("supervisor:request-reject", kwargs={"pk": approval.pk})),
    }
    return render(request, "portals/supervisor/request_detail.html", context)


@require_GET
@policies.supervisor
def request_detail(request, pk):
    """One request in words, with Approve and Reject."""
    return _render_detail(request, get_object_or_404(_scope(request.user), pk=pk))


@require_POST
@policies.supervisor
def request_approve(request, pk):
    approval = get_object_or_404(_scope(request.user), pk=pk)
    if _needs_reauthentication(approval, request.user):
        # allauth keeps this POST, asks for the password and then replays it here.
        try:
            return _approve_after_reauthentication(request, approval)
        except ReauthenticationRequired:
            limit = format_money(settings.CBS_REAUTH_APPROVAL_ABOVE)
            messages.info(request, f"Approvals above {limit} need your password again; the approval carries on "
                                   "once you confirm it.")
            raise
    return _approve(request, approval)


def _approve(request, approval):
    was_pending = approval.is_pending
    try:
        approve_request(actor=request.user, request_id=approval.pk)
    except BankingError as error:
        approval.refresh_from_db()
        if was_pending and approval.status == Status.FAILED and approval.checker_id == request.user.pk:
            messages.error(
                request, f"You approved this request but it could not be carried out: {error} "
                "Nothing was changed and the request is marked failed."
            )
        else:
            messages.error(request, str(error))
        return redirect("supervisor:request-detail", pk=approval.pk)
    messages.success(request, f"Approved and carried out: {approval.summary}.")
    return redirect("supervisor:queue")


_approve_after_reauthentication = reauthentication_required(_approve)


@require_POST
@policies.supervisor
def request_reject(request, pk):
    approval = get_object_or_404(_scope(request.user), pk=pk)
    form = RejectForm(request.POST, action=reverse("supervisor:request-reject", kwargs={"pk": approval.pk}))
    if not form.is_valid():
        return _render_detail(request, approval, reject_form=form)
    try:
        reject_request(actor=request.user, request_id=approval.pk, reason=form.cleaned_data["reason"])
    except BankingError as error:
        messages.error(request, str(error))
        return redirect("supervisor:request-detail", pk=approval.pk)
    messages.success(request, f"Rejected: {approval.summary}. The maker will see your reason.")
    return redirect("supervisor:queue")
