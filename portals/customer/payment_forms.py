"""Internet banking forms: payees, a payment (form, review, confirmation), UPI IDs
and answers to UPI collect requests.

Each form checks what it can in the customer's words (an IFSC against the
directory, a UPI ID's shape, an amount's decimals); the actions check everything
again. Money forms carry a hidden idempotency token made when the form is first
shown, so a double-pressed button or a resubmitted page sends once.
"""

from crispy_forms.helper import FormHelper
from django import forms
from django.urls import reverse

from banking.core.errors import BankingError
from banking.core.identifiers import new_token
from banking.core.money import format_money
from banking.payments.actions import check_vpa
from banking.payments.directory import find_branch
from banking.payments.models import PayeeKind, Rail
from portals.forms import AmountField

EXTERNAL_RAIL_CHOICES = [
    (Rail.NEFT, "NEFT: any amount, settles in the next half-hourly batch"),
    (Rail.RTGS, "RTGS: from ₹2,00,000, settles at once"),
    (Rail.IMPS, "IMPS: up to ₹5,00,000, instant"),
]


class CodeInput(forms.TextInput):
    """A one-time code is never echoed back: a refused form asks for a fresh one."""

    def format_value(self, value):
        return None


class AuthenticatorCodeField(forms.CharField):
    """The six digits from the customer's authenticator app (re-authentication)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Authenticator code")
        kwargs.setdefault("help_text", "The 6-digit code your authenticator app shows now.")
        kwargs.setdefault("error_messages", {"required": "Enter the code from your authenticator app."})
        super().__init__(max_length=6, min_length=6, widget=CodeInput(attrs={
            "inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9]{6}",
            "class": "form-control form-control-lg font-monospace", "spellcheck": "false"}), **kwargs)

    def clean(self, value):
        value = "".join(str(value or "").split())
        value = super().clean(value)
        if not value.isdigit():
            raise forms.ValidationError("The authenticator code has 6 digits.")
        return value


class _Form(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True

    def refuse(self, error, field=None):
        self.add_error(field, str(error))


class PayeeForm(_Form):
    kind = forms.ChoiceField(label="Where the payee's money goes", choices=PayeeKind.choices,
                             widget=forms.RadioSelect,
                             error_messages={"required": "Choose what kind of payee this is."})
    name = forms.CharField(label="Beneficiary's name", max_length=140, required=False,
                           help_text="As on their bank account. For an account or UPI ID at this bank you may leave "
                                     "it blank.")
    account_number = forms.CharField(label="Account number", max_length=20, required=False,
                                     help_text="For an account in this bank or at another bank.",
                                     widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off",
                                                                   "spellcheck": "false"}))
    ifsc = forms.CharField(label="IFSC", max_length=11, required=False,
                           help_text="11 characters, on the payee's cheque leaf or passbook. Only for another bank.",
                           widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false",
                                                         "class": "form-control text-uppercase"}))
    vpa = forms.CharField(label="UPI ID", max_length=80, required=False, help_text="Only for a UPI ID payee.",
                          widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false",
                                                        "inputmode": "email", "placeholder": "name@bank"}))
    nickname = forms.CharField(label="Nickname (optional)", max_length=40, required=False)
    code = AuthenticatorCodeField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The bank and branch appear under the IFSC as it is typed.
        self.fields["ifsc"].widget.attrs.update({
            "hx-get": reverse("customer:ifsc-lookup"), "hx-trigger": "input changed delay:300ms",
            "hx-target": "#ifsc-branch", "hx-swap": "outerHTML", "hx-sync": "this:replace",
            "aria-controls": "ifsc-branch"})

    @property
    def chosen_kind(self):
        """The kind chosen so far: the form shows only the fields it needs (all of
        them until one is chosen, so the form works without JavaScript)."""
        return str((self.data.get("kind") if self.is_bound else self.initial.get("kind")) or "")

    @property
    def shows_account(self):
        return self.chosen_kind in ("", PayeeKind.INTERNAL, PayeeKind.EXTERNAL)

    @property
    def shows_ifsc(self):
        return self.chosen_kind in ("", PayeeKind.EXTERNAL)

    @property
    def shows_vpa(self):
        return self.chosen_kind in ("", PayeeKind.VPA)

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        if kind in (PayeeKind.INTERNAL, PayeeKind.EXTERNAL) and not cleaned.get("account_number", "").strip():
            self.add_error("account_number", "Enter the beneficiary's account number.")
        if kind == PayeeKind.EXTERNAL:
            if not cleaned.get("name", "").strip():
                self.add_error("name", "Enter the beneficiary's name as it appears on their account.")
            try:
                self.branch = find_branch(cleaned.get("ifsc", ""))
            except BankingError as error:
                self.add_error("ifsc", str(error))
        if kind == PayeeKind.VPA:
            try:
                cleaned["vpa"] = check_vpa(cleaned.get("vpa", ""))
            except BankingError as error:
                self.add_error("vpa", str(error))
        return cleaned


class PaymentForm(_Form):
    """From, to, amount, rail and remarks. `to` reads "own:<account id>",
    "payee:<payee id>" or "vpa" (a UPI ID typed in `vpa`)."""

    debit_account = forms.ChoiceField(label="From", error_messages={
        "required": "Choose the account to pay from.", "invalid_choice": "Choose one of your accounts to pay from."})
    to = forms.ChoiceField(label="To", error_messages={"required": "Choose whom to pay.",
                                                       "invalid_choice": "Choose one of your accounts or payees."})
    vpa = forms.CharField(label="UPI ID to pay", max_length=80, required=False,
                          help_text="Only when you pay a UPI ID that is not one of your payees.",
                          widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false",
                                                        "inputmode": "email", "placeholder": "name@bank"}))
    amount = AmountField(label="Amount (₹)", error_messages={"required": "Enter the amount."},
                         widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off",
                                                       "placeholder": "0.00", "class": "form-control form-control-lg"}))
    rail = forms.ChoiceField(label="Send by", choices=EXTERNAL_RAIL_CHOICES, required=False, widget=forms.RadioSelect,
                             help_text="Only for a payee at another bank.")
    narration = forms.CharField(label="Remarks (optional)", max_length=140, required=False,
                                help_text="Shown on your statement and the payee's.")
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, accounts, payees, **kwargs):
        super().__init__(*args, **kwargs)
        self.accounts = {str(a.pk): a for a in accounts}
        self.payees = {str(p.pk): p for p in payees}
        self.fields["debit_account"].choices = [("", "Choose an account")] + [
            (str(a.pk), f"{a.product.name} {a.number} · {_available(a)} available") for a in accounts]
        self.fields["to"].choices = [
            ("", "Choose whom to pay"),
            ("My accounts", [(f"own:{a.pk}", f"{a.product.name} {a.number}") for a in accounts]),
            ("My payees", [(f"payee:{p.pk}", f"{p.label} · {p.destination}") for p in payees]),
            ("Someone else", [("vpa", "A UPI ID I type in")]),
        ]
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", new_token())

    @property
    def chosen(self):
        """What `to` reads now (bound or initial), for showing only the fields that apply."""
        value = self.data.get("to") if self.is_bound else self.initial.get("to", "")
        return str(value or "")

    @property
    def chosen_payee(self):
        value = self.chosen
        return self.payees.get(value.split(":", 1)[1]) if value.startswith("payee:") else None

    @property
    def shows_rail(self):
        payee = self.chosen_payee
        return not self.chosen or (payee is not None and payee.kind == PayeeKind.EXTERNAL)

    @property
    def shows_vpa(self):
        return self.chosen in ("", "vpa")

    def clean(self):
        cleaned = super().clean()
        self.debit = self.accounts.get(cleaned.get("debit_account") or "")
        if cleaned.get("debit_account") and self.debit is None:
            self.add_error("debit_account", "Choose one of your accounts to pay from.")
        to = cleaned.get("to") or ""
        self.credit_account = self.payee = None
        if to.startswith("own:"):
            self.credit_account = self.accounts.get(to[4:])
            if self.debit is not None and self.credit_account == self.debit:
                self.add_error("to", "Choose a different account: money cannot go to the account it comes from.")
            self.rail = Rail.INTERNAL
        elif to.startswith("payee:"):
            self.payee = self.payees.get(to[6:])
            if self.payee is None:
                self.add_error("to", "Choose one of your payees.")
            elif self.payee.kind == PayeeKind.EXTERNAL:
                self.rail = cleaned.get("rail") or ""
                if not self.rail:
                    self.add_error("rail", "Choose NEFT, RTGS or IMPS for a payee at another bank.")
            else:
                self.rail = Rail.UPI if self.payee.kind == PayeeKind.VPA else Rail.INTERNAL
        elif to == "vpa":
            self.rail = Rail.UPI
            try:
                cleaned["vpa"] = check_vpa(cleaned.get("vpa", ""))
            except BankingError as error:
                self.add_error("vpa", str(error))
        return cleaned

    def payment_arguments(self):
        """Keyword arguments for make_payment (after is_valid)."""
        return {"debit_account": self.debit, "amount": self.cleaned_data["amount"], "rail": self.rail,
                "payee": self.payee, "credit_account": self.credit_account,
                "vpa": self.cleaned_data["vpa"] if self.cleaned_data["to"] == "vpa" else "",
                "narration": self.cleaned_data["narration"]}


def _available(account):
    return format_money(account.available)


class ConfirmForm(_Form):
    """The review step's answer: the authenticator code, above the threshold."""

    code = AuthenticatorCodeField()

    def __init__(self, *args, needs_code, **kwargs):
        super().__init__(*args, **kwargs)
        if not needs_code:
            del self.fields["code"]


class VpaForm(_Form):
    name = forms.CharField(label="Your UPI ID", max_length=50,
                           help_text="Letters, digits, dots, hyphens or underscores; @cbsb is added for you.",
                           error_messages={"required": "Choose a name for your UPI ID."},
                           widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false",
                                                         "autocapitalize": "none"}))
    account = forms.ChoiceField(label="Linked account", help_text="Money paid to this UPI ID lands here, and "
                                "payments from it are debited here.",
                                error_messages={"required": "Choose the account to link."})

    def __init__(self, *args, accounts, **kwargs):
        super().__init__(*args, **kwargs)
        self.accounts = {str(a.pk): a for a in accounts}
        self.fields["account"].choices = [(str(a.pk), f"{a.product.name} {a.number}") for a in accounts]

    def clean_account(self):
        account = self.accounts.get(self.cleaned_data["account"])
        if account is None:
            raise forms.ValidationError("Choose one of your accounts.")
        return account


class CollectApprovalForm(_Form):
    code = AuthenticatorCodeField()
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", new_token())
