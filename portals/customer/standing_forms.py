"""Internet banking's standing instruction forms: setting one up needs the
customer's authenticator code (it is a standing mandate to pay), cancelling
asks why."""

from django import forms

from portals.shared.standing_forms import StandingInstructionForm


class CustomerStandingForm(StandingInstructionForm):
    code = forms.CharField(label="Authenticator code", max_length=6,
                           help_text="The 6-digit code your authenticator app shows now.",
                           error_messages={"required": "Enter the code from your authenticator app."},
                           widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}))

    def clean_code(self):
        code = "".join(self.cleaned_data["code"].split())
        if not (code.isdigit() and len(code) == 6):
            raise forms.ValidationError("The authenticator code has 6 digits.")
        return code


class CancelInstructionForm(forms.Form):
    reason = forms.CharField(label="Why are you cancelling it?", max_length=200,
                             error_messages={"required": "Say why you are cancelling it."},
                             widget=forms.TextInput(attrs={"autocomplete": "off"}))
