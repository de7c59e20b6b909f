"""Debit cards at the counter: find the account, see its cards (masked, first 6 and
last 4 digits only), issue a card to one of its holders, hotlist a card reported
lost or stolen, issue a replacement from a hotlisted card, and print a new card's
mailer.

The mailer carries the card's CVV, which the bank derives and never keeps
(banking.cards.mailer). It is printed once, by the account's home branch; a second
print is refused in words, saying when and by whom it was printed (a lost mailer
means a card to replace). The page also lists the cards of the teller's branch whose
mailers wait to be printed, among them cards customers requested online.

Tellers work bank-wide (a customer may report a lost card at any branch); the
actions refuse what only the home branch may do. Cards are addressed by their id,
never by their number.
"""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from banking.cards import actions
from banking.cards.models import Card, CardStatus
from banking.core.errors import BankingError
from portals import policies

from .card_forms import IssueCardForm, TellerHotlistForm
from .cash_forms import ChequeAccountForm
from .counter_views import lookup_context


def _waiting_mailers(user):
    if user.branch is None:
        return Card.objects.none()
    return (Card.objects.filter(account__branch=user.branch, status=CardStatus.ACTIVE, mailer_printed_at=None)
            .select_related("account", "customer").order_by("issued_at", "id"))


def _page(request, account_form, *, issue_form=None, status=200):
    found = account_form.counter_account if account_form.is_bound and account_form.is_valid() else None
    number = account_form.data.get("account", "") if account_form.is_bound else ""
    context = {"account_form": account_form, "found": found, "lookup": lookup_context(number, "cheques"),
               "waiting": _waiting_mailers(request.user)[:20], "statuses": CardStatus}
    if found is not None:
        account = found.account
        cards = list(Card.objects.filter(account=account).select_related("customer", "replaces", "mailer_printed_by")
                     .prefetch_related("replaced_by"))
        for card in cards:
            card.can_replace = card.is_hotlisted and not _has_replacement(card)
        context.update(account=account, cards=cards, hotlist_form=TellerHotlistForm(),
                       issue_form=issue_form or IssueCardForm(holders=found.holders))
    return render(request, "portals/teller/cards.html", context, status=status)


def _has_replacement(card):
    try:
        return card.replaced_by is not None
    except Card.DoesNotExist:
        return False


@require_GET
@policies.teller
def cards(request):
    form = ChequeAccountForm(request.GET if "account" in request.GET else None)
    return _page(request, form)


def _back(account_number):
    return redirect(f"{reverse('teller:cards')}?account={account_number}")


@require_POST
@policies.teller
def card_issue(request):
    account_form = ChequeAccountForm(request.POST)
    found = account_form.counter_account if account_form.is_valid() else None
    if found is None:
        return _page(request, account_form, status=400)
    form = IssueCardForm(request.POST, holders=found.holders)
    if form.is_valid():
        try:
            card = actions.issue_card(actor=request.user, account=found.account,
                                      customer=form.holders[form.cleaned_data["holder"]])
        except BankingError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Card {card.masked} issued to {card.customer.display_name}. Print its mailer "
                                      "now and hand it over with the card: it carries the CVV and prints once.")
            return _back(found.account.number)
    return _page(request, account_form, issue_form=form, status=400)


def _card(pk):
    return get_object_or_404(Card.objects.select_related("account", "customer"), pk=pk)


@require_POST
@policies.teller
def card_hotlist(request, pk):
    card = _card(pk)
    form = TellerHotlistForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["reason"]))
        return _back(card.account.number)
    try:
        card = actions.hotlist(actor=request.user, card=card, reason=form.cleaned_data["reason"])
    except BankingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Card {card.masked} hotlisted ({card.get_status_display().lower()}): it works "
                                  "nowhere from now on.")
    return _back(card.account.number)


@require_POST
@policies.teller
def card_replace(request, pk):
    card = _card(pk)
    try:
        new = actions.replace(actor=request.user, card=card)
    except BankingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Card {new.masked} replaces {card.masked}. Print its mailer now.")
    return _back(card.account.number)


@require_POST
@policies.teller
def card_mailer(request, pk):
    """The card mailer PDF, once; a second print is refused in words on the cards page."""
    card = _card(pk)
    try:
        pdf = actions.print_mailer(actor=request.user, card=card)
    except BankingError as error:
        messages.error(request, str(error))
        return _back(card.account.number)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="card-mailer-{card.masked[-4:]}-{card.pk}.pdf"'
    response["Cache-Control"] = "no-store"
    return response
