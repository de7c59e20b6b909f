"""Operations: failed-dispense complaints ("debited but no cash"), open ones first
with the days left to T+5 or the days late; each one's investigation against the
terminal's electronic journal (what reconciliation found for its STAN, when a journal
covering its date has been uploaded), and its resolution: what the ATM dispensed,
the rest reversed through the switch (banking.cards.complaints)."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from banking.cards.cash_models import JournalException, JournalReconciliation
from banking.cards.complaint_models import ComplaintStatus
from banking.cards.complaints import resolve_dispense_complaint
from banking.cards.models import DispenseComplaint
from banking.core.errors import BankingError
from banking.core.money import Money
from banking.ledger.models import BusinessDate
from portals import policies
from portals.shared.atm_complaint_forms import ResolveComplaintForm, withdrawal_label

STATUSES = {"open": [ComplaintStatus.OPEN], "closed": [ComplaintStatus.REVERSED, ComplaintStatus.REJECTED],
            "all": ComplaintStatus.values}


@require_GET
@policies.ops_atms
def complaint_list(request):
    shown = request.GET.get("status", "open")
    shown = shown if shown in STATUSES else "open"
    today = BusinessDate.objects.current()
    complaints = list(DispenseComplaint.objects.filter(status__in=STATUSES[shown])
                      .select_related("withdrawal__terminal", "customer").order_by("transaction_date", "pk")[:500])
    for c in complaints:
        c.days_late = max(0, (today - c.reversal_due_on).days) if c.status == ComplaintStatus.OPEN else 0
    return render(request, "portals/operations/atm_complaints_list.html",
                  {"complaints": complaints, "shown": shown, "today": today})


def journal_evidence(withdrawal):
    """What reconciliation found for the withdrawal: its journal exceptions, and whether
    an uploaded journal covers its date at all (covered and no exception: it matched)."""
    exceptions = list(JournalException.objects.filter(
        reconciliation__terminal=withdrawal.terminal, stan=withdrawal.stan, local_date=withdrawal.local_date))
    covered = JournalReconciliation.objects.filter(terminal=withdrawal.terminal, first_date__lte=withdrawal.local_date,
                                                   last_date__gte=withdrawal.local_date).exists()
    return exceptions, covered


@require_http_methods(["GET", "POST"])
@policies.ops_atms
def complaint_detail(request, pk):
    complaint = get_object_or_404(DispenseComplaint.objects.select_related(
        "withdrawal__terminal", "customer", "account", "reversal", "resolved_by", "raised_by"), pk=pk)
    exceptions, covered = journal_evidence(complaint.withdrawal)
    initial = {}
    found = next((e for e in exceptions if e.journal_amount is not None), None)
    if found is not None:
        initial["dispensed"] = str(Money(found.journal_amount))
    form = ResolveComplaintForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            resolve_dispense_complaint(actor=request.user, complaint=complaint,
                                       dispensed_amount=form.cleaned_data["dispensed"],
                                       finding=form.cleaned_data["finding"])
        except BankingError as error:
            form.add_error(None, str(error))
        else:
            complaint.refresh_from_db()
            messages.success(request, f"Complaint {complaint.reference}: {complaint.get_status_display().lower()}.")
            return redirect("ops:atm-complaint", pk=complaint.pk)
    return render(request, "portals/operations/atm_complaints_detail.html", {
        "complaint": complaint, "form": form, "withdrawal_text": withdrawal_label(complaint.withdrawal),
        "exceptions": exceptions, "covered": covered, "compensations": complaint.compensations.all()})
