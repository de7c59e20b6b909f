"""Internet banking: the customer's standing instructions, with the next payment
and how the last one went; setting one up (with the authenticator code) to one of
their accounts or payees; cancelling one.

Every query starts from the signed-in customer's own instructions: another
customer's instruction id is a 404."""

from django.contrib import messages
from django.db.models import OuterRef, Subquery
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from banking.core.errors import BankingError
from banking.payments.models import StandingInstruction, StandingInstructionRun
from banking.payments.standing import cancel_standing_instruction, create_standing_instruction
from portals import policies
from portals.customer.authenticator import code_problem

from .standing_forms import CancelInstructionForm, CustomerStandingForm


def _customer(request):
    return getattr(request.user, "customer", None)


def instructions_of(customer):
    """The customer's instructions, newest first, with the last run's outcome."""
    last = StandingInstructionRun.objects.filter(instruction=OuterRef("pk")).order_by("-run_on", "-id")
    return (StandingInstruction.objects.for_customer(customer)
            .select_related("debit_account", "payee", "credit_account")
            .annotate(last_outcome=Subquery(last.values("outcome")[:1]),
                      last_message=Subquery(last.values("message")[:1]),
                      last_run_on=Subquery(last.values("run_on")[:1]))
            .order_by("status", "-created_at"))


@require_GET
@policies.customer
def standing_list(request):
    customer = _customer(request)
    instructions = instructions_of(customer) if customer else StandingInstruction.objects.none()
    return render(request, "portals/customer/standing_list.html", {"instructions": instructions})


@require_http_methods(["GET", "POST"])
@policies.customer
def standing_new(request):
    """Amount, from, to, how often, from when until when, then the authenticator code."""
    customer = _customer(request)
    if customer is None:
        return redirect("customer:standing")
    form = CustomerStandingForm(request.POST or None, customer=customer)
    if request.method == "POST" and form.is_valid():
        if problem := code_problem(request.user, form.cleaned_data["code"]):
            form.add_error("code", problem)
        else:
            try:
                instruction = create_standing_instruction(actor=request.user, customer=customer,
                                                          **form.instruction_arguments())
            except BankingError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, f"Standing instruction set up: {instruction.get_frequency_display().lower()}"
                                          f" payments to {instruction.destination_label}, the first on "
                                          f"{instruction.next_run_on:%d %b %Y}.")
                return redirect("customer:standing")
    return render(request, "portals/customer/standing_new.html", {"form": form})


@require_http_methods(["GET", "POST"])
@policies.customer
def standing_cancel(request, pk):
    customer = _customer(request)
    instruction = get_object_or_404(instructions_of(customer) if customer else StandingInstruction.objects.none(),
                                    pk=pk)
    form = CancelInstructionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            cancel_standing_instruction(actor=request.user, instruction=instruction, reason=form.cleaned_data["reason"])
        except BankingError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Cancelled: nothing more will be paid to {instruction.destination_label}.")
            return redirect("customer:standing")
    return render(request, "portals/customer/standing_cancel.html", {"instruction": instruction, "form": form})
