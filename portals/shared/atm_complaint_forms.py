"""Failed-dispense complaint forms, shared by internet banking, the counter and operations."""

from django import forms

from banking.core.money import format_money
from portals.forms import AmountField


def withdrawal_label(message):
    return (f"{message.local_date:%d %b %Y} · {format_money(message.amount)} · {message.terminal.terminal_id} "
            f"{message.terminal.location} · card {message.masked_card}")


class WithdrawalChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return withdrawal_label(obj)


class RaiseComplaintForm(forms.Form):
    withdrawal = WithdrawalChoiceField(
        queryset=None, label="Which ATM withdrawal gave no cash?", widget=forms.RadioSelect,
        empty_label=None, error_messages={"required": "Choose the withdrawal that gave no cash.",
                                          "invalid_choice": "Choose one of the withdrawals listed."})
    details = forms.CharField(label="What happened (optional)", required=False, max_length=500,
                              widget=forms.Textarea(attrs={"rows": 3}),
                              help_text="For example: the machine showed an error and no notes came out.")

    def __init__(self, *args, withdrawals, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["withdrawal"].queryset = withdrawals


class ResolveComplaintForm(forms.Form):
    dispensed = AmountField(allow_zero=True, label="Amount the ATM dispensed (₹)",
                            help_text="As the terminal's electronic journal shows it: 0 if no notes came out.",
                            error_messages={"required": "Enter what the ATM dispensed (0 if nothing)."})
    finding = forms.CharField(label="What the electronic journal shows", max_length=500,
                              widget=forms.Textarea(attrs={"rows": 3}),
                              error_messages={"required": "Say what the electronic journal shows."})
