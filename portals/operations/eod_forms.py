from crispy_forms.helper import FormHelper
from django import forms

from banking.ledger.holidays import NAME_MAX
from portals.forms import TokenForm


class HolidayForm(TokenForm):
    date = forms.DateField(
        label="Date", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": "Choose the holiday's date.", "invalid": "Enter the date as a calendar date."},
    )
    name = forms.CharField(
        label="Holiday", max_length=NAME_MAX, help_text="As customers and staff will read it, for example Diwali.",
        error_messages={"required": "Give the holiday's name.",
                        "max_length": f"A holiday's name has at most {NAME_MAX} characters."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
