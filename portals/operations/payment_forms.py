from crispy_forms.helper import FormHelper
from django import forms

from banking.payments.models import Rail, Resolution
from banking.payments.reconciliation import MAX_FILE_BYTES
from portals.forms import AmountField


def _helper(form_tag=False):
    helper = FormHelper()
    helper.form_tag = form_tag
    return helper


class UploadField(forms.FileField):
    """A CSV file from the operator's computer, within the size cap."""

    def clean(self, data, initial=None):
        upload = super().clean(data, initial)
        if upload and upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(f"{upload.name} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB.")
        return upload


class SettlementUploadForm(forms.Form):
    file = UploadField(label="Settlement file (CSV)", error_messages={
        "required": "Choose the settlement file to upload.", "empty": "The file is empty."},
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper()


class IfscUploadForm(forms.Form):
    file = UploadField(label="Directory file (CSV)", help_text="Columns: ifsc, bank, branch, city, and optionally "
                       "NEFT, RTGS, IMPS as Y or N.", error_messages={
                           "required": "Choose the directory file to upload.", "empty": "The file is empty."},
                       widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper()


class ResolutionForm(forms.Form):
    resolution = forms.ChoiceField(choices=Resolution.choices, label="Resolution",
                                   error_messages={"required": "Choose how to resolve it."})
    reason = forms.CharField(max_length=500, label="Reason", error_messages={
        "required": "Give the reason for this resolution; the checker reads it."})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper()


class InboundForm(forms.Form):
    rail = forms.ChoiceField(choices=[(r, r) for r in (Rail.NEFT, Rail.RTGS, Rail.IMPS, Rail.UPI)], label="Rail")
    destination = forms.CharField(max_length=80, label="Customer's account number or UPI ID",
                                  error_messages={"required": "Enter the account number or UPI ID to credit."})
    amount = AmountField(label="Amount (₹)", error_messages={"required": "Enter the amount."})
    remitter = forms.CharField(max_length=140, label="Remitter's name", initial="Anil Mehta",
                               error_messages={"required": "Enter the remitter's name."})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper()

    def clean(self):
        data = super().clean()
        destination = data.get("destination", "").strip()
        if "@" in destination and data.get("rail") != Rail.UPI:
            self.add_error("rail", "A payment to a UPI ID arrives by UPI.")
        data["destination"] = destination
        return data


class CollectForm(forms.Form):
    payer_vpa = forms.CharField(max_length=80, label="Customer's UPI ID",
                                error_messages={"required": "Enter the customer's UPI ID."})
    merchant_name = forms.CharField(max_length=140, label="Merchant name",
                                    error_messages={"required": "Enter the merchant's name."})
    merchant_vpa = forms.CharField(max_length=80, label="Merchant UPI ID",
                                   error_messages={"required": "Enter the merchant's UPI ID."})
    amount = AmountField(label="Amount (₹)", error_messages={"required": "Enter the amount."})
    note = forms.CharField(max_length=140, required=False, label="Note")
    is_merchant = forms.BooleanField(required=False, initial=True, label="Is a merchant")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper()
