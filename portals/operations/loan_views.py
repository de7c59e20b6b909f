"""Operations: the loans' rates and products (banking/loans).

- Rates: the benchmark (RBI repo) rate with the date it takes effect, and the day's
  gold rate per gram of 24-carat gold, each listed newest first and entered by
  operations who manage loan products (one per date; audited by the action).
- Products: each product with the terms in force today and any waiting to take
  effect; a product's page lists every version and takes new terms, which wait for
  a second member of operations (maker-checker, `loans.product_change`) and take
  effect from a later date, never back-dated.

The whole operations side reads these screens; only those holding
`loans.manage_loan_products` enter rates, propose terms or decide a proposal (the
actions refuse anyone else in words, and the forms are not shown to them).
"""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from banking.approvals.actions import approve_request, reject_request
from banking.approvals.models import ApprovalRequest
from banking.core.errors import BankingError
from banking.loans import actions
from banking.loans.approval_kinds import describe_product_change
from banking.loans.models import BenchmarkRate, GoldRate, LoanProduct
from portals import policies

from .loan_forms import BenchmarkRateForm, GoldRateForm, ProductTermsForm, ReasonForm, tomorrow_of

MANAGE = "loans.manage_loan_products"
manages_loans = policies.requires("users.access_ops_portal", MANAGE, name="ops_loans")


def _pending_changes():
    return (ApprovalRequest.objects.filter(kind=actions.PRODUCT_CHANGE_KIND, status="pending")
            .select_related("maker").order_by("created_at"))


@require_http_methods(["GET", "POST"])
@policies.operations
def loan_rates(request):
    """Benchmark and gold rates: the lists, and the two entry forms."""
    may_enter = request.user.has_perm(MANAGE)
    today = actions.business_date()
    benchmark_form = BenchmarkRateForm(prefix="benchmark", initial={"effective_from": today})
    gold_form = GoldRateForm(prefix="gold", initial={"on": today})
    if request.method == "POST":
        which = request.POST.get("form")
        try:
            if which == "benchmark":
                benchmark_form = BenchmarkRateForm(request.POST, prefix="benchmark")
                if benchmark_form.is_valid():
                    data = benchmark_form.cleaned_data
                    entry = actions.enter_benchmark_rate(actor=request.user, benchmark=data["benchmark"],
                                                         effective_from=data["effective_from"], rate=data["rate"])
                    messages.success(request, f"Entered: {entry}.")
                    return redirect("ops:loan-rates")
            elif which == "gold":
                gold_form = GoldRateForm(request.POST, prefix="gold")
                if gold_form.is_valid():
                    data = gold_form.cleaned_data
                    entry = actions.enter_gold_rate(actor=request.user, on=data["on"],
                                                    rate_per_gram=data["rate_per_gram"])
                    messages.success(request, f"Entered: {entry}.")
                    return redirect("ops:loan-rates")
            else:
                messages.error(request, "Choose which rate to enter.")
                return redirect("ops:loan-rates")
        except BankingError as error:
            if not may_enter:
                messages.error(request, str(error))
                return redirect("ops:loan-rates")
            (benchmark_form if which == "benchmark" else gold_form).add_error(None, str(error))
    return render(request, "portals/operations/loan_rates.html", {
        "benchmarks": BenchmarkRate.objects.select_related("entered_by")[:50],
        "gold_rates": GoldRate.objects.select_related("entered_by")[:50],
        "benchmark_form": benchmark_form, "gold_form": gold_form, "may_enter": may_enter, "today": today,
        "benchmark_in_force": actions.benchmark_on("repo", today),
    }, status=400 if (benchmark_form.errors or gold_form.errors) else 200)


@require_http_methods(["GET"])
@policies.operations
def loan_products(request):
    today = actions.business_date()
    rows = []
    for product in LoanProduct.objects.all():
        versions = list(product.versions.all())
        current = next((v for v in versions if v.effective_from <= today), None)
        later = [v for v in versions if v.effective_from > today]
        rows.append({"product": product, "current": current, "later": later})
    return render(request, "portals/operations/loan_products.html", {
        "rows": rows, "pending": _pending_with_words(), "may_manage": request.user.has_perm(MANAGE),
    })


def _pending_with_words(product=None):
    found = []
    for approval in _pending_changes():
        if product is not None and approval.payload.get("product") != product.code:
            continue
        found.append({"approval": approval, "rows": describe_product_change(approval.payload)})
    return found


@require_http_methods(["GET", "POST"])
@policies.operations
def loan_product(request, code):
    """A product's versions, and new terms proposed for a later date."""
    product = get_object_or_404(LoanProduct, code=code.upper())
    today = actions.business_date()
    current = product.version_on(today)
    form = ProductTermsForm(request.POST or None, current=current, tomorrow=tomorrow_of(today))
    if request.method == "POST" and form.is_valid():
        try:
            approval = actions.request_product_change(
                actor=request.user, product=product, effective_from=form.cleaned_data["effective_from"],
                terms=form.terms(), idempotency_key=f"product-{product.code}-{form.cleaned_data['token']}"[:64])
        except BankingError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Sent for approval: {approval.summary}. Another member of operations "
                                      "approves it.")
            return redirect("ops:loan-product", code=product.code)
    return render(request, "portals/operations/loan_product.html", {
        "product": product, "current": current, "versions": list(product.versions.select_related(
            "created_by", "approved_by")), "form": form, "today": today, "pending": _pending_with_words(product),
        "may_manage": request.user.has_perm(MANAGE),
    }, status=400 if form.errors else 200)


def _change_request(pk):
    return get_object_or_404(ApprovalRequest, pk=pk, kind=actions.PRODUCT_CHANGE_KIND)


def _back(request, approval):
    code = str(approval.payload.get("product") or "")
    if request.POST.get("back") == "product" and LoanProduct.objects.filter(code=code).exists():
        return redirect("ops:loan-product", code=code)
    return redirect("ops:loan-products")


@require_POST
@manages_loans
def loan_product_approve(request, pk):
    approval = _change_request(pk)
    try:
        approve_request(actor=request.user, request_id=approval.pk)
    except BankingError as error:
        messages.error(request, str(error))
    else:
        approval.refresh_from_db()
        if approval.status == "approved":
            messages.success(request, f"Approved: {approval.summary}.")
        else:
            messages.error(request, f"Not carried out: {approval.decision_reason or approval.get_status_display()}")
    return _back(request, approval)


@require_POST
@manages_loans
def loan_product_reject(request, pk):
    approval = _change_request(pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the reason for rejecting the request.")
        return _back(request, approval)
    try:
        reject_request(actor=request.user, request_id=approval.pk, reason=form.cleaned_data["reason"])
    except BankingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Rejected: {approval.summary}.")
    return _back(request, approval)
