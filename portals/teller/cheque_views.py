"""Cheque books at the counter: find the account, see every leaf's status, issue a
book, stop payment of one cheque or a range, cancel a leaf."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from banking.core.errors import BankingError
from banking.teller.actions import cancel_cheque, issue_cheque_book, next_cheque_number, stop_cheques
from banking.teller.models import ChequeStatus
from portals import policies

from .cash_forms import CancelChequeForm, ChequeAccountForm, ChequeBookForm, StopChequesForm
from .counter_views import lookup_context


def _page(request, account_form, *, book_form=None, stop_form=None, cancel_form=None):
    found = account_form.counter_account if account_form.is_bound and account_form.is_valid() else None
    number = account_form.data.get("account", "") if account_form.is_bound else ""
    context = {"account_form": account_form, "found": found, "lookup": lookup_context(number, "cheques")}
    if found is not None:
        account = found.account
        books = list(account.cheque_books.prefetch_related("cheques").order_by("-id"))
        counts = {status: 0 for status in ChequeStatus.values}
        for book in books:
            for cheque in book.cheques.all():
                counts[cheque.status] += 1
        context.update(
            account=account, books=books, counts=counts,
            book_form=book_form or ChequeBookForm(), stop_form=stop_form or StopChequesForm(),
            cancel_form=cancel_form or CancelChequeForm(), next_number=f"{next_cheque_number(account.branch):06d}",
        )
    return render(request, "portals/teller/cheques.html", context)


@require_GET
@policies.teller
def cheques(request):
    form = ChequeAccountForm(request.GET if "account" in request.GET else None)
    return _page(request, form)


def _back(account):
    return redirect(f"{reverse('teller:cheques')}?account={account.number}")


def _account_from_post(request):
    form = ChequeAccountForm(request.POST)
    return form, (form.counter_account.account if form.is_valid() and form.counter_account else None)


def _act(request, form_class, form_name, act):
    """What every cheque action does: read the account and the action's form, run
    `act(account, cleaned_data)`, and go back to the account's cheques with the words
    it returns; bad input or a refusal redraws the page with the form and the reason."""
    account_form, account = _account_from_post(request)
    form = form_class(request.POST)
    if account is not None and form.is_valid():
        try:
            done = act(account, form.cleaned_data)
        except BankingError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, done)
            return _back(account)
    return _page(request, account_form, **{form_name: form})


@require_POST
@policies.teller
def cheque_book_issue(request):
    def issue(account, data):
        book = issue_cheque_book(actor=request.user, account=account, leaves=data["leaves"],
                                 first_number=data["first_number"])
        return f"Cheque book {book.first_leaf}–{book.last_leaf} issued to {account.number}."

    return _act(request, ChequeBookForm, "book_form", issue)


@require_POST
@policies.teller
def cheque_stop(request):
    def stop(account, data):
        count = stop_cheques(actor=request.user, account=account, first=data["first"], last=data["last"],
                             reason=data["reason"])
        return f"Payment stopped on {count} cheque{'s' if count > 1 else ''} of {account.number}."

    return _act(request, StopChequesForm, "stop_form", stop)


@require_POST
@policies.teller
def cheque_cancel(request):
    def cancel(account, data):
        cheque = cancel_cheque(actor=request.user, account=account, number=data["number"], reason=data["reason"])
        return f"Cheque {cheque.leaf} of {account.number} cancelled."

    return _act(request, CancelChequeForm, "cancel_form", cancel)
