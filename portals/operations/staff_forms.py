from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms

from banking.users.actions import LIMIT_MAX
from banking.users.models import Branch
from banking.users.roles import ROLE_PRECEDENCE, STAFF_ROLES
from portals.forms import AmountField, TokenForm


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
    approval_limit = AmountField(
        label="Approval limit (₹)", help_text="Up to this amount they may approve queued work.", allow_zero=True,
        max_minor=LIMIT_MAX, error_messages={"required": "Enter the approval limit (0 for none)."})
    cash_limit = AmountField(
        label="Cash limit (₹)", help_text="Cash above this in one transaction needs a supervisor.", allow_zero=True,
        max_minor=LIMIT_MAX, error_messages={"required": "Enter the cash limit."})

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
