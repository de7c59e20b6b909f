"""Standing instructions at the counter: the teller finds the customer's account by
number, sees the customer's instructions, and sets one up on the customer's signed
mandate (no authenticator code: the customer is at the counter).

Tellers work bank-wide, as for the customer's accounts (deposit_views)."""

from django.contrib import messages
from django.db.models import OuterRef, Subquery
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from banking.core.errors import BankingError
from banking.payments.models import StandingInstruction, StandingInstructionRun
from banking.payments.standing import cancel_standing_instruction, create_standing_instruction
from banking.teller.lookup import look_up
from portals import policies
from portals.shared.standing_forms import StandingInstructionForm


def _instructions(customer):
    last = StandingInstructionRun.objects.filter(instruction=OuterRef("pk")).order_by("-run_on", "-id")
    return (StandingInstruction.objects.for_customer(customer)
            .select_related("debit_account", "payee", "credit_account")
            .annotate(last_outcome=Subquery(last.values("outcome")[:1]))
            .order_by("status", "-created_at"))


@require_http_methods(["GET", "POST"])
@policies.teller
def standing(request):
    """Account number first; then the customer's instructions and the set-up form."""
    number = (request.POST.get("account") or request.GET.get("account") or "").strip()
    context = {"number": number, "found": None, "error": ""}
    if number:
        try:
            context["found"] = look_up(number, specimens=False)
        except BankingError as error:
            context["error"] = str(error)
    found = context["found"]
    if found is not None:
        customer = found.account.customer
        form = StandingInstructionForm(request.POST or None, customer=customer,
                                       initial={"debit_account": found.account.pk})
        if request.method == "POST" and form.is_valid():
            try:
                instruction = create_standing_instruction(actor=request.user, customer=customer,
                                                          **form.instruction_arguments())
            except BankingError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, f"Standing instruction {instruction.pk} set up for "
                                          f"{customer.display_name}: the first payment on "
                                          f"{instruction.next_run_on:%d %b %Y}.")
                return redirect(f"{reverse('teller:standing')}?account={found.account.number}")
        context.update(customer=customer, form=form, instructions=_instructions(customer))
    return render(request, "portals/teller/standing.html", context)


@require_http_methods(["POST"])
@policies.teller
def standing_cancel(request, pk):
    """Cancel an instruction on the customer's signed request at the counter, with the
    reason they give; the list shows the refusal when the reason is missing."""
    instruction = get_object_or_404(StandingInstruction.objects.select_related("debit_account", "customer"), pk=pk)
    try:
        cancel_standing_instruction(actor=request.user, instruction=instruction,
                                    reason=request.POST.get("reason", ""))
    except BankingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Standing instruction {instruction.pk} cancelled: nothing more will be paid.")
    return redirect(f"{reverse('teller:standing')}?account={instruction.debit_account.number}")
