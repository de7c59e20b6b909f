"""The counter's view of what needs the customer's attention: re-KYC due, dormancy,
recurring deposit instalments missed and their penalties, deposits end of day could
not settle, and tax on deposit interest (recording a Form 15G or 15H); and the list
of customers whose re-KYC is due.

Tellers work bank-wide, as elsewhere in the teller portal: any customer, any branch's
list. The rules are the domain's (banking.deposits.terms, banking.customers.rekyc);
these views only read them and call the actions."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods
from django_tables2 import RequestConfig

from banking.core.errors import BankingError
from banking.customers.models import Customer, RekycNotice
from banking.customers.rekyc import flagged
from banking.deposits import savings, terms
from banking.deposits.interest import add_months
from banking.deposits.models import DepositAccount, DepositStatus, ProductKind, TermDepositState
from banking.deposits.savings_models import DormancyNotice
from banking.ledger.models import BusinessDate
from portals import policies

from .deposit_views import customer_url
from .term_forms import TaxDeclarationForm
from .term_tables import RekycTable


def attention(customer):
    """What customer 360 shows the teller to raise with the customer."""
    today = BusinessDate.objects.current()
    accounts = list(DepositAccount.objects.for_customer(customer).open().select_related("product", "source_account")
                    .order_by("number"))
    rekyc = None
    if customer.is_kyc_verified and customer.rekyc_due_on and customer.rekyc_due_on <= today:
        rekyc = {"due_on": customer.rekyc_due_on,
                 "notice": RekycNotice.objects.filter(customer=customer, due_on=customer.rekyc_due_on).first()}
    dormant = [{"account": a, "since": a.last_customer_activity_on}
               for a in accounts if a.is_operative and a.status == DepositStatus.INOPERATIVE]
    # Accounts the dormancy rule (banking.deposits.savings) will make inoperative within
    # its warning period, unless the customer makes a transaction first.
    warn_until = add_months(today, savings.WARN_MONTHS_BEFORE)
    going_dormant = []
    for account in accounts:
        if account.is_operative and account.status == DepositStatus.ACTIVE and account.opened_on:
            since = account.last_customer_activity_on or account.opened_on
            becomes = savings.inoperative_on(since)
            if becomes <= warn_until:
                notice = DormancyNotice.objects.filter(account=account, active_since=since).first()
                going_dormant.append({"account": account, "since": since, "becomes": becomes,
                                      "warned_on": notice.warned_on if notice and notice.email else None})
    recurring = [{"account": a, **terms.recurring_summary(a)}
                 for a in accounts if a.product.kind == ProductKind.RECURRING]
    problems = (TermDepositState.objects.filter(account__in=[a.pk for a in accounts]).exclude(problem="")
                .select_related("account"))
    year = terms.financial_year(today)
    return {
        "rekyc": rekyc, "dormant": dormant, "going_dormant": going_dormant, "recurring": recurring,
        "problems": list(problems),
        "tax": terms.year_tax_summary(customer, year),
    }


@require_GET
@policies.teller
def rekyc_due(request):
    """Customers whose periodic KYC is due: the teller's branch first, or the whole bank."""
    everywhere = request.GET.get("where") == "bank"
    customers = flagged(Customer.objects.rekyc_due(BusinessDate.objects.current())).select_related("home_branch")
    if not everywhere:
        customers = customers.for_branch(request.user.branch)
    table = RekycTable(customers.order_by("rekyc_due_on", "cif"))
    RequestConfig(request, paginate={"per_page": 25}).configure(table)
    return render(request, "portals/teller/rekyc_due.html", {"table": table, "everywhere": everywhere})


@require_http_methods(["GET", "POST"])
@policies.teller
def tax_declaration(request, pk):
    """Record the Form 15G or 15H the customer signed for this financial year."""
    customer = get_object_or_404(Customer.objects.select_related("home_branch"), pk=pk)
    form = TaxDeclarationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            declaration = terms.record_tax_declaration(actor=request.user, customer=customer,
                                                       form=form.cleaned_data["form"])
        except BankingError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"{declaration.get_form_display()} recorded for "
                                      f"{terms.financial_year_label(declaration.financial_year)}: no tax is deducted "
                                      "from this customer's deposit interest this year.")
            return redirect(customer_url(customer))
    today = BusinessDate.objects.current()
    return render(request, "portals/teller/tax_declaration.html", {
        "customer": customer, "form": form, "customer_url": customer_url(customer),
        "tax": terms.year_tax_summary(customer, terms.financial_year(today)),
    })
