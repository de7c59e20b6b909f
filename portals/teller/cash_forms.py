"""Forms at the counter: cash by denomination, deposits, withdrawals, transfers,
the till's counts, reversals and cheque books.

Every money form carries a hidden idempotency token (fresh on each GET, time-ordered),
which the actions use as the posting's key: a double-pressed Enter posts once.
Messages are in the teller's words; the actions check everything again.
"""


from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.urls import reverse_lazy
from django.utils.text import format_lazy

from banking.core.errors import BankingError
from banking.teller.actions import CHEQUE_BOOK_SIZES
from banking.teller.denominations import (
    FIELDS,
    LABELS,
    RUPEES_PER_UNIT,
    SHORT_LABELS,
    Denominations,
    check_adds_up,
    parse_count,
)
from banking.teller.lookup import find_account, look_up
from portals.forms import AmountField, TokenForm, WholeNumberField


class CountField(forms.CharField):
    """A count of notes (or rupees of coins) as typed, read by the till's one rule
    (parse_count): blank is zero, never negative, ASCII digits only."""

    def __init__(self, name, **kwargs):
        self.denomination = name
        attrs = {"inputmode": "numeric", "autocomplete": "off", "placeholder": "0", "data-unit":
                 str(RUPEES_PER_UNIT[name]), "class": "form-control count-input", "aria-describedby": f"{name}-value"}
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", LABELS[name] if name == "coins" else SHORT_LABELS[name])
        super().__init__(widget=forms.TextInput(attrs=attrs), **kwargs)

    def clean(self, value):
        try:
            return parse_count(super().clean(value), self.denomination)
        except BankingError as error:
            raise forms.ValidationError(str(error)) from None


class CountsForm(forms.Form):
    """The seven counts of notes and coins; `counts` is a Denominations once the
    form is valid, and `check_counts` holds them to the amount they pay.

    The counts are declared once, here, rather than made on every form: Django
    copies declared fields for each form, which costs a fraction of making them."""

    n500 = CountField("n500")
    n200 = CountField("n200")
    n100 = CountField("n100")
    n50 = CountField("n50")
    n20 = CountField("n20")
    n10 = CountField("n10")
    coins = CountField("coins")

    @property
    def denomination_fields(self):
        return [self[name] for name in FIELDS]

    @property
    def counts(self):
        return Denominations(**{name: self.cleaned_data.get(name) or 0 for name in FIELDS})

    def check_counts(self, amount):
        """The counts add up to `amount` (paise), unless a count itself was refused."""
        if amount and not any(name in self.errors for name in FIELDS):
            try:
                check_adds_up(self.counts, amount)
            except BankingError as error:
                self.add_error(None, str(error))


class CashForm(CountsForm, TokenForm):
    """Cash at the counter: the counts and the token every money form carries."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean(self):
        cleaned = super().clean()
        if "amount" in self.fields:
            self.check_counts(cleaned.get("amount"))
        return cleaned

    def refuse(self, error, field=None):
        """Show a refusal from an action on the form."""
        self.add_error(field, str(error))


class AccountField(forms.CharField):
    def __init__(self, **kwargs):
        attrs = {"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false",
                 "class": "form-control form-control-lg account-input", "maxlength": "20"}
        attrs.update(kwargs.pop("attrs", {}))
        kwargs.setdefault("error_messages", {"required": "Enter the account number."})
        super().__init__(widget=forms.TextInput(attrs=attrs), **kwargs)


def wire_lookup(form, field, purpose, target, next_field):
    """The account field asks for the look-up card as digits are typed (debounced),
    and Enter on it moves to `next_field` (teller.js)."""
    form.fields[field].widget.attrs.update({
        # Resolved when the field is drawn: a submitted form that posts never is.
        "hx-get": format_lazy("{}?purpose={}", reverse_lazy("teller:account-lookup"), purpose), "hx-target": target,
        "hx-trigger": "input changed delay:250ms", "hx-sync": "this:replace", "data-cbs-next": next_field,
        "aria-controls": target.lstrip("#"),
    })


def _found(form, field, find=lambda text: look_up(text, specimens=False)):
    """Look the account up (its specimens were on the screen already); a refusal
    becomes the field's error."""
    text = form.cleaned_data.get(field)
    if not text:
        return None
    try:
        return find(text)
    except BankingError as error:
        form.add_error(field, str(error))
        return None


class CounterCashForm(CashForm):
    """Cash paid in or out of a customer's account: the account, the amount and the
    notes, which must add up to it (CashForm.clean)."""

    account = AccountField(label="Account number", attrs={"accesskey": "a", "autofocus": ""})
    amount = AmountField(label="Amount (₹)", error_messages={"required": "Enter the amount."},
                         widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off",
                                                       "accesskey": "m", "class": "form-control form-control-lg"}))


