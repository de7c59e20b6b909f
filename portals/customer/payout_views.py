"""Internet banking: the customer's authoriser decides the payout batches that the
customer's partners (an ERP, a fintech with the customer's mandate) sent above the
customer's authorisation threshold. Maker-checker on the customer's side: the partner
makes the batch, the customer checks it with the authenticator code.

Queries start from the signed-in customer: another customer's batch is a 404."""

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from banking.core.errors import BankingError
from banking.partners.actions import authorise_payout
from banking.partners.models import BatchStatus, PayoutBatch
from portals import policies
from portals.customer.authenticator import code_problem

from .payment_forms import AuthenticatorCodeField, _Form


class PayoutDecisionForm(_Form):
    decision = forms.ChoiceField(choices=[("approve", "Authorise"), ("decline", "Decline")],
                                 error_messages={"required": "Choose to authorise or decline the batch."})
    code = AuthenticatorCodeField()


def _customer(request):
    customer = getattr(request.user, "customer", None)
    if customer is None:
        raise Http404("No customer record for this login.")
    return customer


def _my_batches(request):
    customer = _customer(request)
    return PayoutBatch.objects.filter(partner__customer=customer).select_related("partner", "partner__payout_account")


@require_http_methods(["GET"])
@policies.customer
def payout_list(request):
    batches = _my_batches(request)
    return render(request, "portals/customer/payouts_list.html", {
        "waiting": batches.filter(status=BatchStatus.AWAITING_AUTHORISATION).prefetch_related("items"),
        "recent": batches.exclude(status=BatchStatus.AWAITING_AUTHORISATION)[:20],
    })


@require_http_methods(["GET", "POST"])
@policies.customer
def payout_decide(request, pk):
    batch = _my_batches(request).filter(pk=pk).prefetch_related("items").first()
    if batch is None:
        raise Http404("No such payout batch.")
    form = PayoutDecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if problem := code_problem(request.user, form.cleaned_data["code"]):
            form.refuse(problem, "code")
        else:
            approve = form.cleaned_data["decision"] == "approve"
            try:
                authorise_payout(actor=request.user, customer=_customer(request), batch_id=batch.pk,
                                 approve=approve)
            except BankingError as error:
                form.refuse(error)
            else:
                messages.success(request, f"Payout batch of {batch.items.count()} payments from {batch.partner.name} "
                                          f"{'authorised: the payments are on their way' if approve else 'declined'}.")
                return redirect("customer:payouts")
    return render(request, "portals/customer/payouts_decide.html", {"batch": batch, "form": form})
