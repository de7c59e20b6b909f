"""The counter: cash deposits, withdrawals and transfers at keyboard speed, the
account look-up as the number is typed, receipts that turn live from "waiting for
approval", reversals through a supervisor, and the branch's live feed.

Every query starts from the teller's branch: a transaction of another branch is a
404. The actions decide; these views turn their refusals into form errors.
"""

import json

from django.contrib import messages
from django.db.models import Count, Q, Sum
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from banking.core.errors import AccountClosed, AccountFrozen, BankingError
from banking.teller.actions import (
    PAN_THRESHOLD,
    current_day,
    find_till,
    may_ask_reversal,
    pay_cash_withdrawal,
    request_reversal,
    take_cash_deposit,
    today,
    transfer_at_counter,
)
from banking.teller.lookup import NUMBER_LENGTH, credit_note, look_up
from banking.teller.models import CounterTransaction, TransactionKind, TransactionStatus
from banking.teller.words import rupees_in_words
from portals import policies

from .cash_forms import DepositForm, ReversalForm, TransferForm, WithdrawalForm

FEED_SIZE = 20
ACCOUNT_ERRORS = (AccountClosed, AccountFrozen)


# -- the counter's live state ------------------------------------------------------------


def till_state(user):
    """The teller's till and its day, for the header of every counter screen."""
    till = find_till(user)
    day = current_day(till) if till else None
    return {"till": till, "day": day, "till_open": bool(day and day.is_open)}


def counter_context(user):
    """The branch feed, the teller's till by denomination and the day's totals.
    A fixed number of queries, however many transactions the branch has taken."""
    branch = user.branch
    date = today()
    feed = []
    if branch is not None:
        feed = list(CounterTransaction.objects.for_branch(branch).on(date).for_feed().newest_first()[:FEED_SIZE])
    mine = CounterTransaction.objects.filter(teller=user, business_date=date)
    posted = Q(status=TransactionStatus.POSTED)
    totals = mine.aggregate(
        deposits=Count("id", filter=posted & Q(kind=TransactionKind.CASH_DEPOSIT)),
        deposited=Sum("amount", filter=posted & Q(kind=TransactionKind.CASH_DEPOSIT), default=0),
        withdrawals=Count("id", filter=posted & Q(kind=TransactionKind.CASH_WITHDRAWAL)),
        withdrawn=Sum("amount", filter=posted & Q(kind=TransactionKind.CASH_WITHDRAWAL), default=0),
        transfers=Count("id", filter=posted & Q(kind=TransactionKind.TRANSFER)),
        transferred=Sum("amount", filter=posted & Q(kind=TransactionKind.TRANSFER), default=0),
        waiting=Count("id", filter=Q(status=TransactionStatus.PENDING, approval__status="pending")),
    )
    totals["net_cash"] = totals["deposited"] - totals["withdrawn"]
    return {"feed": feed, "totals": totals, "date": date, **till_state(user)}


# -- the account look-up ----------------------------------------------------------------------

PURPOSES = {"deposit", "withdrawal", "transfer-from", "transfer-to", "cheques"}


def _customer_url(customer):
    try:
        return reverse("teller:customer-detail", kwargs={"pk": customer.pk})
    except NoReverseMatch:  # the customer screens are not installed
        return None


def _document_url(customer, document_id):
    if document_id is None:
        return None
    try:
        return reverse("teller:customer-document", kwargs={"pk": customer.pk, "document_pk": document_id})
    except NoReverseMatch:  # the KYC screens are not installed
        return None


def lookup_context(number, purpose):
    """What the look-up card shows for `number`: the holders with their photograph
    (and, to pay money out, their specimen signature), the status and the available
    balance, or why the number is wrong or the account cannot be used."""
    digits = "".join(ch for ch in str(number or "") if ch.isdigit())
    context = {"purpose": purpose, "number": number, "digits": len(digits), "needed": NUMBER_LENGTH}
    if not digits:
        return context | {"state": "empty"}
    if len(digits) < NUMBER_LENGTH and digits == str(number or "").replace(" ", "").replace("-", ""):
        return context | {"state": "typing"}
    try:
        found = look_up(number)
    except BankingError as error:
        return context | {"state": "error", "error": str(error)}
    debit = purpose in ("withdrawal", "transfer-from")
    holders = [
        {"name": holder.name, "cif": holder.customer.cif,
         "photo": _document_url(holder.customer, holder.photo_id),
         "signature": _document_url(holder.customer, holder.signature_id) if debit else None}
        for holder in found.holders
    ]
    return context | {
        "state": "found", "found": found, "account": found.account, "holders": holders,
        "customer_url": _customer_url(found.account.customer),
        "refusal": found.refusal(debit=debit) if purpose != "cheques" else None,
        "note": credit_note(found.account) if not debit else "",
        "show_balance": purpose != "transfer-to", "signatures": debit,
    }


@require_GET
@policies.teller
def account_lookup(request):
    """The look-up card, swapped in as the account number is typed (debounced)."""
    purpose = request.GET.get("purpose", "deposit")
    purpose = purpose if purpose in PURPOSES else "deposit"
    number = request.GET.get("to_account") if purpose == "transfer-to" else request.GET.get("account")
    return render(request, "portals/teller/account_lookup.html", {"lookup": lookup_context(number, purpose)})


# -- deposits, withdrawals and transfers ------------------------------------------------------


