"""Internet banking: the customer's loans, phone first.

- My loans: each loan with what is outstanding and the next instalment, and the
  applications still on their way (or turned down, with the reason).
- A loan's page: its terms and current schedule; the schedule as CSV and PDF; the
  loan statement as CSV and PDF.
- Paying what is due from one of their accounts, and a part-prepayment choosing to
  reduce the EMI or the tenure with the new schedule shown before they confirm; both
  with the authenticator code, which the servicing action checks (banking.loans.
  servicing: the view does not check it first, which would use the code up). The
  receipt, with how the money was allocated, is on the loan's page. A closed loan's
  no-dues certificate downloads from it.
- Applying online for a personal loan: the eligibility shows live as the form
  changes (HTMX posts `action=preview`, as at the counter), the bureau's score
  included; `action=apply` takes the application and shows its Key Facts Statement,
  which the customer accepts with their authenticator code; it then waits for
  sanction, and the page follows it live until it is decided (on sanction the money
  is paid into their account at once: banking.loans.online).

Every query starts from the signed-in customer: another customer's loan or
application number is a 404, the same as one that does not exist.
"""

from django.contrib import messages
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from banking.core.errors import BankingError
from banking.core.money import format_money
from banking.loans import actions, bureau, documents, online, resets, servicing
from banking.loans.kfs import key_facts, kfs_pdf
from banking.loans.models import ApplicationStatus, Loan, LoanStatus
from portals import policies
from portals.customer.authenticator import code_problem

from .loan_forms import AcceptKfsForm, ConfirmPrepayForm, OnlineLoanForm, PrepayForm, RepayForm, ResetChoiceForm


def _me(request):
    customer = getattr(request.user, "customer", None)
    if customer is None:
        raise Http404("No customer record for this login")
    return customer


def _my_loans(customer):
    return (Loan.objects.for_customer(customer)
            .select_related("product", "customer", "branch", "deposit_account", "ledger_account", "application"))


def _my_loan(request, number):
    return get_object_or_404(_my_loans(_me(request)), number=number)


def _my_application(request, number):
    return get_object_or_404(online.my_applications(_me(request)).select_related("sanction_request"),
                             number=number)


def next_due(loan):
    """The first instalment of the current schedule not fully paid, or None."""
    schedule = loan.current_schedule
    if schedule is None:
        return None
    for row in schedule.instalments.order_by("number"):
        if not row.is_paid:
            return row
    return None


@require_GET
@policies.customer
def loan_list(request):
    customer = _me(request)
    loans = [{"loan": loan, "next": next_due(loan)} for loan in _my_loans(customer)]
    applications = online.my_applications(customer).exclude(status=ApplicationStatus.SANCTIONED)[:10]
    return render(request, "portals/customer/loans_list.html", {
        "rows": loans, "applications": applications,
        "can_apply": online.online_products().exists(),
    })


@require_GET
@policies.customer
def loan_detail(request, number):
    """The loan's terms, its current schedule, and its documents."""
    loan = _my_loan(request, number)
    schedule, instalments = documents.schedule_rows(loan)
    return render(request, "portals/customer/loan_detail.html", {
        "loan": loan, "schedule": schedule, "instalments": instalments, "next": next_due(loan),
        "disbursements": list(loan.disbursements.all()), "statuses": LoanStatus,
        "repayments": documents.repayments(loan)[-12:][::-1],
    })


def _attachment(response, filename):
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@policies.customer
def schedule_csv(request, number):
    loan = _my_loan(request, number)
    return _attachment(HttpResponse(documents.schedule_csv(loan), content_type="text/csv; charset=utf-8"),
                       f"schedule-{loan.number}.csv")


@require_GET
@policies.customer
def schedule_pdf(request, number):
    loan = _my_loan(request, number)
    return _attachment(HttpResponse(documents.schedule_pdf(loan), content_type="application/pdf"),
                       f"schedule-{loan.number}.pdf")


@require_GET
@policies.customer
def statement_csv(request, number):
    loan = _my_loan(request, number)
    rows = documents.statement_csv_rows(loan)
    return _attachment(StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8"),
                       f"loan-statement-{loan.number}.csv")


