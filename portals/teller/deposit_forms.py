"""Forms for deposit accounts at the counter. Amounts are typed in rupees and
cleaned to paise; each money form carries a one-time token that becomes the
action's idempotency key, so a double-clicked button opens or posts once."""

import datetime

from django import forms
from django.utils import timezone

from banking.deposits.models import MaturityInstruction, ModeOfOperation, Product, ProductKind
from banking.teller.denominations import FIELDS
from portals.forms import AmountField, WholeNumberField
from portals.teller.cash_forms import CountsForm


class TokenField(forms.CharField):
    def __init__(self, **kwargs):
        super().__init__(widget=forms.HiddenInput, max_length=64, **kwargs)


class ProductChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class AccountChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        from banking.core.money import format_money

        return f"{obj.number} · {obj.product.name} · available {format_money(obj.available)}"


class AccountOpenForm(CountsForm):
    """A new account, and the initial deposit's notes and coins counted as at any cash deposit."""

    product = ProductChoiceField(
        queryset=Product.objects.active().of_kind(ProductKind.SAVINGS, ProductKind.ZERO_BALANCE, ProductKind.CURRENT),
        empty_label="Choose a product", to_field_name="code",
    )
    joint_holders = forms.CharField(
        required=False, label="Joint holders (CIF numbers)",
        help_text="Leave empty for a single holder. Separate CIF numbers with commas; each must be KYC-verified.",
    )
    mode_of_operation = forms.ChoiceField(choices=ModeOfOperation.choices, initial=ModeOfOperation.SELF)
    initial_deposit = AmountField(required=False, label="Initial cash deposit (₹)",
                                  help_text="Cash counted into your till below; it is credited when a supervisor "
                                            "approves.")
    overdraft_limit = AmountField(required=False, label="Overdraft limit (₹)",
                                  help_text="Current accounts only; the supervisor approves it with the account.")
    nominee_name = forms.CharField(required=False, max_length=160, label="Nominee's name")
    nominee_relationship = forms.CharField(required=False, max_length=40, label="Relationship")
    nominee_date_of_birth = forms.DateField(required=False, label="Nominee's date of birth",
                                            widget=forms.DateInput(attrs={"type": "date"}))
    nominee_guardian_name = forms.CharField(required=False, max_length=160, label="Guardian of a minor nominee")
    token = TokenField()

    def __init__(self, *args, customer=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.customer = customer
        self.fields["initial_deposit"].widget.attrs["data-cbs-amount"] = ""

    def clean(self):
        cleaned = super().clean()
        amount = cleaned.get("initial_deposit") or 0
        self.check_counts(amount)
        if not amount and any(cleaned.get(name) for name in FIELDS):
            self.add_error("initial_deposit", "Enter the initial deposit the notes and coins add up to.")
        return cleaned

    def clean_joint_holders(self):
        from banking.customers.models import Customer

        cifs = [c.strip() for c in self.cleaned_data["joint_holders"].replace(";", ",").split(",") if c.strip()]
        found = {c.cif: c for c in Customer.objects.filter(cif__in=cifs)}
        missing = [c for c in cifs if c not in found]
        if missing:
            raise forms.ValidationError(f"No customer has the CIF number {', '.join(missing)}.")
        return [found[c] for c in cifs]


class TermDepositForm(forms.Form):
    """A fixed deposit: the source account, principal and term. Shown first as
    figures (action=preview), then confirmed (action=confirm)."""

    source = AccountChoiceField(queryset=None, empty_label="Choose the account to fund it from",
                                label="Fund from")
    principal = AmountField(label="Amount (₹)")
    months = WholeNumberField(min_value=0, max_value=120, initial=12, label="Term: months")
    days = WholeNumberField(min_value=0, max_value=365, initial=0, required=False, label="and days")
    maturity_instruction = forms.ChoiceField(choices=MaturityInstruction.choices, initial=MaturityInstruction.PAY_OUT,
                                             label="At maturity")
    token = TokenField()

    def __init__(self, *args, sources=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = sources


class RecurringDepositForm(forms.Form):
    source = AccountChoiceField(queryset=None, empty_label="Choose the account to debit each month",
                                label="Instalments from")
    instalment = AmountField(label="Monthly instalment (₹)")
    months = WholeNumberField(min_value=1, max_value=240, initial=12, label="Number of months")
    token = TokenField()

    def __init__(self, *args, sources=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = sources


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=300, widget=forms.Textarea(attrs={"rows": 2}),
                             help_text="The checker and the audit trail show it.")


class FreezeForm(ReasonForm):
    freeze = forms.ChoiceField(
        choices=[("debit", "Debit freeze: credits still allowed"), ("total", "Total freeze: no debits or credits")],
        widget=forms.RadioSelect, initial="debit", label="Kind of freeze",
    )
    field_order = ["freeze", "reason"]


class CloseForm(ReasonForm):
    payout_to = AccountChoiceField(queryset=None, required=False, label="Pay the balance out to",
                                   empty_label="Nothing to pay out (the balance is zero)")
    field_order = ["payout_to", "reason"]

    def __init__(self, *args, targets=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["payout_to"].queryset = targets


class HoldForm(forms.Form):
    amount = AmountField(label="Amount (₹)")
    reason = forms.CharField(max_length=200, help_text="A court order, a loan's security, a disputed credit...")
    expires_on = forms.DateField(required=False, label="Expires on", widget=forms.DateInput(attrs={"type": "date"}),
                                 help_text="Leave empty for a hold that stays until released.")

    def clean_expires_on(self):
        day = self.cleaned_data["expires_on"]
        if day and day <= timezone.localdate():
            raise forms.ValidationError("The expiry must be after today.")
        return day

    def expires_at(self):
        day = self.cleaned_data.get("expires_on")
        if not day:
            return None
        # The end of that day in the bank's time zone.
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time(23, 59, 59)))
