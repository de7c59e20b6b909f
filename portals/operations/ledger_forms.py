from django import forms
from django.forms import formset_factory

from banking.core.errors import InvalidAmount
from banking.core.money import Money
from banking.ledger.models import LedgerAccount, Side
from portals.forms import TokenForm


class AccountChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.code} · {obj.name}"


class AmountField(forms.CharField):
    """Rupees as a person types them ("1,500.50"); cleans to paise."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off",
                                                           "placeholder": "0.00"}))
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        if value in self.empty_values:
            return None
        try:
            money = Money.parse(value)
        except InvalidAmount as error:
            raise forms.ValidationError(str(error)) from None
        if money.minor <= 0:
            raise forms.ValidationError("Enter an amount above zero.")
        return money.minor


class JournalHeaderForm(TokenForm):
    narration = forms.CharField(max_length=200, help_text="What the entry is for, as it will read in the ledger.")


class JournalLineForm(forms.Form):
    account = AccountChoiceField(
        queryset=LedgerAccount.objects.general().detail().open().order_by("code"), empty_label="Choose an account"
    )
    side = forms.ChoiceField(choices=[(Side.DEBIT, "Debit"), (Side.CREDIT, "Credit")])
    amount = AmountField(label="Amount (₹)")


class BaseJournalLineFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        lines = [form.cleaned_data for form in self.forms if form.cleaned_data]
        if len(lines) < 2:
            raise forms.ValidationError("A journal needs at least one debit line and one credit line.")
        debits = sum(line["amount"] for line in lines if line["side"] == Side.DEBIT)
        credits = sum(line["amount"] for line in lines if line["side"] == Side.CREDIT)
        if debits != credits:
            raise forms.ValidationError(
                f"The journal does not balance: debits {Money(debits)} and credits {Money(credits)} "
                f"differ by {Money(abs(debits - credits))}."
            )


JournalLineFormSet = formset_factory(JournalLineForm, formset=BaseJournalLineFormSet, extra=0, min_num=2,
                                     max_num=40, validate_max=True)


class ReverseEntryForm(TokenForm):
    reason = forms.CharField(max_length=160, widget=forms.TextInput(attrs={"autocomplete": "off"}),
                             error_messages={"required": "Give the reason for the reversal."},
                             help_text="Why the entry is being reversed; the checker and the ledger will show it.")


def running_totals(data, prefix="lines"):
    """Debits and credits of what has been typed so far, tolerating blanks and typos."""
    debits = credits = 0
    try:
        count = int(data.get(f"{prefix}-TOTAL_FORMS", 0))
    except ValueError:
        count = 0
    for i in range(min(count, 40)):
        try:
            amount = Money.parse(data.get(f"{prefix}-{i}-amount", "")).minor
        except (InvalidAmount, TypeError):
            continue
        if amount <= 0:
            continue
        if data.get(f"{prefix}-{i}-side") == Side.DEBIT:
            debits += amount
        elif data.get(f"{prefix}-{i}-side") == Side.CREDIT:
            credits += amount
    return {"debits": debits, "credits": credits, "difference": debits - credits}


def with_line_added(data, prefix="lines"):
    data = data.copy()
    count = int(data.get(f"{prefix}-TOTAL_FORMS", 0) or 0)
    if count < 40:
        data[f"{prefix}-TOTAL_FORMS"] = str(count + 1)
    return data


def with_line_removed(data, index, prefix="lines"):
    """The same data with line `index` taken out and the rest renumbered."""
    count = int(data.get(f"{prefix}-TOTAL_FORMS", 0) or 0)
    kept = [i for i in range(count) if i != index]
    if len(kept) < 2:
        return data
    new = data.copy()
    for field in ("account", "side", "amount"):
        for i in range(count):
            new.pop(f"{prefix}-{i}-{field}", None)
    for new_index, old_index in enumerate(kept):
        for field in ("account", "side", "amount"):
            new[f"{prefix}-{new_index}-{field}"] = data.get(f"{prefix}-{old_index}-{field}", "")
    new[f"{prefix}-TOTAL_FORMS"] = str(len(kept))
    return new
