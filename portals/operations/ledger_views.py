"""Operations' view of the general ledger: the chart, a GL account's ledger, the
trial balance, journal entries, and the manual journal and reversal requests that
go to a second person for approval."""

import datetime

from django import forms
from django.contrib import messages
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_tables2 import RequestConfig

from banking.approvals.actions import submit_request
from banking.approvals.models import ApprovalRequest
from banking.core.errors import BankingError
from banking.ledger.models import BusinessDate, JournalEntry, LedgerAccount
from banking.ledger.queries import chart_tree, trial_balance
from portals import policies

from .ledger_filters import PostingFilter
from .ledger_forms import (
    MAX_LINES,
    JournalHeaderForm,
    JournalLineFormSet,
    ReverseEntryForm,
    line_count,
    running_totals,
    with_line_added,
    with_line_removed,
)
from .ledger_tables import PostingTable


@require_GET
@policies.operations
def chart(request):
    return render(request, "portals/operations/gl_chart.html", {"nodes": chart_tree()})


@require_GET
@policies.operations
@vary_on_headers("HX-Request")
def gl_account(request, code):
    account = get_object_or_404(LedgerAccount.objects.general().detail(), code=code)
    postings = PostingFilter(
        request.GET,
        queryset=account.postings.select_related("entry", "account").order_by("-business_date", "-id"),
    )
    table = PostingTable(postings.qs)
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    template = "portals/operations/gl_account.html"
    if request.htmx:
        template += "#gl-postings"
    return render(request, template, {"account": account, "filter": postings, "table": table})


@require_GET
@policies.operations
def trial_balance_view(request):
    today = BusinessDate.objects.current()
    as_of, error = None, None
    raw = request.GET.get("as_of", "")
    if raw:
        try:
            as_of = datetime.date.fromisoformat(raw)
        except ValueError:
            error = "Enter the date as a calendar date."
        else:
            if as_of > today:
                error = f"The ledger has nothing after the business date, {today:%d %b %Y}."
                as_of = None
    report = trial_balance(as_of)
    return render(request, "portals/operations/trial_balance.html",
                  {"report": report, "as_of": as_of, "today": today, "error": error, "raw": raw})


@require_GET
@policies.operations
def entry_detail(request, pk):
    entry = get_object_or_404(
        JournalEntry.objects.select_related("maker", "checker", "reversal_of"), pk=pk
    )
    pending = ApprovalRequest.objects.pending().filter(kind="ledger.reversal", payload__entry_id=entry.pk).first()
    reversed_by = JournalEntry.objects.filter(reversal_of=entry).first()
    return render(request, "portals/operations/entry_detail.html", {
        "entry": entry,
        "postings": entry.postings.select_related("account").order_by("id"),
        "reversed_by": reversed_by,
        "pending_reversal": pending,
        "form": ReverseEntryForm(),
        "can_reverse": request.user.has_perm("users.post_manual_journal"),
    })


def _not_reversible(entry):
    """Why `entry` cannot be sent for reversal now, or None."""
    if entry.reversal_of_id or entry.kind == "reversal":
        return f"{entry.number} is itself a reversal; post a new entry instead."
    if JournalEntry.objects.filter(reversal_of=entry).exists():
        return f"{entry.number} has already been reversed."
    if ApprovalRequest.objects.pending().filter(kind="ledger.reversal", payload__entry_id=entry.pk).exists():
        return f"A reversal of {entry.number} is already waiting for approval."
    return None


def _sent_again(request, approval, what):
    messages.info(request, f"This {what} was already sent for approval as request #{approval.pk}; "
                           "it was not sent again.")
    return redirect("ops:my-requests")


