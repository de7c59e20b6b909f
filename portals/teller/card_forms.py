"""Debit cards at the counter: issuing one to a holder of the account, hotlisting a
card. The card actions (banking.cards.actions) check every rule again."""

from django import forms

from banking.cards.models import HOTLISTED, CardStatus


class IssueCardForm(forms.Form):
    """The holder of the account found who gets the card (the account's holders are
    the choices; the action refuses anyone else)."""

    holder = forms.TypedChoiceField(label="Cardholder", coerce=int, empty_value=None,
                                    error_messages={"required": "Choose the holder the card is for.",
                                                    "invalid_choice": "Choose one of the account's holders."})

    def __init__(self, *args, holders=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.holders = {h.customer.pk: h.customer for h in holders}
        self.fields["holder"].choices = [(h.customer.pk, f"{h.name} (CIF {h.customer.cif})") for h in holders]


class TellerHotlistForm(forms.Form):
    reason = forms.ChoiceField(
        label="Reported", choices=[(s.value, "Lost" if s == CardStatus.LOST else "Stolen") for s in HOTLISTED],
        error_messages={"required": "Say whether the card was lost or stolen.",
                        "invalid_choice": "Say whether the card was lost or stolen."})
