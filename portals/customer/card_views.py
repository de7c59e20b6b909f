"""Internet banking: the customer's debit cards, phone first.

- My cards: each card masked (first 6 and last 4 digits only, as everywhere), its
  status, whether its PIN is set and its mailer printed.
- Requesting a debit card for one of their active savings or current accounts
  without one; the branch prints the card's mailer (with the CVV, once) and hands
  the card over.
- A card's page: its controls (ATM, shops, e-commerce on or off and the daily ATM
  limit within the product's cap), saved by HTMX as a switch is flipped (the
  fragment `card-controls` swaps itself; without JavaScript the form posts and the
  page comes back); hotlisting it as lost or stolen, at once; a replacement for a
  hotlisted card.
- Setting a green PIN, confirmed with their authenticator code (the card action
  checks the code: banking.users.authenticator.require_code).

Every query starts from the signed-in customer's cards: another customer's card is
a 404, the same as one that does not exist. No page, message or URL carries the card
number: cards are addressed by their id and shown by `masked`.
"""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from banking.cards import actions
from banking.cards.models import Card, CardStatus
from banking.core.errors import BankingError
from banking.core.money import format_money
from portals import policies

from .card_forms import ControlsForm, HotlistForm, PinForm, RequestCardForm, accounts_for_a_card


def _me(request):
    customer = getattr(request.user, "customer", None)
    if customer is None:
        raise Http404("No customer record for this login")
    return customer


def _my_cards(customer):
    return (Card.objects.for_customer(customer)
            .select_related("account__product", "account__branch", "replaces").prefetch_related("replaced_by"))


def _my_card(request, pk):
    return get_object_or_404(_my_cards(_me(request)), pk=pk)


def _replacement(card):
    try:
        return card.replaced_by
    except Card.DoesNotExist:
        return None


@require_GET
@policies.customer
def card_list(request):
    customer = _me(request)
    return render(request, "portals/customer/cards_list.html", {
        "cards": _my_cards(customer), "can_request": accounts_for_a_card(customer).exists(),
    })


@require_http_methods(["GET", "POST"])
@policies.customer
def card_request(request):
    """A debit card for one of the customer's accounts, to collect at its branch."""
    customer = _me(request)
    form = RequestCardForm(request.POST or None, customer=customer)
    if request.method == "POST" and form.is_valid():
        account = form.cleaned_data["account"]
        try:
            card = actions.issue_card(actor=request.user, account=account, customer=customer)
        except BankingError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Your debit card {card.masked} is ready to collect at {account.branch.name}, "
                                      "with its mailer. Set its PIN here now.")
            return redirect("customer:card", pk=card.pk)
    return render(request, "portals/customer/card_request.html", {"form": form},
                  status=400 if form.errors else 200)


def _detail_context(card, controls_form=None, saved=None):
    return {"card": card, "statuses": CardStatus, "replacement": _replacement(card),
            "controls": controls_form or ControlsForm(card=card), "saved": saved}


@require_GET
@policies.customer
def card_detail(request, pk):
    card = _my_card(request, pk)
    return render(request, "portals/customer/card_detail.html", _detail_context(card))


def _saved_words(card):
    def on_off(flag):
        return "on" if flag else "off"

    return (f"Saved: ATM {on_off(card.atm_enabled)}, shops {on_off(card.pos_enabled)}, online shopping "
            f"{on_off(card.ecommerce_enabled)}, daily ATM limit {format_money(card.atm_daily_limit)}.")


@require_POST
@policies.customer
@vary_on_headers("HX-Request")
def card_controls(request, pk):
    """The card's controls. HTMX: the controls fragment comes back, saved or with the
    reason it was not (status 200, which htmx swaps); a plain post goes back to the
    card's page, or redraws it with the reason (400)."""
    card = _my_card(request, pk)
    form = ControlsForm(request.POST, card=card)
    saved = None
    if form.is_valid():
        data = form.cleaned_data
        try:
            card = actions.set_controls(actor=request.user, card=card, atm_enabled=data["atm_enabled"],
                                        pos_enabled=data["pos_enabled"], ecommerce_enabled=data["ecommerce_enabled"],
                                        atm_daily_limit=data["atm_daily_limit"])
        except BankingError as error:
            form.add_error("atm_daily_limit" if "limit" in str(error) else None, str(error))
        else:
            saved = _saved_words(card)
            if not request.htmx:
                messages.success(request, saved)
                return redirect("customer:card", pk=card.pk)
            form = ControlsForm(card=card)
    if request.htmx:
        return render(request, "portals/customer/card_detail.html#card-controls", _detail_context(card, form, saved))
    return render(request, "portals/customer/card_detail.html", _detail_context(card, form), status=400)


@require_http_methods(["GET", "POST"])
@policies.customer
def card_pin(request, pk):
    """A green PIN: the new PIN twice and the authenticator code."""
    card = _my_card(request, pk)
    form = PinForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            actions.set_pin(actor=request.user, card=card, pin=data["pin"], code=data["code"])
        except BankingError as error:
            text = str(error)
            field = "code" if "authenticator" in text else "pin" if text.startswith(("Enter a PIN", "Choose a PIN")) \
                else None
            form.add_error(field, text)
        else:
            messages.success(request, f"The PIN of card {card.masked} is set. Use it at any ATM from now on.")
            return redirect("customer:card", pk=card.pk)
    return render(request, "portals/customer/card_pin.html", {"card": card, "form": form},
                  status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@policies.customer
def card_hotlist(request, pk):
    """Hotlist the card as lost or stolen: it stops working at once."""
    card = _my_card(request, pk)
    form = HotlistForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            card = actions.hotlist(actor=request.user, card=card, reason=form.cleaned_data["reason"])
        except BankingError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Card {card.masked} is blocked ({card.get_status_display().lower()}): it "
                                      "works nowhere from now on. You can ask for a replacement below.")
            return redirect("customer:card", pk=card.pk)
    return render(request, "portals/customer/card_hotlist.html", {"card": card, "form": form},
                  status=400 if form.errors else 200)


@require_POST
@policies.customer
def card_replace(request, pk):
    """A replacement for a hotlisted card, with the same controls and a new number."""
    card = _my_card(request, pk)
    if card.status == CardStatus.ACTIVE:
        messages.error(request, f"Card {card.masked} is active. Hotlist it first if it is lost or stolen.")
        return redirect("customer:card", pk=card.pk)
    try:
        new = actions.replace(actor=request.user, card=card)
    except BankingError as error:
        messages.error(request, str(error))
        return redirect("customer:card", pk=card.pk)
    messages.success(request, f"Your new card {new.masked} replaces {card.masked}. Collect it with its mailer at "
                              f"{new.account.branch.name} and set its PIN here.")
    return redirect("customer:card", pk=new.pk)
