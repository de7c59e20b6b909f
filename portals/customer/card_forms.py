"""Internet banking's card forms: requesting a debit card, the green PIN with the
authenticator code, the card's controls and hotlisting it. The card actions
(banking.cards.actions) check every rule again: the PIN's format, the cap on the
ATM limit, who may act on the card."""

from django import forms

from banking.cards.models import HOTLISTED, CardStatus
from banking.core.money import format_money
from banking.deposits.models import DepositAccount, DepositStatus
from portals.forms import AmountField

from .payment_forms import AuthenticatorCodeField


def accounts_for_a_card(customer):
    """The customer's active savings and current accounts on which they hold no active card."""
    return (DepositAccount.objects.for_customer(customer).operative().filter(status=DepositStatus.ACTIVE)
            .exclude(cards__customer=customer, cards__status=CardStatus.ACTIVE)
            .select_related("product", "branch").order_by("number"))


class RequestCardForm(forms.Form):
    account = forms.ModelChoiceField(
        queryset=DepositAccount.objects.none(), label="Account for the card", empty_label=None,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the account the card draws on.",
                        "invalid_choice": "Choose one of your savings or current accounts without a card."})

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = accounts_for_a_card(customer)
        self.fields["account"].label_from_instance = (
            lambda a: f"{a.product.name} {a.number}, collect the card at {a.branch.name}")


class PinInput(forms.PasswordInput):
    def __init__(self, **attrs):
        super().__init__(attrs={"inputmode": "numeric", "autocomplete": "off", "pattern": "[0-9]*",
                                "class": "form-control form-control-lg font-monospace", "maxlength": "4", **attrs})


class PinForm(forms.Form):
    pin = forms.CharField(label="New PIN", max_length=12, strip=True, widget=PinInput(),
                          help_text="4 digits; not four equal digits or a run like 1234.",
                          error_messages={"required": "Enter the new PIN."})
    pin_again = forms.CharField(label="Repeat the PIN", max_length=12, strip=True, widget=PinInput(),
                                error_messages={"required": "Enter the new PIN a second time."})
    code = AuthenticatorCodeField()

    def clean(self):
        data = super().clean()
        if data.get("pin") and data.get("pin_again") and data["pin"] != data["pin_again"]:
            self.add_error("pin_again", "The two PINs differ: enter the same PIN twice.")
        return data


class ControlsForm(forms.Form):
    atm_enabled = forms.BooleanField(label="ATM withdrawals", required=False)
    pos_enabled = forms.BooleanField(label="Shops (card machines)", required=False)
    ecommerce_enabled = forms.BooleanField(label="Online shopping (e-commerce)", required=False)
    atm_daily_limit = AmountField(label="Daily ATM limit (₹)", allow_zero=True,
                                  error_messages={"required": "Enter the daily ATM limit (0 stops ATM cash)."})

    def __init__(self, *args, card, **kwargs):
        kwargs.setdefault("initial", {"atm_enabled": card.atm_enabled, "pos_enabled": card.pos_enabled,
                                      "ecommerce_enabled": card.ecommerce_enabled,
                                      "atm_daily_limit": format_money(card.atm_daily_limit, symbol=False)})
        super().__init__(*args, **kwargs)
        self.fields["atm_daily_limit"].help_text = (f"In hundreds of rupees, at most "
                                                    f"{format_money(card.atm_cap)} a day.")
        for name in ("atm_enabled", "pos_enabled", "ecommerce_enabled"):
            self.fields[name].widget.attrs.update({"class": "form-check-input", "role": "switch"})


class HotlistForm(forms.Form):
    reason = forms.ChoiceField(
        label="What happened to the card?", widget=forms.RadioSelect,
        choices=[(s.value, "It is lost" if s == CardStatus.LOST else "It was stolen") for s in HOTLISTED],
        error_messages={"required": "Say whether the card was lost or stolen.",
                        "invalid_choice": "Say whether the card was lost or stolen."})
