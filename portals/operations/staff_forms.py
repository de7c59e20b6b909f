from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms

from banking.core.errors import InvalidAmount
from banking.core.money import Money, format_money
from banking.users.actions import LIMIT_MAX
from banking.users.models import Branch
from banking.users.roles import ROLE_PRECEDENCE, STAFF_ROLES
from portals.forms import TokenForm


class LimitField(forms.CharField):
    """Rupees as a person types them ("10,00,000"); cleans to paise. Zero is a limit too."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        try:
            money = Money.parse(value)
        except InvalidAmount:
            raise forms.ValidationError("Enter an amount in rupees, such as 10,00,000 or 0.") from None
        if money.minor < 0:
            raise forms.ValidationError("A limit cannot be below zero.")
        if money.minor > LIMIT_MAX:
            raise forms.ValidationError(f"A limit can be at most {format_money(LIMIT_MAX)}.")
        return money.minor


class StaffChangeForm(TokenForm):
    roles = forms.MultipleChoiceField(
        label="Roles", widget=forms.CheckboxSelectMultiple,
        choices=[(role.value, role.label) for role in ROLE_PRECEDENCE if role in STAFF_ROLES],
        error_messages={"required": "Choose at least one role."},
        help_text="An administrator cannot also hold a role that approves or moves money.",
    )
    branch = forms.ModelChoiceField(
        label="Branch", queryset=Branch.objects.filter(is_active=True), required=False, empty_label="Head office",
    )
    approval_limit = LimitField(label="Approval limit (₹)", help_text="Up to this amount they may approve queued work.",
                                error_messages={"required": "Enter the approval limit (0 for none)."})
    cash_limit = LimitField(label="Cash limit (₹)", help_text="Cash above this in one transaction needs a supervisor.",
                            error_messages={"required": "Enter the cash limit."})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


class RequestResetForm(TokenForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.add_input(Submit("reset", "Request a password reset", css_class="btn-outline-danger"))
