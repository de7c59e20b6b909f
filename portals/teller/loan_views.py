"""Loans at the counter: the application with its live eligibility, the Key Facts
Statement (on screen and as PDF) with the teller's attestation, the request for
sanction, the disbursement, and the loan's page with its schedule, what is due,
its repayments and its classification history (servicing: loan_servicing_views.py).

Tellers read applications and loans bank-wide, as elsewhere in the teller portal;
the actions refuse, in words, work on another branch's application or loan. The
rules are the domain's (banking.loans); these views read them and call the actions.
"""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from banking.core.errors import BankingError
from banking.core.identifiers import new_token
from banking.core.money import format_money
from banking.customers.models import Customer
from banking.loans import actions, bureau, servicing
from banking.loans.kfs import key_facts, kfs_pdf
from banking.loans.models import ApplicationStatus, Loan, LoanApplication, LoanStatus
from portals import policies

from .deposit_views import customer_url
from .loan_forms import AttestationForm, DisbursementForm, LoanApplicationForm


def _application(number):
    return get_object_or_404(
        LoanApplication.objects.select_related("customer", "product", "product_version", "branch",
                                               "deposit_account", "acknowledged_by", "sanction_request"),
        number=number)


def _loan(number):
    return get_object_or_404(
        Loan.objects.select_related("customer", "product", "branch", "deposit_account", "ledger_account",
                                    "application"), number=number)


def application_url(application):
    return reverse("teller:loan-application", args=[application.number])


def loan_url(loan):
    return reverse("teller:loan-detail", args=[loan.number])


def _quote(customer, data):
    """The quote for the form's inputs, and where its bureau score came from."""
    score, simulated = data.get("bureau_score"), False
    if score is None:
        score, simulated = bureau.score_for(customer), True
    quote = actions.quote_loan(
        product=data["product"], amount=data["amount"], months=data["months"], monthly_income=data["monthly_income"],
        existing_emis=data.get("existing_emis") or 0, bureau_score=score, gold_grams=data.get("gold_grams"),
        gold_carat=data.get("gold_carat"))
    return quote, score, simulated


@require_http_methods(["GET", "POST"])
@policies.teller
@vary_on_headers("HX-Request")
def loan_apply(request, pk):
    """A walk-in customer's loan application. The eligibility shows as the form
    changes (HTMX posts `action=preview`); `action=apply` takes the application and
    issues its KFS."""
    customer = get_object_or_404(Customer.objects.select_related("home_branch"), pk=pk)
    form = LoanApplicationForm(request.POST or None, customer=customer)
    quote = score = None
    simulated = False
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            quote, score, simulated = _quote(customer, data)
            if request.POST.get("action") == "apply":
                application = actions.apply_for_loan(
                    actor=request.user, customer=customer, product=data["product"],
                    deposit_account=data["deposit_account"], amount=data["amount"], months=data["months"],
                    purpose=data["purpose"], monthly_income=data["monthly_income"],
                    existing_emis=data.get("existing_emis") or 0, bureau_score=data.get("bureau_score"),
                    gold_grams=data.get("gold_grams"), gold_carat=data.get("gold_carat"),
                    idempotency_key=f"loan-{data['token']}")
                messages.success(request, f"Application {application.number} taken. Give the borrower the Key "
                                          "Facts Statement and record their acknowledgement.")
                return redirect(application_url(application))
        except BankingError as error:
            form.add_error(None, str(error))
    template = "portals/teller/loan_apply.html"
    context = {"customer": customer, "form": form, "quote": quote, "score": score, "simulated": simulated,
               "customer_url": customer_url(customer), "has_account": form.fields["deposit_account"].queryset.exists()}
    if request.htmx and request.POST.get("action") == "preview":
        template += "#loan-eligibility"
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
@policies.teller
def loan_application(request, number):
    """The application's KFS, the teller's attestation, and the request for sanction."""
    application = _application(number)
    form = AttestationForm(request.POST or None) if request.method == "POST" else AttestationForm()
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "acknowledge":
                if form.is_valid():
                    actions.acknowledge_kfs(actor=request.user, application=application,
                                            statement=form.cleaned_data["statement"])
                    messages.success(request, "The borrower's acknowledgement of the KFS is recorded.")
                    return redirect(application_url(application))
            elif action == "sanction":
                approval = actions.request_sanction(actor=request.user, application=application,
                                                    idempotency_key=f"sanction-{application.number}-"
                                                                    f"{request.POST.get('token', '')}"[:64])
                messages.success(request, f"Sent for sanction: {approval.summary}.")
                return redirect(application_url(application))
            else:
                messages.error(request, "Choose what to do with the application.")
                return redirect(application_url(application))
        except BankingError as error:
            messages.error(request, str(error))
            return redirect(application_url(application))
    loan = Loan.objects.filter(application=application).first()
    return render(request, "portals/teller/loan_application.html", {
        "application": application, "kfs": key_facts(application), "form": form, "loan": loan,
        "customer_url": customer_url(application.customer), "statuses": ApplicationStatus,
        "sanction_token": new_token(),
    })


@require_GET
@policies.teller
def loan_kfs_pdf(request, number):
    """The KFS as a PDF to print and hand over."""
    application = _application(number)
    response = HttpResponse(kfs_pdf(application), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="kfs-{application.number}.pdf"'
    return response


@require_http_methods(["GET", "POST"])
@policies.teller
def loan_detail(request, number):
    """The loan: sanction, disbursements, its current schedule and classification;
    the disbursement form while any of the sanction is left to pay out."""
    loan = _loan(number)
    form = DisbursementForm(request.POST or None, initial={"amount": format_money(loan.undisbursed, symbol=False)})
    if request.method == "POST" and form.is_valid():
        try:
            disbursement = actions.disburse_loan(actor=request.user, loan=loan, amount=form.cleaned_data["amount"],
                                                 idempotency_key=f"disburse-{form.cleaned_data['token']}")
        except BankingError as error:
            form.add_error(None, str(error))
        else:
            text = f"{format_money(disbursement.amount)} paid into {loan.deposit_account.number}"
            if disbursement.processing_fee:
                text += (f"; processing fee {format_money(disbursement.processing_fee)} and GST "
                         f"{format_money(disbursement.gst_on_fee)} collected from it")
            messages.success(request, text + ".")
            return redirect(loan_url(loan))
    loan.refresh_from_db()
    schedule = loan.current_schedule
    return render(request, "portals/teller/loan_detail.html", {
        "loan": loan, "form": form, "schedule": schedule,
        "instalments": list(schedule.instalments.all()) if schedule else [],
        "disbursements": list(loan.disbursements.all()),
        "history": list(loan.classification_history.all()[:20]),
        "can_disburse": loan.status != LoanStatus.CLOSED and loan.undisbursed > 0,
        "customer_url": customer_url(loan.customer),
        "owed": servicing.dues(loan) if loan.status == LoanStatus.ACTIVE else None,
        "repayments": list(loan.repayments.select_related("received_by").order_by("-on", "-id")[:50]),
        "today": actions.business_date(),
    })
