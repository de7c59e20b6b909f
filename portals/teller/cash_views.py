"""The teller's till: its position by denomination, cash asked of and returned to
the vault (through the head teller), opening with a count and closing with one."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from banking.approvals.models import ApprovalRequest
from banking.core.errors import BankingError
from banking.core.money import format_money
from banking.teller.actions import (
    TILL_KINDS,
    close_till,
    open_till,
    request_cash_from_vault,
    request_cash_return,
    today,
)
from banking.teller.denominations import Denominations
from banking.teller.models import CashMovement
from portals import policies

from .cash_forms import TillCountForm
from .counter_views import till_state


def _till_context(user):
    state = till_state(user)
    till = state["till"]
    movements, waiting = [], []
    if till is not None:
        date = state["day"].business_date if state["day"] else today()
        movements = list(CashMovement.objects.filter(box=till, business_date=date).select_related("entry")
                         .order_by("-id")[:50])
        waiting = list(ApprovalRequest.objects.pending().filter(kind__in=TILL_KINDS, payload__till_id=till.pk)
                       .newest_first())
    return {**state, "movements": movements, "waiting": waiting}


@require_GET
@policies.teller
def till(request):
    """My till: what it holds by denomination, today's movements and what waits."""
    return render(request, "portals/teller/till.html", _till_context(request.user))


def _count_page(request, *, action, title, intro, button, initial_counts=None, done):
    """A page with one count of notes and coins that calls `action(counts, key)`."""
    if request.method == "POST":
        form = TillCountForm(request.POST)
        if form.is_valid():
            try:
                message = done(action(form.counts, form.cleaned_data["idempotency_key"]))
            except BankingError as error:
                form.refuse(error)
            else:
                messages.success(request, message)
                return redirect("teller:till")
    else:
        form = TillCountForm(initial=(initial_counts.as_dict() if initial_counts else {}))
    context = {**_till_context(request.user), "form": form, "title": title, "intro": intro, "button": button}
    return render(request, "portals/teller/till_count.html", context)


@require_http_methods(["GET", "POST"])
@policies.teller
def till_open(request):
    return _count_page(
        request, title="Open my till", button="Open the till",
        intro="Count the cash the vault issued to you, note by note. The till opens when your count matches.",
        action=lambda counts, key: open_till(actor=request.user, counted=counts),
        done=lambda day: f"Your till is open for {day.business_date:%d %b %Y} with "
                         f"{format_money(day.opening_counts.value)}.",
    )


@require_http_methods(["GET", "POST"])
@policies.teller
def till_request(request):
    return _count_page(
        request, title="Ask the vault for cash", button="Send to the head teller",
        intro="The notes move into your till when the head teller approves.",
        action=lambda counts, key: request_cash_from_vault(actor=request.user, counts=counts),
        done=lambda approval: f"Your request for {format_money(approval.amount)} is waiting for the head teller.",
    )


@require_http_methods(["GET", "POST"])
@policies.teller
def till_return(request):
    state = till_state(request.user)
    suggestion = None
    if state["till"] is not None and state["till"].over_holding_limit:
        # Return the excess over the holding limit, largest notes first.
        over = -(-state["till"].over_holding_limit // 100_00) * 100_00
        suggestion = Denominations.largest_first(over, state["till"].counts)
    return _count_page(
        request, title="Return cash to the vault", button="Send to the head teller",
        intro="Hand the notes to the head teller; they leave your till when the head teller confirms.",
        action=lambda counts, key: request_cash_return(actor=request.user, counts=counts),
        done=lambda approval: f"The return of {format_money(approval.amount)} is waiting for the head teller.",
        initial_counts=suggestion,
    )


@require_http_methods(["GET", "POST"])
@policies.teller
def till_close(request):
    def done(day):
        if day.difference:
            return (f"Your till is closed with {format_money(day.counted_counts.value)}: "
                    f"{day.difference_label.lower()}, posted to teller suspense and flagged to the head teller, who "
                    "signs the closure off.")
        return (f"Your till is closed with {format_money(day.counted_counts.value)}, balanced. The head teller "
                "signs it off and takes the cash into the vault.")

    return _count_page(
        request, title="Close my till", button="Close the till",
        intro="Count everything in your till, note by note. Any shortage or excess against the books is posted to "
              "teller suspense and flagged to the head teller.",
        action=lambda counts, key: close_till(actor=request.user, counted=counts, idempotency_key=key),
        done=done,
    )
