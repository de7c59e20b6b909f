"""Changing a loan's plan at the counter, from the loan's page.

- Part-prepayment in cash: the principal and the borrower's choice (reduce the EMI
  or the tenure), then the new schedule and the total to take, then the notes and
  coins; servicing.part_prepay takes the dues first, the principal, any prepayment
  charge, and writes the new schedule version. Nothing is written before the
  teller confirms.
- The security (banking.loans.security): its valuations, a valuer's figure entered
  for a vehicle or a home, and for a non-performing loan a supervisor's proposal to
  mark it a loss asset, which another supervisor approves in the queue.
- The borrower's choice at a floating-rate reset (RBI, Aug 2023): the three options
  with the EMI and tenure each would give, and the one recorded; the teller records
  the borrower's instruction (banking.loans.resets), which end of day applies on the
  reset date.
"""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from banking.approvals.models import ApprovalRequest
from banking.core.errors import BankingError
from banking.loans import resets, security, servicing
from banking.loans.models import LoanStatus
from portals import policies

from .counter_views import till_state
from .deposit_views import customer_url
from .loan_change_forms import LossForm, PrepayTermsForm, ResetChoiceForm, ValuationForm
from .loan_servicing_forms import LoanCashForm
from .loan_servicing_views import _loan, _loan_url, queued_for_supervisor, rupees_up


@require_http_methods(["GET", "POST"])
@policies.teller
def loan_prepay(request, number):
    """A part-prepayment in cash: terms, then the new schedule with the cash to take,
    then the counts. `step` is "preview" (the terms posted), "confirm" (the cash
    posted with the terms) or "edit" (back to the terms)."""
    loan = _loan(number)
    step = request.POST.get("step", "preview")
    terms = PrepayTermsForm(request.POST if request.method == "POST" else None)
    preview = cash_form = None
    status = 200
    if request.method == "POST" and step != "edit" and terms.is_valid():
        data = terms.cleaned_data
        try:
            preview = servicing.preview_prepayment(loan, data["principal"], data["choice"])
        except BankingError as error:
            terms.add_error(None, str(error))
        else:
            cash = rupees_up(preview.total)
            cash_form = LoanCashForm(request.POST if step == "confirm" else None,
                                     initial={"amount": f"{cash // 100}"})
            if step == "confirm" and cash_form.is_valid():
                try:
                    repayment = servicing.part_prepay(
                        actor=request.user, loan=loan, principal=data["principal"], choice=data["choice"],
                        source=servicing.CASH, amount=cash_form.cleaned_data["amount"], counts=cash_form.counts,
                        queue_over_limit=True,
                        idempotency_key=f"loan-prepay-{cash_form.cleaned_data['idempotency_key']}")
                except BankingError as error:
                    cash_form.refuse(error)
                else:
                    if isinstance(repayment, ApprovalRequest):
                        return queued_for_supervisor(request, loan, repayment)
                    messages.success(request, f"Receipt {repayment.number}: part-prepayment received; the new "
                                              f"schedule is version {repayment.schedule.version}.")
                    return redirect("teller:loan-receipt", number=loan.number, receipt=repayment.number)
    if terms.errors or (cash_form is not None and cash_form.errors):
        status = 400
    elif request.method == "POST" and step == "edit":
        terms = PrepayTermsForm(initial={"principal": request.POST.get("principal", ""),
                                         "choice": request.POST.get("choice", "")})
    return render(request, "portals/teller/loan_prepay.html", {
        **till_state(request.user), "loan": loan, "terms": terms, "preview": preview, "cash_form": cash_form,
        "cash": rupees_up(preview.total) if preview else 0, "loan_url": _loan_url(loan),
        "customer_url": customer_url(loan.customer), "active": loan.status == LoanStatus.ACTIVE,
    }, status=status)


@require_http_methods(["GET", "POST"])
@policies.teller
def loan_reset_choice(request, number):
    """The borrower's choice for the loan's next floating-rate reset."""
    loan = _loan(number)
    recorded = resets.recorded_choice(loan) if loan.next_reset_on else None
    form = ResetChoiceForm(request.POST or None,
                           initial={"choice": recorded.choice if recorded else resets.DEFAULT_CHOICE})
    if request.method == "POST" and form.is_valid():
        try:
            row = resets.record_reset_choice(actor=request.user, loan=loan, choice=form.cleaned_data["choice"])
        except BankingError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Recorded for the reset of {row.reset_on:%d %b %Y}: "
                                      f"{row.get_choice_display().lower()}.")
            return redirect("teller:loan-detail", number=loan.number)
    options = resets.reset_option_rows(loan) if loan.next_reset_on and loan.status == LoanStatus.ACTIVE else []
    return render(request, "portals/teller/loan_reset_choice.html", {
        "loan": loan, "form": form, "options": options, "recorded": recorded,
        "loan_url": _loan_url(loan), "customer_url": customer_url(loan.customer),
    }, status=400 if form.errors else 200)



@require_http_methods(["GET", "POST"])
@policies.teller
def loan_security(request, number):
    """The loan's security: valuations, a valuer's figure, and the loss proposal."""
    loan = _loan(number)
    which = request.POST.get("form") if request.method == "POST" else None
    value_form = ValuationForm(request.POST if which == "value" else None, prefix="value")
    loss_form = LossForm(request.POST if which == "loss" else None, prefix="loss")
    if which == "value" and value_form.is_valid():
        try:
            row = security.enter_valuation(actor=request.user, loan=loan, value=value_form.cleaned_data["value"],
                                           note=value_form.cleaned_data["note"])
        except BankingError as error:
            value_form.add_error(None, str(error))
        else:
            messages.success(request, f"Valuation of {row.on:%d %b %Y} recorded.")
            return redirect("teller:loan-security", number=loan.number)
    if which == "loss" and loss_form.is_valid():
        try:
            approval = security.request_loss_marking(actor=request.user, loan=loan,
                                                     reason=loss_form.cleaned_data["reason"])
        except BankingError as error:
            loss_form.add_error(None, str(error))
        else:
            messages.info(request, f"Marking loan {loan.number} a loss waits for another supervisor's approval "
                                   f"(request {approval.pk}).")
            return redirect("teller:loan-security", number=loan.number)
    return render(request, "portals/teller/loan_security.html", {
        "loan": loan, "value_form": value_form, "loss_form": loss_form,
        "valuations": list(loan.valuations.select_related("entered_by")[:20]),
        "cover": security.secured_cover(loan) if loan.status == LoanStatus.ACTIVE else 0,
        "may_value": loan.product.secured and loan.product.kind != "gold" and loan.status == LoanStatus.ACTIVE,
        "may_propose_loss": loan.is_npa and loan.classification != "loss"
        and request.user.has_perm("users.approve_requests"),
        "loan_url": _loan_url(loan), "customer_url": customer_url(loan.customer),
    }, status=400 if value_form.errors or loss_form.errors else 200)
