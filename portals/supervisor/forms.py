from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms

from banking.approvals.actions import REASON_MAX


class RejectButton(Submit):
    # Submit's own classes would make it a primary (blue) button.
    field_classes = "btn btn-outline-danger w-100"


class RejectForm(forms.Form):
    reason = forms.CharField(
        label="Reason for rejecting",
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The maker reads this, so say what they need to put right.",
        error_messages={"required": "Give a reason for the rejection; the maker will read it."},
    )

    def __init__(self, *args, action=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_method = "post"
        self.helper.form_action = action
        self.helper.form_id = "reject-form"
        self.helper.attrs = {"data-cbs-once": ""}
        self.helper.add_input(RejectButton("reject", "Reject"))