@require_GET
@policies.customer
def statement_pdf(request, number):
    loan = _my_loan(request, number)
    return _attachment(HttpResponse(documents.statement_pdf(loan), content_type="application/pdf"),
                       f"loan-statement-{loan.number}.pdf")


# -- applying online -------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@policies.customer
@vary_on_headers("HX-Request")
def loan_apply(request):
    """The online application for a personal loan, with its eligibility live."""
    customer = _me(request)
    form = OnlineLoanForm(request.POST or None, customer=customer)
    quote = score = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            score = bureau.score_for(customer)
            quote = actions.quote_loan(product=online.ONLINE_PRODUCT, amount=data["amount"], months=data["months"],
                                       monthly_income=data["monthly_income"],
                                       existing_emis=data.get("existing_emis") or 0, bureau_score=score)
            if request.POST.get("action") == "apply":
                application = online.apply_online(
                    actor=request.user, deposit_account=data["deposit_account"], amount=data["amount"],
                    months=data["months"], purpose=data["purpose"], monthly_income=data["monthly_income"],
                    existing_emis=data.get("existing_emis") or 0, idempotency_key=data["token"])
                messages.success(request, f"Application {application.number} is ready. Read the Key Facts "
                                          "Statement below and accept it to send it for sanction.")
                return redirect("customer:loan-application", number=application.number)
        except BankingError as error:
            form.add_error(None, str(error))
    product = online.online_products().first()
    terms = product.version_on(actions.business_date()) if product else None
    template = "portals/customer/loan_apply.html"
    if request.htmx and request.POST.get("action") == "preview":
        template += "#loan-eligibility"
    return render(request, template, {
        "form": form, "quote": quote, "score": score, "terms": terms,
        "has_account": form.fields["deposit_account"].queryset.exists(),
    })


@require_http_methods(["GET", "POST"])
@policies.customer
@vary_on_headers("HX-Request")
def loan_application(request, number):
    """The application's KFS and the customer's acceptance with their code; then its
    progress, followed live (polled) while it waits for sanction."""
    application = _my_application(request, number)
    loan = Loan.objects.filter(application=application).select_related("deposit_account").first()
    context = {"application": application, "loan": loan, "statuses": ApplicationStatus,
               "came_online": online.came_online(application)}
    if request.htmx and request.method == "GET":
        return render(request, "portals/customer/loan_application.html#application-progress", context)
    form = AcceptKfsForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if problem := code_problem(request.user, form.cleaned_data["code"]):
            form.add_error("code", problem)
        else:
            try:
                online.acknowledge_kfs_online(actor=request.user, application=application,
                                              idempotency_key=form.cleaned_data["token"])
            except BankingError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, "You accepted the Key Facts Statement. Your application has gone to "
                                          f"{application.branch.name} for sanction.")
                return redirect("customer:loan-application", number=application.number)
    return render(request, "portals/customer/loan_application.html", {
        **context, "form": form, "kfs": key_facts(application),
    }, status=400 if form.errors else 200)


@require_GET
@policies.customer
def loan_kfs_pdf(request, number):
    application = _my_application(request, number)
    return _attachment(HttpResponse(kfs_pdf(application), content_type="application/pdf"),
                       f"kfs-{application.number}.pdf")


# -- paying ----------------------------------------------------------------------------------


def _key(customer, token):
    return f"ib-loan-{customer.pk}-{token}"[:64]


def _refuse(form, error):
    """A refusal under the field it is about: the code's under the code."""
    text = str(error)
    form.add_error("code" if "authenticator" in text and "code" in form.fields else None, text)


def _allocation_words(repayment):
    parts = {}
    for allocation in repayment.allocations.all():
        name = allocation.get_part_display().lower()
        parts[name] = parts.get(name, 0) + allocation.amount
    return ", ".join(f"{name} {format_money(amount)}" for name, amount in parts.items())


