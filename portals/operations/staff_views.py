"""Staff and roles: administrators ask for a person's roles, branch and limits to
change, and another administrator approves or rejects the request here. Nobody
asks about themselves or decides a request about themselves (banking/users/actions.py)."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_tables2 import RequestConfig

from banking.approvals.models import ApprovalRequest
from banking.core.errors import BankingError
from banking.users.actions import (
    STAFF_KINDS,
    approve_staff_request,
    current_access,
    reject_staff_request,
    request_staff_change,
)
from banking.users.models import Branch, User
from banking.users.roles import Role
from portals import policies
from portals.supervisor.forms import RejectForm

from .staff_forms import StaffChangeForm
from .staff_tables import StaffRequestTable, StaffTable


def _staff():
    return (User.objects.filter(staff_profile__isnull=False)
            .select_related("staff_profile__branch").order_by("first_name", "last_name", "username"))


def _requests(user):
    """Staff requests this administrator may see: theirs and the ones they may check."""
    return (ApprovalRequest.objects.for_checker(user, include_own=True).filter(kind__in=STAFF_KINDS)
            .select_related("maker", "checker", "branch"))


@require_GET
@policies.staff_admin
def staff_list(request):
    """Everyone on the staff with their roles, branch and limits, and the staff
    changes waiting for a second administrator."""
    people = StaffTable(_staff())
    RequestConfig(request, paginate={"per_page": 50}).configure(people)
    waiting = StaffRequestTable(_requests(request.user).pending().newest_first())
    return render(request, "portals/operations/staff_list.html", {"people": people, "waiting": waiting})


@require_http_methods(["GET", "POST"])
@policies.staff_admin
def staff_change(request, pk):
    """Ask for one person's roles, branch and limits to change."""
    person = get_object_or_404(_staff(), pk=pk)
    access = current_access(person)
    if request.method == "POST":
        form = StaffChangeForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                approval = request_staff_change(
                    actor=request.user, person=person, roles=data["roles"], branch=data["branch"],
                    approval_limit=data["approval_limit"], cash_limit=data["cash_limit"],
                    idempotency_key=data["idempotency_key"],
                )
            except BankingError as error:
                form.add_error(None, str(error))
            else:
                if approval.repeated:
                    messages.info(request, "This change was already sent; nothing new was queued.")
                else:
                    messages.success(request, f"Sent for approval: {approval.summary}. Another administrator "
                                              "approves it.")
                return redirect("ops:staff")
    else:
        branch = Branch.objects.filter(code=access["branch"]).first() if access["branch"] else None
        form = StaffChangeForm(initial={
            "roles": access["roles"], "branch": branch,
            "approval_limit": f"{access['approval_limit'] / 100:.2f}",
            "cash_limit": f"{access['cash_limit'] / 100:.2f}",
        })
    context = {"person": person, "form": form, "is_self": person.pk == request.user.pk,
               "roles": [Role(role).label for role in access["roles"]]}
    return render(request, "portals/operations/staff_change.html", context)


def _render_request(request, approval, reject_form=None):
    own = approval.maker_id == request.user.pk
    about_me = approval.payload.get("person_id") == request.user.pk
    context = {
        "approval": approval,
        "rows": approval.description(),
        "own": own,
        "about_me": about_me,
        "can_decide": approval.is_pending and not own and not about_me,
        "reject_form": reject_form
        or RejectForm(action=reverse("ops:staff-request-reject", kwargs={"pk": approval.pk})),
    }
    return render(request, "portals/operations/staff_request.html", context)


@require_GET
@policies.staff_admin
def staff_request(request, pk):
    """One staff request in words, with Approve and Reject for another administrator."""
    return _render_request(request, get_object_or_404(_requests(request.user), pk=pk))


@require_POST
@policies.staff_admin
def staff_request_approve(request, pk):
    approval = get_object_or_404(_requests(request.user), pk=pk)
    try:
        approve_staff_request(actor=request.user, request_id=approval.pk)
    except BankingError as error:
        messages.error(request, str(error))
        return redirect("ops:staff-request", pk=approval.pk)
    messages.success(request, f"Approved and carried out: {approval.summary}.")
    return redirect("ops:staff")


@require_POST
@policies.staff_admin
def staff_request_reject(request, pk):
    approval = get_object_or_404(_requests(request.user), pk=pk)
    form = RejectForm(request.POST, action=reverse("ops:staff-request-reject", kwargs={"pk": approval.pk}))
    if not form.is_valid():
        return _render_request(request, approval, reject_form=form)
    try:
        reject_staff_request(actor=request.user, request_id=approval.pk, reason=form.cleaned_data["reason"])
    except BankingError as error:
        messages.error(request, str(error))
        return redirect("ops:staff-request", pk=approval.pk)
    messages.success(request, f"Rejected: {approval.summary}. The maker will see your reason.")
    return redirect("ops:staff")
