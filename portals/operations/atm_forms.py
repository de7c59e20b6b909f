"""The ATM simulator's forms: what the person at the simulated ATM chooses and keys in."""

import re

from django import forms

from banking.cards.models import Card, Terminal
from portals.forms import AmountField

PIN = re.compile(r"[0-9]{4,12}")

TRANSACTIONS = [("01", "Cash withdrawal"), ("31", "Balance enquiry"), ("38", "Mini statement")]
OUTCOMES = [
    ("dispensed", "The ATM dispenses the cash"),
    ("dispense_failure", "The dispenser fails (then a 0420 with what it dispensed)"),
    ("timeout", "The answer times out (then a 0420 for the whole amount)"),
]


class CardChoice(forms.ModelChoiceField):
    def label_from_instance(self, card):
        label = f"{card.masked} · {card.name_on_card}"
        if card.status != "active":
            label += f" ({card.get_status_display().lower()})"
        return label


class TerminalChoice(forms.ModelChoiceField):
    def label_from_instance(self, terminal):
        return f"{terminal.terminal_id} · {terminal.location}"


class SimulatorForm(forms.Form):
    terminal = TerminalChoice(queryset=Terminal.objects.all(), empty_label=None, label="ATM",
                              error_messages={"invalid_choice": "Choose one of the bank's ATMs."})
    card = CardChoice(queryset=Card.objects.order_by("-issued_at", "-id"), empty_label=None, label="Card",
                      error_messages={"invalid_choice": "Choose one of the cards listed.",
                                      "required": "Choose the card to insert."})
    transaction = forms.ChoiceField(choices=TRANSACTIONS, initial="01", widget=forms.RadioSelect)
    pin = forms.CharField(label="PIN", max_length=12, required=False,
                          widget=forms.PasswordInput(attrs={"inputmode": "numeric", "autocomplete": "off"}))
    amount = AmountField(label="Amount (₹)", required=False, max_minor=10_00_000_00)
    outcome = forms.ChoiceField(choices=OUTCOMES, initial="dispensed", widget=forms.RadioSelect, label="Then")
    dispensed = AmountField(label="Dispensed before the failure (₹)", required=False, allow_zero=True)

    def clean_pin(self):
        pin = self.cleaned_data["pin"]
        if not PIN.fullmatch(pin or ""):
            raise forms.ValidationError("Key in the card's PIN: 4 to 12 digits.")
        return pin

    def clean(self):
        data = super().clean()
        if data.get("transaction") == "01":
            amount = data.get("amount")
            if amount is None and "amount" not in self.errors:
                self.add_error("amount", "Key in the amount to withdraw.")
            dispensed = data.get("dispensed") or 0
            if data.get("outcome") == "dispense_failure" and amount is not None and dispensed >= amount:
                self.add_error("dispensed", "A failed dispense gives out less than the amount asked for.")
        return data


class TerminalPowerForm(forms.Form):
    terminal = TerminalChoice(queryset=Terminal.objects.all(), empty_label=None, label="ATM",
                              error_messages={"invalid_choice": "Choose one of the bank's ATMs."})
    power = forms.ChoiceField(choices=[("silent", "Go silent"), ("resume", "Send heartbeats again")],
                              error_messages={"invalid_choice": "Say whether the ATM goes silent or resumes."})
