"""Internet banking: "debited but no cash" complaints about the customer's ATM
withdrawals, the date the reversal is due (T+5, RBI's turnaround time) and how each
stands. Every query starts from the signed-in customer's own cards and complaints."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from banking.cards.complaints import raise_dispense_complaint, withdrawals_open_to_complaint
from banking.cards.models import DispenseComplaint
from banking.core.errors import BankingError
from banking.ledger.models import Channel
from portals import policies
from portals.shared.atm_complaint_forms import RaiseComplaintForm


def _customer(request):
    return getattr(request.user, "customer", None)


def complaints_of(customer):
    return (DispenseComplaint.objects.for_customer(customer).select_related("withdrawal__terminal")
            .prefetch_related("compensations"))


@require_GET
@policies.customer
def complaint_list(request):
    customer = _customer(request)
    complaints = complaints_of(customer) if customer else DispenseComplaint.objects.none()
    return render(request, "portals/customer/atm_complaints_list.html", {"complaints": complaints})


@require_http_methods(["GET", "POST"])
@policies.customer
def complaint_new(request):
    customer = _customer(request)
    if customer is None:
        return redirect("customer:atm-complaints")
    withdrawals = withdrawals_open_to_complaint(customer=customer)
    form = RaiseComplaintForm(request.POST or None, withdrawals=withdrawals)
    if request.method == "POST" and form.is_valid():
        try:
            complaint = raise_dispense_complaint(actor=request.user, customer=customer,
                                                 withdrawal=form.cleaned_data["withdrawal"],
                                                 channel=Channel.INTERNET, details=form.cleaned_data["details"])
        except BankingError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Complaint {complaint.reference} raised. The money is due back by "
                                      f"{complaint.reversal_due_on:%d %b %Y}; after that the bank pays you ₹100 "
                                      "a day until it is.")
            return redirect("customer:atm-complaints")
    return render(request, "portals/customer/atm_complaints_new.html",
                  {"form": form, "has_withdrawals": withdrawals.exists()})
