"""The teller's form for recording a customer's Form 15G or 15H."""

from django import forms

from banking.deposits.models import TaxForm


class TaxDeclarationForm(forms.Form):
    form = forms.ChoiceField(
        label="Form received", choices=TaxForm.choices, widget=forms.RadioSelect,
        error_messages={"required": "Choose the form the customer signed.",
                        "invalid_choice": "Choose Form 15G or Form 15H."})
    signed = forms.BooleanField(
        label="The customer signed the form at the counter, and the branch keeps it.",
        error_messages={"required": "Confirm that the signed form is with the branch."})
