from crispy_forms.helper import FormHelper
from django import forms

from banking.cards.cash_models import JournalResolution
from banking.cards.journal import MAX_FILE_BYTES
from banking.cards.models import DENOMINATIONS, Terminal
from banking.users.models import Branch
from portals.forms import TokenForm, WholeNumberField


def _helper():
    helper = FormHelper()
    helper.form_tag = False
    return helper


class TerminalRequestForm(TokenForm):
    branch = forms.ModelChoiceField(queryset=Branch.objects.filter(is_active=True).order_by("name"), label="Branch",
                                    help_text="The branch whose vault replenishes it.",
                                    error_messages={"required": "Choose the branch that looks after the terminal.",
                                                    "invalid_choice": "Choose one of the bank's branches."})
    terminal_id = forms.CharField(label="Terminal id", max_length=8, help_text="8 capital letters or digits.",
                                  error_messages={"required": "Enter the terminal id.",
                                                  "max_length": "A terminal id is 8 capital letters or digits."},
                                  widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}))
    location = forms.CharField(label="Location", max_length=120,
                               error_messages={"required": "Say where the terminal stands."})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper()


def _count(label):
    return WholeNumberField(label=label, required=False, min_value=0, max_value=10_000,
                            error_messages={"min_value": "A count cannot be negative.",
                                            "max_value": "Check the count: a cassette holds far fewer notes."},
                            widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}))


class ReplenishForm(TokenForm):
    """The notes counted left in each cassette, and the notes loaded from the vault."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for denomination in DENOMINATIONS:
            self.fields[f"left_{denomination}"] = _count(f"Left: ₹{denomination} notes")
            self.fields[f"load_{denomination}"] = _count(f"Load: ₹{denomination} notes")
        self.helper = _helper()

    def notes(self, prefix):
        return {d: self.cleaned_data.get(f"{prefix}_{d}") or 0 for d in DENOMINATIONS}

    def left_fields(self):
        return [self[f"left_{d}"] for d in DENOMINATIONS]

    def load_fields(self):
        return [self[f"load_{d}"] for d in DENOMINATIONS]


class JournalUploadForm(forms.Form):
    terminal = forms.ModelChoiceField(queryset=Terminal.objects.order_by("terminal_id"), label="Terminal",
                                      to_field_name="terminal_id",
                                      error_messages={"required": "Choose the terminal whose journal this is.",
                                                      "invalid_choice": "Choose one of the bank's terminals."})
    file = forms.FileField(label="Electronic journal (CSV)", error_messages={
        "required": "Choose the electronic journal to upload.", "empty": "The file is empty."},
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper()

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload and upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(f"{upload.name} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB.")
        return upload


class JournalResolutionForm(TokenForm):
    resolution = forms.ChoiceField(choices=JournalResolution.choices, label="Resolution",
                                   error_messages={"required": "Choose how to resolve it.",
                                                   "invalid_choice": "Choose one of the resolutions offered."})
    reason = forms.CharField(max_length=500, label="Reason", error_messages={
        "required": "Give the reason for this resolution; the checker reads it."})
