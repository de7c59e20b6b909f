"""Operations' forms for partner API keys."""

from crispy_forms.helper import FormHelper
from django import forms

from banking.core.money import Money
from banking.partners.models import SCOPES


class _Form(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True


class IssueKeyForm(_Form):
    cif = forms.CharField(label="Customer's CIF", max_length=12,
                          error_messages={"required": "Enter the corporate customer's CIF."})
    name = forms.CharField(label="Partner's name", max_length=100, help_text="As the customer's ERP or the fintech.",
                           error_messages={"required": "Name the partner."})
    payout_account = forms.CharField(label="Payout account", max_length=20, required=False,
                                     help_text="The customer's account payouts are paid from; leave blank for a "
                                               "key that only reads.")
    threshold = forms.DecimalField(label="Authorise batches above (₹)", min_value=0, max_digits=15, decimal_places=2,
                                   initial=0, help_text="Larger batches wait for the customer's authoriser.")
    scopes = forms.MultipleChoiceField(label="Scopes", choices=SCOPES, widget=forms.CheckboxSelectMultiple,
                                       error_messages={"required": "Choose at least one scope."})
    networks = forms.CharField(label="Allowed addresses", widget=forms.Textarea(attrs={"rows": 2}),
                               help_text="One address or network a line, as 203.0.113.0/24.",
                               error_messages={"required": "Give the addresses the partner calls from."})

    def clean_threshold(self):
        return Money.parse(str(self.cleaned_data["threshold"])).minor


class RotateKeyForm(_Form):
    grace_hours = forms.IntegerField(label="Old key keeps working for (hours)", min_value=0, max_value=720,
                                     initial=24)


class ReasonForm(_Form):
    reason = forms.CharField(label="Reason", max_length=200, error_messages={"required": "Give the reason."})
