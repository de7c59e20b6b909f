"""The counter: a teller raises a "debited but no cash" complaint for a customer who
comes to the branch. The teller finds the account by its number, sees its cards'
ATM withdrawals of the last 90 days that no reversal has followed, and raises the
complaint for the card's holder (banking.cards.complaints, one rule for both channels)."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from banking.cards.complaints import raise_dispense_complaint, withdrawals_open_to_complaint
from banking.core.errors import BankingError
from banking.deposits.models import DepositAccount
from banking.ledger.models import Channel
from portals import policies
from portals.shared.atm_complaint_forms import RaiseComplaintForm


@require_http_methods(["GET", "POST"])
@policies.teller
def complaint_new(request):
    number = (request.POST.get("account") or request.GET.get("account") or "").strip()
    account = DepositAccount.objects.select_related("customer").filter(number=number).first() if number else None
    problem = "No account has that number." if number and account is None else ""
    withdrawals = withdrawals_open_to_complaint(account=account) if account else None
    form = None
    if account is not None:
        form = RaiseComplaintForm(request.POST or None, withdrawals=withdrawals)
        if request.method == "POST" and form.is_valid():
            withdrawal = form.cleaned_data["withdrawal"]
            try:
                complaint = raise_dispense_complaint(actor=request.user, customer=withdrawal.card.customer,
                                                     withdrawal=withdrawal, channel=Channel.BRANCH,
                                                     details=form.cleaned_data["details"])
            except BankingError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, f"Complaint {complaint.reference} raised for account {account.number}: "
                                          f"the reversal is due by {complaint.reversal_due_on:%d %b %Y}.")
                return redirect(f"{request.path}?account={account.number}")
    return render(request, "portals/teller/atm_complaint_new.html",
                  {"number": number, "account": account, "problem": problem, "form": form,
                   "has_withdrawals": withdrawals is not None and withdrawals.exists(),
                   "complaints": account.atm_complaints.select_related("withdrawal__terminal")[:10]
                   if account else []})
