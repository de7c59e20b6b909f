"""The teller's loan servicing forms: cash for a loan's dues (or its foreclosure) by
denomination, and the date of a foreclosure quote. The rules are the servicing
module's (banking.loans.servicing); the forms read what was typed."""

import datetime

from django import forms

from portals.forms import AmountField

from .cash_forms import CashForm


class LoanCashForm(CashForm):
    """Cash taken for a loan: the amount and its notes and coins, which must add up."""

    amount = AmountField(label="Cash taken (₹)", error_messages={"required": "Enter the cash taken."})


class QuoteDateForm(forms.Form):
    on = forms.DateField(label="Quote as of", widget=forms.DateInput(attrs={"type": "date"}),
                         error_messages={"required": "Enter the date of the quote.",
                                         "invalid": "Enter the date as DD/MM/YYYY."},
                         input_formats=["%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y"])

    def clean_on(self):
        on = self.cleaned_data["on"]
        if on > datetime.date(9000, 1, 1):
            raise forms.ValidationError("Enter a date within the loan's life.")
        return on
