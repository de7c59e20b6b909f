"""Loan servicing at the counter: cash for a loan's dues with its receipt, the
foreclosure quote as of a date and the foreclosure in cash, and the no-dues
certificate of a closed loan.

Tellers read loans bank-wide, as elsewhere in the teller portal, and take cash for
any of them (a borrower may pay at any branch); the cash goes through the teller's
own till (banking.loans.servicing, which locks it as a cash deposit does).
"""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from banking.approvals.models import ApprovalRequest
from banking.core.errors import BankingError
from banking.core.money import format_money
from banking.loans import servicing
from banking.loans.certificate import no_dues_certificate_pdf, no_dues_facts
from banking.loans.models import Loan, LoanStatus, Repayment
from portals import policies

from .counter_views import till_state
from .deposit_views import customer_url
from .loan_servicing_forms import LoanCashForm, QuoteDateForm


def _loan(number):
    return get_object_or_404(
        Loan.objects.select_related("customer", "product", "product_version", "branch", "deposit_account",
                                    "ledger_account", "application"), number=number)


def rupees_up(paise):
    """Cash is taken in whole rupees: the amount rounded up to the rupee."""
    return -(-paise // 100) * 100


def _loan_url(loan):
    return reverse("teller:loan-detail", args=[loan.number])


@require_http_methods(["GET", "POST"])
@policies.teller
def loan_repay(request, number):
    """Cash for the loan's dues: what is due and how it will be allocated, the notes
    and coins, and on success the receipt."""
    loan = _loan(number)
    owed = servicing.dues(loan) if loan.status == LoanStatus.ACTIVE else servicing.Dues()
    form = LoanCashForm(request.POST or None,
                        initial={"amount": f"{rupees_up(owed.total) // 100}" if owed.total else ""})
    if request.method == "POST" and form.is_valid():
        try:
            repayment = servicing.repay(actor=request.user, loan=loan, amount=form.cleaned_data["amount"],
                                        source=servicing.CASH, counts=form.counts, queue_over_limit=True,
                                        idempotency_key=f"loan-cash-{form.cleaned_data['idempotency_key']}")
        except BankingError as error:
            form.refuse(error)
        else:
            if isinstance(repayment, ApprovalRequest):
                return queued_for_supervisor(request, loan, repayment)
            messages.success(request, f"Receipt {repayment.number}: {repayment.get_kind_display().lower()} received.")
            return redirect("teller:loan-receipt", number=loan.number, receipt=repayment.number)
    return render(request, "portals/teller/loan_repay.html", {
        **till_state(request.user), "loan": loan, "owed": owed, "form": form, "cash": rupees_up(owed.total),
        "loan_url": _loan_url(loan), "customer_url": customer_url(loan.customer),
        "upcoming": _upcoming(loan), "order_words": loan.product_version.allocation_order.replace(",", ", then "),
    })


def queued_for_supervisor(request, loan, approval):
    """Cash above the teller's cash limit (dues, a part-prepayment, a foreclosure) waits
    for a supervisor (maker-checker): say so, and go back to the loan's page."""
    messages.info(request, f"{format_money(approval.amount)} is above your cash limit: it waits for a supervisor's "
                           f"approval (request {approval.pk}). Keep the notes aside; they are counted into your till "
                           "when it is approved.")
    return redirect("teller:loan-detail", number=loan.number)


def _upcoming(loan):
    schedule = loan.current_schedule
    if schedule is None:
        return None
    today = servicing.business_date()
    return schedule.instalments.filter(due_date__gt=today).order_by("number").first()


@require_GET
@policies.teller
def loan_receipt(request, number, receipt):
    """A repayment's receipt: what was taken and what each part of it paid."""
    loan = _loan(number)
    repayment = get_object_or_404(Repayment.objects.select_related("received_by", "deposit_account", "schedule"),
                                  loan=loan, number=receipt)
    allocations = list(repayment.allocations.select_related("instalment", "charge").order_by("id"))
    return render(request, "portals/teller/loan_receipt.html", {
        "loan": loan, "repayment": repayment, "allocations": allocations,
        "allocated": sum(line.amount for line in allocations), "loan_url": _loan_url(loan),
        "counts": _counts(repayment.counts), "owed": servicing.dues(loan) if loan.status == LoanStatus.ACTIVE
        else None,
    })


def _counts(counts):
    from banking.teller.denominations import FIELDS, SHORT_LABELS

    return [(SHORT_LABELS[name], counts[name]) for name in FIELDS if counts and counts.get(name)]


@require_http_methods(["GET", "POST"])
@policies.teller
def loan_foreclosure(request, number):
    """The foreclosure quote as of a date (today or later), and foreclosure in cash
    for today's quote, which closes the loan."""
    loan = _loan(number)
    today = servicing.business_date()
    date_form = QuoteDateForm(request.GET or None, initial={"on": today})
    on = date_form.cleaned_data["on"] if date_form.is_bound and date_form.is_valid() else today
    quote = problem = None
    if loan.status == LoanStatus.ACTIVE:
        try:
            quote = servicing.foreclosure_quote(loan, on)
        except BankingError as error:
            problem = str(error)
    else:
        problem = (f"Loan {loan.number} is closed; nothing is owed." if loan.status == LoanStatus.CLOSED
                   else f"Loan {loan.number} has not been disbursed yet.")
    today_quote = quote if quote is not None and quote.on == today else None
    if today_quote is None and loan.status == LoanStatus.ACTIVE:
        today_quote = servicing.foreclosure_quote(loan, today)
    cash = rupees_up(today_quote.total) if today_quote else 0
    form = LoanCashForm(request.POST or None, initial={"amount": f"{cash // 100}" if cash else ""})
    if request.method == "POST" and form.is_valid():
        try:
            repayment = servicing.foreclose(actor=request.user, loan=loan, amount=form.cleaned_data["amount"],
                                            source=servicing.CASH, counts=form.counts, queue_over_limit=True,
                                            idempotency_key=f"loan-close-{form.cleaned_data['idempotency_key']}")
        except BankingError as error:
            form.refuse(error)
        else:
            if isinstance(repayment, ApprovalRequest):
                return queued_for_supervisor(request, loan, repayment)
            messages.success(request, f"Loan {loan.number} is closed. Receipt {repayment.number}; the no-dues "
                                      "certificate is ready.")
            return redirect("teller:loan-receipt", number=loan.number, receipt=repayment.number)
    return render(request, "portals/teller/loan_foreclosure.html", {
        **till_state(request.user), "loan": loan, "quote": quote, "problem": problem, "date_form": date_form,
        "form": form, "today": today, "today_quote": today_quote, "cash": cash, "loan_url": _loan_url(loan),
    })


@require_GET
@policies.teller
def loan_no_dues_pdf(request, number):
    """The no-dues certificate of a closed, fully repaid loan, as a PDF."""
    loan = _loan(number)
    try:
        no_dues_facts(loan)
    except BankingError as error:
        return render(request, "portals/teller/loan_no_dues.html", {"loan": loan, "problem": str(error),
                                                                     "loan_url": _loan_url(loan)})
    response = HttpResponse(no_dues_certificate_pdf(loan), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="no-dues-{loan.number}.pdf"'
    return response