def _refuse(form, error):
    form.refuse(error, "account" if isinstance(error, ACCOUNT_ERRORS) else None)


def _screen(request, template, form, purpose, **extra):
    number = form.data.get("account") if form.is_bound else form.initial.get("account")
    context = {"form": form, "lookup": lookup_context(number, purpose), "pan_threshold": PAN_THRESHOLD,
               **till_state(request.user), **extra}
    return render(request, template, context, status=200)


@require_http_methods(["GET", "POST"])
@policies.teller
def deposit(request):
    """Account number → amount → notes → Enter: one screen, from the keyboard."""
    if request.method == "POST":
        form = DepositForm(request.POST)
        if form.is_valid() and form.deposit_account is not None:
            data = form.cleaned_data
            try:
                txn = take_cash_deposit(
                    actor=request.user, account=form.deposit_account, amount=data["amount"],
                    counts=form.counts, idempotency_key=data["idempotency_key"],
                    depositor_name=data["depositor_name"], depositor_mobile=data["depositor_mobile"], pan=data["pan"],
                )
            except BankingError as error:
                _refuse(form, error)
            else:
                return redirect("teller:transaction", pk=txn.pk)
    else:
        form = DepositForm(initial={"account": request.GET.get("account", "")})
    return _screen(request, "portals/teller/deposit.html", form, "deposit")


@require_http_methods(["GET", "POST"])
@policies.teller
def withdrawal(request):
    """Account number → amount → cheque (or slip) → notes paid out → Enter, with the
    holders' photographs and specimen signatures on the screen to compare."""
    till = find_till(request.user)
    if request.method == "POST":
        form = WithdrawalForm(request.POST)
        if form.is_valid() and form.counter_account is not None:
            data = form.cleaned_data
            try:
                txn = pay_cash_withdrawal(
                    actor=request.user, account=form.counter_account.account, amount=data["amount"],
                    counts=form.counts, idempotency_key=data["idempotency_key"], cheque_number=data["cheque_number"],
                )
            except BankingError as error:
                _refuse(form, error)
            else:
                return redirect("teller:transaction", pk=txn.pk)
    else:
        form = WithdrawalForm(initial={"account": request.GET.get("account", "")})
    available = till.counts if till else None
    return _screen(request, "portals/teller/withdrawal.html", form, "withdrawal", available=available,
                   available_json=json.dumps(available.as_dict()) if available else "")


@require_http_methods(["GET", "POST"])
@policies.teller
def transfer(request):
    """A transfer between two of the bank's accounts, by slip or cheque."""
    if request.method == "POST":
        form = TransferForm(request.POST)
        if form.is_valid() and form.from_account is not None and form.beneficiary is not None:
            data = form.cleaned_data
            try:
                txn = transfer_at_counter(
                    actor=request.user, account=form.from_account.account, to_account=form.beneficiary.account,
                    amount=data["amount"], idempotency_key=data["idempotency_key"],
                    cheque_number=data["cheque_number"], narration=data["narration"],
                )
            except BankingError as error:
                _refuse(form, error)
            else:
                return redirect("teller:transaction", pk=txn.pk)
    else:
        form = TransferForm(initial={"account": request.GET.get("account", "")})
    to_number = form.data.get("to_account") if form.is_bound else ""
    return _screen(request, "portals/teller/transfer.html", form, "transfer-from",
                   to_lookup=lookup_context(to_number, "transfer-to"))


# -- one transaction: receipt, live status, reversal -------------------------------------------


def _branch_transactions(user):
    return CounterTransaction.objects.filter(branch=user.branch).select_related(
        "account__customer", "account__product", "account__ledger_account", "to_account__customer", "teller",
        "till__teller", "branch", "approval", "approval__checker", "reversal_request", "entry", "reversal_entry",
        "cheque",
    )


@require_GET
@policies.teller
@vary_on_headers("HX-Request")
def transaction_detail(request, pk):
    """The receipt of a posted transaction, or its live status while it waits for
    approval: the waiting card polls and becomes the receipt when a supervisor
    approves, without the page reloading."""
    txn = get_object_or_404(_branch_transactions(request.user), pk=pk)
    template = "portals/teller/transaction.html"
    if request.htmx:
        template += "#transaction-body"
    can_reverse = (txn.status == TransactionStatus.POSTED and txn.business_date == today()
                   and not (txn.reversal_request_id and txn.reversal_request.is_pending)
                   and may_ask_reversal(txn, request.user))
    till = find_till(request.user)
    context = {
        "txn": txn, "words": rupees_in_words(txn.amount), "can_reverse": can_reverse,
        "reversal_form": ReversalForm(action=reverse("teller:transaction-reverse", kwargs={"pk": txn.pk})),
        "over_limit": till.over_holding_limit if till and txn.teller_id == request.user.pk else 0, "till": till,
    }
    return render(request, template, context)


@require_POST
@policies.teller
def transaction_reverse(request, pk):
    txn = get_object_or_404(_branch_transactions(request.user), pk=pk)
    form = ReversalForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the reason for the reversal.")
        return redirect("teller:transaction", pk=txn.pk)
    try:
        request_reversal(actor=request.user, transaction_id=txn.pk, reason=form.cleaned_data["reason"])
    except BankingError as error:
        messages.error(request, str(error))
        return redirect("teller:transaction", pk=txn.pk)
    messages.success(request, f"The reversal of {txn.number} is waiting for a supervisor's approval.")
    return redirect("teller:my-requests")
