"""Operations' payment screens: the live payment monitor, the NEFT cycles (and the
button that runs the next one), settlement files and their reconciliation, the
exceptions queue whose resolutions go to a second person, the clearing-network
simulator and the IFSC directory. Everyone on the operations side (policy
operations: operations, compliance, audit, administrators) may read them; only
staff who operate payments (users.operate_payments, policy ops_payments) may run
a cycle, upload a file, ask for a resolution or use the simulator. Payments are
the bank's, so the scope is all of them."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_tables2 import RequestConfig

from banking.core.errors import BankingError
from banking.core.money import format_money
from banking.payments.clearing import simulate_collect_request, simulate_inbound_payment
from banking.payments.directory import load_directory
from banking.payments.models import (
    BankBranch,
    ExceptionStatus,
    NeftBatch,
    Payment,
    Reconciliation,
    ReconciliationException,
    SettlementFile,
)
from banking.payments.reconciliation import (
    awaiting_approval,
    reconcile_file,
    request_resolution,
    run_neft_cycle,
    upload_settlement_file,
)
from portals import policies

from .payment_filters import ExceptionFilter, PaymentFilter
from .payment_forms import CollectForm, IfscUploadForm, InboundForm, ResolutionForm, SettlementUploadForm
from .payment_tables import BankBranchTable, NeftBatchTable, PaymentTable, ReconciliationTable

PAGE = {"per_page": 50}


def _may_operate_payments(request):
    """The POST side of a page that readers also open: refused like a policy refuses."""
    if not request.user.has_perm("users.operate_payments"):
        raise PermissionDenied("ops_payments policy")


@require_GET
@policies.operations
@vary_on_headers("HX-Request")
def payment_monitor(request):
    payments = PaymentFilter(request.GET, queryset=Payment.objects.order_by("-initiated_at", "-id"))
    table = PaymentTable(payments.qs)
    RequestConfig(request, paginate=PAGE).configure(table)
    template = "portals/operations/payments_monitor.html"
    if request.htmx:
        template += "#payment-results"
    return render(request, template, {"filter": payments, "table": table})


@require_GET
@policies.operations
def payment_detail(request, pk):
    payment = get_object_or_404(Payment.objects.select_related("batch", "debit_account", "credit_account",
                                                               "debit_entry", "settle_entry", "return_entry"), pk=pk)
    return render(request, "portals/operations/payments_detail.html",
                  {"payment": payment, "events": payment.events.all()})


# -- NEFT cycles --------------------------------------------------------------------


@require_GET
@policies.operations
def neft_batches(request):
    table = NeftBatchTable(NeftBatch.objects.all())
    RequestConfig(request, paginate=PAGE).configure(table)
    waiting = Payment.objects.awaiting_neft_batch()
    return render(request, "portals/operations/payments_neft_batches.html",
                  {"table": table, "waiting": waiting.count(), "waiting_amount": sum(waiting.values_list(
                      "amount", flat=True))})


@require_POST
@policies.ops_payments
def neft_batch_run(request):
    try:
        batch, reconciliation = run_neft_cycle(actor=request.user)
    except BankingError as error:
        messages.error(request, str(error))
        return redirect("ops:neft-batches")
    if batch is None:
        messages.info(request, "No NEFT payment is waiting for a cycle; nothing was settled.")
        return redirect("ops:neft-batches")
    messages.success(request, f"{batch.name}: {batch.settled_count} settled ({format_money(batch.settled_amount)}), "
                              f"{batch.returned_count} returned. Reconciliation: {reconciliation.matched} matched, "
                              f"{reconciliation.exceptions} exceptions.")
    return redirect("ops:neft-batch-detail", pk=batch.pk)


@require_GET
@policies.operations
def neft_batch_detail(request, pk):
    batch = get_object_or_404(NeftBatch.objects.select_related("settled_by", "settle_entry"), pk=pk)
    table = PaymentTable(batch.payments.order_by("id"))
    RequestConfig(request, paginate=PAGE).configure(table)
    settlement_file = SettlementFile.objects.filter(batch=batch).first()
    reconciliation = Reconciliation.objects.filter(file=settlement_file).first() if settlement_file else None
    return render(request, "portals/operations/payments_neft_batch.html",
                  {"batch": batch, "table": table, "settlement_file": settlement_file,
                   "reconciliation": reconciliation})


@require_GET
@policies.operations
def settlement_file_download(request, pk):
    settlement_file = get_object_or_404(SettlementFile, pk=pk)
    response = HttpResponse(settlement_file.content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{settlement_file.name}"'
    return response


# -- reconciliation -----------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@policies.operations
def reconciliations(request):
    """Everyone on the operations side reads the reconciliations; uploading a file
    (the POST) changes the books' view of the cycle, so it also needs
    users.operate_payments. A view carries one policy, hence the check here."""
    form = SettlementUploadForm()
    if request.method == "POST":
        _may_operate_payments(request)
        form = SettlementUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                received = upload_settlement_file(actor=request.user, name=upload.name, text=upload.read())
                reconciliation = reconcile_file(actor=request.user, settlement_file=received)
            except BankingError as error:
                form.add_error("file", str(error))
            else:
                messages.success(request, f"{received.name} reconciled: {reconciliation.matched} matched, "
                                          f"{reconciliation.exceptions} exceptions, "
                                          f"{len(reconciliation.malformed)} malformed lines.")
                return redirect("ops:reconciliation-detail", pk=reconciliation.pk)
    table = ReconciliationTable(Reconciliation.objects.select_related("file"))
    RequestConfig(request, paginate=PAGE).configure(table)
    return render(request, "portals/operations/payments_reconciliations.html",
                  {"table": table, "form": form, "open_count": ReconciliationException.objects.filter(
                      status=ExceptionStatus.OPEN).count()})


@require_GET
@policies.operations
def reconciliation_detail(request, pk):
    reconciliation = get_object_or_404(Reconciliation.objects.select_related("file", "run_by"), pk=pk)
    items = reconciliation.items.select_related("payment", "approval").order_by("id")
    return render(request, "portals/operations/payments_reconciliation.html",
                  {"reconciliation": reconciliation, "items": items[:500], "item_count": items.count()})


def _exception_rows(queryset):
    return [(item, awaiting_approval(item)) for item in queryset]


@require_GET
@policies.operations
@vary_on_headers("HX-Request")
def recon_exceptions(request):
    data = request.GET.copy()
    if "status" not in data:
        data["status"] = ExceptionStatus.OPEN
    found = ExceptionFilter(data, queryset=ReconciliationException.objects.select_related(
        "payment", "approval", "reconciliation__file").order_by("-id"))
    rows = _exception_rows(found.qs[:200])
    template = "portals/operations/payments_exceptions.html"
    if request.htmx:
        template += "#exception-results"
    return render(request, template, {"filter": found, "rows": rows, "total": found.qs.count()})


@require_POST
@policies.ops_payments
def recon_exception_resolve(request, pk):
    item = get_object_or_404(ReconciliationException.objects.select_related("payment", "approval",
                                                                             "reconciliation__file"), pk=pk)
    form = ResolutionForm(request.POST)
    error = None
    if not form.is_valid():
        error = " ".join(message for errors in form.errors.values() for message in errors)
    else:
        try:
            approval = request_resolution(actor=request.user, exception=item, reason=form.cleaned_data["reason"],
                                          resolution=form.cleaned_data["resolution"])
        except BankingError as found:
            error = str(found)
        else:
            item.refresh_from_db()
            if not request.htmx:
                messages.success(request, f"Request #{approval.pk} is waiting for a second person's approval.")
    if request.htmx:
        return render(request, "portals/operations/payments_exceptions.html#exception-row",
                      {"item": item, "pending": awaiting_approval(item), "error": error})
    if error:
        messages.error(request, f"{item.reference}: {error}")
    return redirect(reverse("ops:recon-exceptions") + f"?status=&reference={item.reference}")


# -- the clearing simulator ---------------------------------------------------------


@require_http_methods(["GET", "POST"])
@policies.ops_payments
def clearing_simulator(request):
    inbound, collect = InboundForm(prefix="inbound"), CollectForm(prefix="collect")
    action = request.POST.get("action")
    if action == "inbound":
        inbound = InboundForm(request.POST, prefix="inbound")
        if inbound.is_valid():
            data = inbound.cleaned_data
            by_vpa = "@" in data["destination"]
            try:
                payment = simulate_inbound_payment(
                    actor=request.user, rail=data["rail"], amount=data["amount"], remitter_name=data["remitter"],
                    beneficiary_account="" if by_vpa else data["destination"],
                    beneficiary_vpa=data["destination"] if by_vpa else "")
            except BankingError as error:
                inbound.add_error(None, str(error))
            else:
                messages.success(request, f"Inbound {payment.rail} {payment.reference} of "
                                          f"{format_money(payment.amount)}: {payment.status_phrase.lower()}.")
                return redirect("ops:payment-detail", pk=payment.pk)
    elif action == "collect":
        collect = CollectForm(request.POST, prefix="collect")
        if collect.is_valid():
            data = collect.cleaned_data
            try:
                sent = simulate_collect_request(payer_vpa=data["payer_vpa"], merchant_vpa=data["merchant_vpa"],
                                                merchant_name=data["merchant_name"], amount=data["amount"],
                                                is_merchant=data["is_merchant"], note=data["note"])
            except BankingError as error:
                collect.add_error(None, str(error))
            else:
                messages.success(request, f"Collect request {sent.reference} sent: {sent.merchant_name} asks "
                                          f"{format_money(sent.amount)} of {sent.payer.address}.")
                return redirect("ops:clearing-simulator")
    return render(request, "portals/operations/payments_simulator.html", {"inbound": inbound, "collect": collect})


# -- the IFSC directory -------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@policies.operations
@vary_on_headers("HX-Request")
def ifsc_directory(request):
    """Everyone on the operations side searches the directory; loading a file (the
    POST) changes where payments may go, so it also needs users.operate_payments.
    A view carries one policy, hence the check here."""
    form, outcome = IfscUploadForm(), None
    if request.method == "POST":
        _may_operate_payments(request)
        form = IfscUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            if not upload.name.lower().endswith(".csv"):
                form.add_error("file", f"{upload.name} is not a CSV file.")
            else:
                try:
                    text = upload.read().decode("utf-8-sig")
                except UnicodeDecodeError:
                    form.add_error("file", f"{upload.name} is not a text file (CSV in UTF-8).")
                else:
                    added, updated, problems = load_directory(actor=request.user, text=text)
                    outcome = {"name": upload.name, "added": added, "updated": updated, "problems": problems}
                    form = IfscUploadForm()
    query = request.GET.get("q", "").replace("\x00", "").strip()  # PostgreSQL text holds no NUL
    branches = BankBranch.objects.all()
    if query:
        branches = branches.filter(Q(ifsc__icontains=query) | Q(bank_name__icontains=query)
                                   | Q(branch_name__icontains=query) | Q(city__icontains=query))
    table = BankBranchTable(branches)
    RequestConfig(request, paginate=PAGE).configure(table)
    template = "portals/operations/payments_ifsc.html"
    if request.htmx and request.method == "GET":
        template += "#ifsc-results"
    return render(request, template, {"table": table, "form": form, "query": query, "outcome": outcome})