class DepositForm(CounterCashForm):
    depositor_name = forms.CharField(label="Deposited by", required=False, max_length=120,
                                     help_text="Leave blank when the holder deposits.",
                                     widget=forms.TextInput(attrs={"autocomplete": "off", "accesskey": "b"}))
    depositor_mobile = forms.CharField(label="Depositor's mobile", required=False, max_length=15,
                                       widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}))
    pan = forms.CharField(label="PAN", required=False, max_length=12,
                          help_text="From ₹50,000, unless the holder deposits and has a PAN on file.",
                          widget=forms.TextInput(attrs={"autocomplete": "off", "class": "form-control text-uppercase",
                                                        "spellcheck": "false"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        wire_lookup(self, "account", "deposit", "#account-lookup", "id_amount")
        self.fields["amount"].widget.attrs.update({"data-cbs-amount": "", "data-cbs-next": "id_n500"})
        self.fields["n500"].widget.attrs["accesskey"] = "n"

    def clean(self):
        cleaned = super().clean()
        # The deposit account alone (find_account): the holders were on the screen.
        self.deposit_account = _found(self, "account", find_account)
        return cleaned


class WithdrawalForm(CounterCashForm):
    cheque_number = forms.CharField(label="Cheque number", required=False, max_length=6,
                                    help_text="Blank for a withdrawal slip.",
                                    widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off",
                                                                  "accesskey": "q"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        wire_lookup(self, "account", "withdrawal", "#account-lookup", "id_amount")
        self.fields["amount"].widget.attrs.update({"data-cbs-amount": "", "data-cbs-next": "id_cheque_number"})
        self.fields["cheque_number"].widget.attrs["data-cbs-next"] = "id_n500"
        self.fields["n500"].widget.attrs["accesskey"] = "n"

    def clean(self):
        cleaned = super().clean()
        self.counter_account = _found(self, "account")
        return cleaned


class TransferForm(TokenForm):
    account = AccountField(label="From account", attrs={"accesskey": "a", "autofocus": ""})
    to_account = AccountField(label="To account", attrs={"accesskey": "t"})
    amount = AmountField(label="Amount (₹)", error_messages={"required": "Enter the amount."},
                         widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off",
                                                       "accesskey": "m", "class": "form-control form-control-lg"}))
    cheque_number = forms.CharField(label="Cheque number", required=False, max_length=6,
                                    help_text="Blank for a transfer slip.",
                                    widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}))
    narration = forms.CharField(label="Narration", required=False, max_length=120,
                                help_text="Shown on both statements; blank for the standard text.",
                                widget=forms.TextInput(attrs={"autocomplete": "off"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        wire_lookup(self, "account", "transfer-from", "#account-lookup", "id_to_account")
        wire_lookup(self, "to_account", "transfer-to", "#to-account-lookup", "id_amount")

    def clean(self):
        cleaned = super().clean()
        self.from_account = _found(self, "account")
        self.beneficiary = _found(self, "to_account")
        return cleaned

    def refuse(self, error, field=None):
        self.add_error(field, str(error))


class TillCountForm(CashForm):
    """Counting the till: at opening, at close, or cash asked of / returned to the vault."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["n500"].widget.attrs["autofocus"] = ""


class ReversalForm(forms.Form):
    reason = forms.CharField(label="Reason for the reversal", max_length=200,
                             error_messages={"required": "Give the reason for the reversal."},
                             widget=forms.TextInput(attrs={"autocomplete": "off"}),
                             help_text="The supervisor and the audit trail will read it.")

    def __init__(self, *args, action=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_action = action
        self.helper.attrs = {"data-cbs-once": ""}
        self.helper.add_input(Submit("reverse", "Ask a supervisor to reverse it", css_class="btn-outline-danger"))


class ChequeAccountForm(forms.Form):
    account = AccountField(label="Account number", attrs={"accesskey": "a", "autofocus": ""})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        wire_lookup(self, "account", "cheques", "#account-lookup", "")

    def clean(self):
        cleaned = super().clean()
        self.counter_account = _found(self, "account")
        return cleaned


class ChequeBookForm(forms.Form):
    leaves = forms.TypedChoiceField(label="Leaves", coerce=int, initial=20,
                                    choices=[(n, f"{n} leaves") for n in CHEQUE_BOOK_SIZES])
    first_number = WholeNumberField(label="First cheque number", required=False, min_value=1, max_value=999_999,
                                    help_text="Blank for the branch's next free number.",
                                    error_messages={"min_value": "Cheque numbers run from 000001 to 999999.",
                                                    "max_value": "Cheque numbers run from 000001 to 999999.",
                                                    "invalid": "Enter the cheque number in digits."})


class StopChequesForm(forms.Form):
    """Drawn on one page with CancelChequeForm, whose `reason` has the same name: each
    form's ids carry its own prefix so each label names its own field."""

    first = forms.CharField(label="From cheque", max_length=6,
                            widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}))
    last = forms.CharField(label="To cheque", max_length=6, required=False, help_text="Blank to stop one cheque.",
                           widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}))
    reason = forms.CharField(label="Reason", max_length=200, widget=forms.TextInput(attrs={"autocomplete": "off"}),
                             error_messages={"required": "Give the customer's reason for stopping payment."})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, auto_id="stop_%s", **kwargs)


class CancelChequeForm(forms.Form):
    number = forms.CharField(label="Cheque", max_length=6,
                             widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}))
    reason = forms.CharField(label="Reason", max_length=200, widget=forms.TextInput(attrs={"autocomplete": "off"}),
                             error_messages={"required": "Give the reason for cancelling the cheque."})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, auto_id="cancel_%s", **kwargs)