@require_http_methods(["GET", "POST"])
@policies.customer
def loan_pay(request, number):
    """Pay what is due on the loan from one of the customer's accounts."""
    customer = _me(request)
    loan = _my_loan(request, number)
    owed = servicing.dues(loan) if loan.status == LoanStatus.ACTIVE else None
    initial = {"amount": format_money(owed.total, symbol=False)} if owed is not None and owed.total else {}
    form = RepayForm(request.POST or None, customer=customer, loan=loan, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            repayment = servicing.repay(actor=request.user, loan=loan, amount=data["amount"], source=servicing.ACCOUNT,
                                        idempotency_key=_key(customer, data["token"]), account=data["account"],
                                        code=data["code"])
        except BankingError as error:
            _refuse(form, error)
        else:
            messages.success(request, f"Paid {format_money(repayment.amount)} from {data['account'].number}: receipt "
                                      f"{repayment.number} ({_allocation_words(repayment)}).")
            return redirect("customer:loan", number=loan.number)
    return render(request, "portals/customer/loan_pay.html", {
        "loan": loan, "owed": owed, "form": form, "next": next_due(loan),
    }, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@policies.customer
def loan_prepay(request, number):
    """A part-prepayment: the amount and the choice, then the new schedule, then the code."""
    customer = _me(request)
    loan = _my_loan(request, number)
    form = PrepayForm(request.POST or None, customer=customer, loan=loan)
    preview = confirm = None
    step = request.POST.get("step", "preview")
    if request.method == "POST" and step != "edit" and form.is_valid():
        data = form.cleaned_data
        try:
            preview = servicing.preview_prepayment(loan, data["principal"], data["choice"])
        except BankingError as error:
            form.add_error(None, str(error))
        else:
            confirm = ConfirmPrepayForm(request.POST if step == "confirm" else None)
            if step == "confirm" and confirm.is_valid():
                try:
                    repayment = servicing.part_prepay(
                        actor=request.user, loan=loan, principal=data["principal"], choice=data["choice"],
                        source=servicing.ACCOUNT, idempotency_key=_key(customer, data["token"]),
                        account=data["account"], code=confirm.cleaned_data["code"])
                except BankingError as error:
                    _refuse(confirm, error)
                else:
                    messages.success(request, f"Prepaid {format_money(data['principal'])}: receipt "
                                              f"{repayment.number} ({_allocation_words(repayment)}). Your new "
                                              "schedule is below.")
                    return redirect("customer:loan", number=loan.number)
    errors = form.errors or (confirm is not None and confirm.errors)
    return render(request, "portals/customer/loan_prepay.html", {
        "loan": loan, "form": form, "preview": preview, "confirm": confirm,
    }, status=400 if errors else 200)


@require_http_methods(["GET", "POST"])
@policies.customer
def loan_reset_choice(request, number):
    """Before a floating-rate reset: the three choices (RBI, Aug 2023) with the EMI and
    tenure each gives, and the borrower's choice confirmed with their code."""
    loan = _my_loan(request, number)
    recorded = resets.recorded_choice(loan) if loan.next_reset_on else None
    form = ResetChoiceForm(request.POST or None,
                           initial={"choice": recorded.choice if recorded else resets.DEFAULT_CHOICE})
    if request.method == "POST" and form.is_valid():
        try:
            row = resets.record_reset_choice(actor=request.user, loan=loan, choice=form.cleaned_data["choice"],
                                             code=form.cleaned_data["code"])
        except BankingError as error:
            _refuse(form, error)
        else:
            messages.success(request, f"Your choice for the rate reset of {row.reset_on:%d %b %Y}: "
                                      f"{row.get_choice_display().lower()}.")
            return redirect("customer:loan", number=loan.number)
    rows = resets.reset_option_rows(loan) if loan.next_reset_on and loan.status == LoanStatus.ACTIVE else []
    return render(request, "portals/customer/loan_reset_choice.html", {
        "loan": loan, "form": form, "options": rows, "recorded": recorded,
    }, status=400 if form.errors else 200)


@require_GET
@policies.customer
def loan_no_dues(request, number):
    """The no-dues certificate of a closed, repaid loan as a PDF; for a loan still owing,
    a page that says why there is none yet."""
    from banking.loans.certificate import no_dues_certificate_pdf, no_dues_facts

    loan = _my_loan(request, number)
    try:
        no_dues_facts(loan)
    except BankingError as error:
        return render(request, "portals/customer/loan_no_dues.html", {"loan": loan, "problem": str(error)})
    return _attachment(HttpResponse(no_dues_certificate_pdf(loan), content_type="application/pdf"),
                       f"no-dues-{loan.number}.pdf")
