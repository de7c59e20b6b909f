"""Operations' ATM cash screens: asking for a new terminal (and seeing its key once),
replenishing a terminal from its branch's vault, and reconciling a terminal's
electronic journal with its exceptions sent to a second person.

Every screen needs cards.operate_atms (policy ops_atms), which the operations role
carries; the approvals are a supervisor's, in the supervisor's queue. The fleet is
the bank's, so the scope is every terminal and branch.
"""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from banking.approvals.models import ApprovalRequest
from banking.cards.cash import (
    REGISTER_KIND,
    describe_notes,
    request_replenishment,
    request_terminal_registration,
    reveal_terminal_key,
)
from banking.cards.cash_models import (
    JournalException,
    JournalExceptionStatus,
    JournalReconciliation,
    Replenishment,
    ReplenishmentStatus,
    TerminalRegistration,
)
from banking.cards.journal import HEADER, awaiting_approval, reconcile_journal, request_journal_resolution
from banking.cards.models import Terminal
from banking.core.errors import BankingError
from banking.teller.models import CashBox
from portals import policies

from .atm_cash_forms import JournalResolutionForm, JournalUploadForm, ReplenishForm, TerminalRequestForm


def _errors(form):
    return " ".join(message for errors in form.errors.values() for message in errors)


# -- registration ---------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@policies.ops_atms
def atm_terminal_new(request):
    form = TerminalRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            approval = request_terminal_registration(
                actor=request.user, branch=data["branch"], terminal_id=data["terminal_id"],
                location=data["location"], idempotency_key=data["idempotency_key"])
        except BankingError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Request #{approval.pk} to register {approval.payload['terminal_id']} is "
                                      "waiting for a supervisor's approval. Its key appears here once approved.")
            return redirect("ops:atm-terminal-new")
    pending = ApprovalRequest.objects.pending().filter(kind=REGISTER_KIND, maker=request.user).order_by("-pk")
    registrations = TerminalRegistration.objects.filter(requested_by=request.user).select_related(
        "terminal__branch", "approved_by")[:20]
    return render(request, "portals/operations/atm_terminal_new.html",
                  {"form": form, "pending": pending, "registrations": registrations})


@never_cache
@require_POST
@policies.ops_atms
def atm_terminal_key(request, pk):
    registration = get_object_or_404(TerminalRegistration.objects.select_related("terminal", "requested_by"), pk=pk)
    try:
        key = reveal_terminal_key(actor=request.user, registration=registration)
    except BankingError as error:
        messages.error(request, str(error))
        return redirect("ops:atm-terminal-new")
    return render(request, "portals/operations/atm_terminal_key.html",
                  {"terminal": registration.terminal, "key": key})


# -- replenishment --------------------------------------------------------------------


def _vault_notes(terminal):
    """The branch's vault and its notes of the ATM's denominations, read only (None
    and nothing while the branch has no vault)."""
    vault = CashBox.objects.vaults().for_branch(terminal.branch).select_related("branch").first()
    if vault is None:
        return None, {500: 0, 200: 0, 100: 0}
    return vault, {500: vault.n500, 200: vault.n200, 100: vault.n100}


@require_http_methods(["GET", "POST"])
@policies.ops_atms
def atm_replenish(request, terminal_id):
    terminal = get_object_or_404(Terminal.objects.select_related("branch", "ledger_account"), terminal_id=terminal_id)
    form = ReplenishForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            replenishment = request_replenishment(
                actor=request.user, terminal=terminal, left=form.notes("left"), loaded=form.notes("load"),
                idempotency_key=form.cleaned_data["idempotency_key"])
        except BankingError as error:
            form.add_error(None, str(error))
        else:
            flag = f" The count is {replenishment.difference_label.lower()}: flagged for the supervisor." \
                if replenishment.is_flagged else ""
            messages.success(request, f"Request #{replenishment.approval_id} to load "
                                      f"{describe_notes(replenishment.loaded)} is waiting for a supervisor's "
                                      f"approval.{flag}")
            return redirect("ops:atm-replenish", terminal_id=terminal.terminal_id)
    cassettes = [(c.denomination, c.count, c.denomination * c.count * 100)
                 for c in terminal.cassettes.order_by("-denomination")]
    vault, vault_notes = _vault_notes(terminal)
    history = Replenishment.objects.filter(terminal=terminal).select_related("requested_by", "approval")[:20]
    status = terminal.fleet_status() if hasattr(terminal, "fleet_status") else None
    return render(request, "portals/operations/atm_replenish.html", {
        "terminal": terminal, "form": form, "cassettes": cassettes, "vault": vault,
        "vault_rows": [(d, vault_notes[d]) for d in (500, 200, 100)], "history": history, "status": status,
        "switch_value": sum(value for _, _, value in cassettes),
        "pending": next((r for r in history if r.status == ReplenishmentStatus.PENDING), None)})


# -- reconciliation of the electronic journal ----------------------------------------------


@require_http_methods(["GET", "POST"])
@policies.ops_atms
def atm_reconciliations(request):
    form = JournalUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            reconciliation = reconcile_journal(actor=request.user, terminal=form.cleaned_data["terminal"],
                                               name=upload.name, data=upload.read())
        except BankingError as error:
            form.add_error("file", str(error))
        else:
            found = reconciliation.exceptions
            messages.success(request, f"{reconciliation.name} reconciled: {reconciliation.matched} matched, "
                                      f"{found} exception{'s' if found != 1 else ''}.")
            return redirect("ops:atm-reconciliation", pk=reconciliation.pk)
    return render(request, "portals/operations/atm_reconciliations.html", {
        "form": form, "header": ",".join(HEADER), "terminals": Terminal.objects.order_by("terminal_id")[:200],
        "reconciliations": JournalReconciliation.objects.select_related("terminal", "uploaded_by")[:50],
        "open_count": JournalException.objects.filter(status=JournalExceptionStatus.OPEN).count()})


@require_http_methods(["GET"])
@policies.ops_atms
def atm_reconciliation(request, pk):
    reconciliation = get_object_or_404(JournalReconciliation.objects.select_related("terminal", "uploaded_by"), pk=pk)
    items = reconciliation.items.select_related("approval", "message").order_by("id")
    return render(request, "portals/operations/atm_reconciliation.html", {
        "reconciliation": reconciliation, "rows": [(item, awaiting_approval(item)) for item in items],
        "form": JournalResolutionForm()})


@require_POST
@policies.ops_atms
def atm_journal_resolve(request, pk):
    item = get_object_or_404(JournalException.objects.select_related("reconciliation", "approval"), pk=pk)
    form = JournalResolutionForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"STAN {item.stan}: {_errors(form)}")
    else:
        try:
            approval = request_journal_resolution(
                actor=request.user, exception=item, resolution=form.cleaned_data["resolution"],
                reason=form.cleaned_data["reason"], idempotency_key=form.cleaned_data["idempotency_key"])
        except BankingError as error:
            messages.error(request, f"STAN {item.stan}: {error}")
        else:
            messages.success(request, f"Request #{approval.pk} is waiting for a second person's approval.")
    return redirect(reverse("ops:atm-reconciliation", args=[item.reconciliation_id]) + f"#exception-{item.pk}")

