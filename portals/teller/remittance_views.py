"""NEFT and RTGS for a walk-in customer at the counter: the remittance form with a
live IFSC look-up and the account look-up card, then the receipt with the UTR,
which waits live for a supervisor when the amount is above the teller's limit.

Receipts are scoped to remittances taken at the teller's own branch."""

from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from banking.core.errors import BankingError
from banking.payments.models import BankBranch, Origin, Payment
from banking.payments.remittance import send_remittance
from banking.teller.actions import PAN_THRESHOLD
from banking.teller.denominations import Denominations
from banking.teller.models import CashMovement
from banking.teller.words import rupees_in_words
from portals import policies

from .counter_views import lookup_context, till_state
from .remittance_forms import RemittanceForm


def ifsc_context(code):
    """What the IFSC look-up shows: the bank and branch, or why the code is wrong."""
    from banking.payments.directory import find_branch

    code = str(code or "").strip().upper()
    if len(code) < 11:
        return {"state": "typing" if code else "empty", "code": code}
    try:
        branch = find_branch(code)
    except BankingError as error:
        return {"state": "error", "error": str(error), "code": code}
    return {"state": "found", "branch": branch, "code": code}


@require_http_methods(["GET", "POST"])
@policies.teller
def remittance(request):
    """Remitter, beneficiary, rail, amount, then the money: from an account or in cash."""
    form = RemittanceForm(request.POST or None, initial={"source": "cash"})
    if request.method == "POST" and form.is_valid():
        try:
            payment = send_remittance(actor=request.user, **form.remittance_arguments())
        except BankingError as error:
            form.refuse(error)
        else:
            return redirect("teller:remittance-receipt", pk=payment.pk)
    number = form.data.get("account") if form.is_bound else ""
    context = {"form": form, "lookup": lookup_context(number, "transfer-from"), "pan_threshold": PAN_THRESHOLD,
               "ifsc": ifsc_context(form.data.get("beneficiary_ifsc") if form.is_bound else ""),
               **till_state(request.user)}
    return render(request, "portals/teller/remittance.html", context)


@require_GET
@policies.teller
def remittance_ifsc(request):
    """The bank and branch of the IFSC being typed, swapped in beside the field."""
    return render(request, "portals/teller/remittance.html#ifsc-lookup",
                  {"ifsc": ifsc_context(request.GET.get("beneficiary_ifsc"))})


@require_GET
@policies.teller
@vary_on_headers("HX-Request")
def remittance_receipt(request, pk):
    """The receipt, or the live status while a supervisor decides; printable."""
    payment = get_object_or_404(
        Payment.objects.filter(origin=Origin.BRANCH, initiated_by__staff_profile__branch=request.user.branch)
        .select_related("debit_account", "initiated_by", "approval", "approval__checker", "debit_entry"),
        pk=pk)
    movement = (CashMovement.objects.filter(entry_id=payment.debit_entry_id, amount__gt=0).first()
                if payment.paid_in_cash and payment.debit_entry_id else None)
    context = {
        "payment": payment, "words": rupees_in_words(payment.amount),
        "bank": BankBranch.objects.filter(ifsc=payment.beneficiary_ifsc).first(),
        "counts": Denominations.of_model(movement) if movement else None,
        "waiting": payment.status == "awaiting_approval" and payment.approval and payment.approval.is_pending,
    }
    template = "portals/teller/remittance_receipt.html"
    if request.htmx:
        template += "#remittance-body"
    return render(request, template, context)
