"""The teller's forms for changing a loan's plan at the counter: a part-prepayment
(the principal and whether it reduces the EMI or the tenure) and the borrower's
choice at a floating-rate reset. The rules are banking.loans.servicing's and
banking.loans.resets'; the forms read what was typed."""

from django import forms

from banking.loans.models import PrepaymentChoice
from banking.loans.servicing_models import ResetChoice
from portals.forms import AmountField


class PrepayTermsForm(forms.Form):
    principal = AmountField(label="Principal to prepay (₹)",
                            help_text="Paid ahead of the schedule, on top of anything due today.",
                            error_messages={"required": "Enter the principal to prepay."})
    choice = forms.ChoiceField(label="Afterwards", widget=forms.RadioSelect, choices=PrepaymentChoice.choices,
                               initial=PrepaymentChoice.REDUCE_TENURE,
                               error_messages={"required": "Choose whether to reduce the EMI or the tenure.",
                                               "invalid_choice": "Choose whether to reduce the EMI or the tenure."})


class ResetChoiceForm(forms.Form):
    choice = forms.ChoiceField(label="At the reset", widget=forms.RadioSelect, choices=ResetChoice.choices,
                               initial=ResetChoice.TENURE,
                               error_messages={"required": "Choose a higher EMI, a longer tenure, or a prepayment.",
                                               "invalid_choice": "Choose a higher EMI, a longer tenure, or a "
                                                                 "prepayment."})


class ValuationForm(forms.Form):
    value = AmountField(label="Value (₹)", error_messages={"required": "Enter the value from the valuer's report."})
    note = forms.CharField(label="Valuer and report", max_length=200,
                           error_messages={"required": "Name the valuer and the report's reference."})


class LossForm(forms.Form):
    reason = forms.CharField(label="Why the loan is uncollectable", max_length=500, widget=forms.Textarea(
        attrs={"rows": 2}), error_messages={"required": "Give the reason the loan is uncollectable."})
