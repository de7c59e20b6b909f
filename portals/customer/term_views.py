"""Internet banking: a term deposit's maturity, and changing a fixed deposit's
maturity instruction with the authenticator code.

Queries start from the signed-in customer's own accounts (views._my_account): another
customer's deposit is a 404. The instruction can change until the day before maturity
(banking.deposits.terms.change_maturity_instruction says so in words otherwise)."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from banking.core.errors import BankingError
from banking.deposits import terms
from banking.deposits.models import DepositStatus, TermDepositSettlement, TermDepositState
from banking.ledger.models import BusinessDate
from portals import policies
from portals.customer.authenticator import code_problem

from . import views
from .term_forms import MaturityInstructionForm


def term_context(account):
    """What the account page shows of a fixed or recurring deposit: the maturity to
    come, or how it was settled, the interest accrued, and the year's TDS."""
    if not (account.is_fixed or account.is_recurring):
        return None
    today = BusinessDate.objects.current()
    state = TermDepositState.objects.filter(account=account).first()
    settlement = (TermDepositSettlement.objects.filter(account=account)
                  .select_related("paid_to", "renewed_into").first())
    year = terms.financial_year(today)
    context = {
        "settlement": settlement,
        "outcome": terms.maturity_outcome(account),
        "accrued": state.accrued_paise if state and account.is_fixed and not settlement else None,
        "can_change": (account.is_fixed and account.status == DepositStatus.ACTIVE and settlement is None
                       and today < account.maturity_date),
        "tax": terms.year_tax_summary(account.customer, year),
        "renewed_from": TermDepositSettlement.objects.filter(renewed_into=account).select_related("account").first(),
    }
    if account.is_fixed and settlement is None:
        earned = account.maturity_amount - account.principal
        context["tds_estimate"] = terms.quote_tds(customer=account.customer, on=account.maturity_date,
                                                  interest_paise=earned)
    if account.is_recurring:
        context["recurring"] = terms.recurring_summary(account)
    return context


@require_http_methods(["GET", "POST"])
@policies.customer
def fd_maturity(request, number):
    """Choose what a fixed deposit does at maturity; the authenticator code confirms it."""
    account = views._my_account(request, number)
    context = term_context(account)
    if context is None or not account.is_fixed:
        messages.error(request, "Only a fixed deposit has a maturity instruction.")
        return redirect("customer:account", number=number)
    form = MaturityInstructionForm(request.POST or None, initial={"instruction": account.maturity_instruction})
    if request.method == "POST" and form.is_valid():
        if problem := code_problem(request.user, form.cleaned_data["code"]):
            form.refuse(problem, "code")
        else:
            try:
                account = terms.change_maturity_instruction(actor=request.user, account=account,
                                                            instruction=form.cleaned_data["instruction"])
            except BankingError as error:
                form.refuse(error)
            else:
                messages.success(request, f"At maturity on {account.maturity_date:%d %b %Y}: "
                                          f"{account.get_maturity_instruction_display().lower()}.")
                return redirect("customer:account", number=number)
    return render(request, "portals/customer/fd_maturity.html", {"account": account, "form": form, **context})
