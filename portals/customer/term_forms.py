"""Internet banking's fixed deposit form: what happens at maturity, confirmed with the
customer's authenticator code (an instruction about their money, like a payee)."""

from django import forms

from banking.deposits.models import MaturityInstruction

from .payment_forms import AuthenticatorCodeField, _Form


class MaturityInstructionForm(_Form):
    instruction = forms.ChoiceField(
        label="At maturity", choices=MaturityInstruction.choices, widget=forms.RadioSelect,
        error_messages={"required": "Choose what happens at maturity.",
                        "invalid_choice": "Choose one of the three instructions shown."})
    code = AuthenticatorCodeField()