@require_POST
@policies.ops_journal
def entry_reverse(request, pk):
    """Send the reversal of an entry for approval. The entry's row is locked while
    the request is made (FOR NO KEY UPDATE, which postings referring to it do not
    wait for), so two requests for one entry at the same moment queue, and the
    second finds the first waiting. The same form sent twice leads to the first."""
    form = ReverseEntryForm(request.POST)
    with transaction.atomic():
        entry = get_object_or_404(JournalEntry.objects.select_for_update(no_key=True), pk=pk)
        if not form.is_valid():
            messages.error(request, " ".join(error for errors in form.errors.values() for error in errors))
            return redirect("ops:entry-detail", pk=entry.pk)
        token = form.cleaned_data["idempotency_key"]
        # A token already used goes to submit_request, which finds the first request.
        refusal = None if ApprovalRequest.objects.for_key(token).exists() else _not_reversible(entry)
        if refusal:
            messages.error(request, refusal)
            return redirect("ops:entry-detail", pk=entry.pk)
        try:
            approval = submit_request(
                actor=request.user, kind="ledger.reversal", amount=entry.total, currency=entry.currency,
                payload={"entry_id": entry.pk, "reason": form.cleaned_data["reason"]}, branch=None,
                summary=f"Reverse {entry.number}: {form.cleaned_data['reason']}", idempotency_key=token,
            )
        except BankingError as error:
            messages.error(request, str(error))
            return redirect("ops:entry-detail", pk=entry.pk)
    if approval.repeated:
        return _sent_again(request, approval, "reversal")
    messages.success(request, f"The reversal of {entry.number} is waiting for a second person's approval.")
    return redirect("ops:my-requests")


@require_http_methods(["GET", "POST"])
@policies.ops_journal
@vary_on_headers("HX-Request")
def journal_new(request):
    """A manual journal: lines added and removed in place, a running difference, and
    on submit a request in the approval queue. Nothing posts until a checker approves.
    The form's token makes it one request however often it is sent."""
    template = "portals/operations/journal_new.html"
    if request.method == "GET":
        context = {"header": JournalHeaderForm(), "lines": JournalLineFormSet(prefix="lines"),
                   "totals": running_totals({})}
        return render(request, template, context)

    action = request.POST.get("action", "submit")
    data = request.POST
    if action == "recalc":
        return render(request, template + "#journal-totals-values", {"totals": running_totals(data)})
    # The line count is read before anything is built: one over the cap, or one that
    # is not a number, redraws what can be drawn with the reason, and queues nothing.
    problem = None
    try:
        if action == "add":
            data = with_line_added(data)
        elif action.startswith("remove-"):
            index = action.removeprefix("remove-")
            if index.isascii() and index.isdigit() and int(index) < MAX_LINES:
                data = with_line_removed(data, int(index))
        count = line_count(data)
    except forms.ValidationError as error:
        problem = error.messages[0]
        count = MAX_LINES if error.code == "too_many_forms" else JournalLineFormSet.min_num
    if action != "submit" or problem:
        # Re-show what was typed, without judging it yet, with the form's own token.
        typed = {"narration": data.get("narration", "")}
        if data.get("idempotency_key"):
            typed["idempotency_key"] = data["idempotency_key"]
        header = JournalHeaderForm(initial=typed)
        initial = [{f: data.get(f"lines-{i}-{f}", "") for f in ("account", "side", "amount")} for i in range(count)]
        lines = JournalLineFormSet(prefix="lines", initial=initial)
        lines.extra = 0
        context = {"header": header, "lines": lines, "totals": running_totals(data), "problem": problem}
        return render(request, template + ("#journal-form" if request.htmx else ""), context)

    header = JournalHeaderForm(data)
    lines = JournalLineFormSet(data, prefix="lines")
    if header.is_valid() and lines.is_valid():
        payload_lines = [
            {"account_id": line["account"].pk, "side": line["side"], "amount": line["amount"]}
            for line in lines.cleaned_data if line
        ]
        total = sum(line["amount"] for line in payload_lines if line["side"] == "D")
        try:
            approval = submit_request(
                actor=request.user, kind="ledger.manual_journal", amount=total, branch=None,
                payload={"narration": header.cleaned_data["narration"], "lines": payload_lines},
                summary=f"Manual journal: {header.cleaned_data['narration']}",
                idempotency_key=header.cleaned_data["idempotency_key"],
            )
        except BankingError as error:
            messages.error(request, str(error))
        else:
            if approval.repeated:
                return _sent_again(request, approval, "journal")
            messages.success(request, "The journal is waiting for a second person's approval. "
                                      "Nothing posts until then.")
            return redirect("ops:my-requests")
    context = {"header": header, "lines": lines, "totals": running_totals(data)}
    return render(request, template, context, status=200)
