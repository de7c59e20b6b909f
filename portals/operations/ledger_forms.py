from django import forms
from django.forms import formset_factory

from banking.core.errors import InvalidAmount
from banking.core.money import Money
from banking.ledger.models import LedgerAccount, Side
from portals.forms import AmountField, TokenForm, sent_form_count


class AccountChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.code} · {obj.name}"


class JournalHeaderForm(TokenForm):
    narration = forms.CharField(max_length=200, help_text="What the entry is for, as it will read in the ledger.")


class JournalLineForm(forms.Form):
    account = AccountChoiceField(
        queryset=LedgerAccount.objects.general().detail().open().order_by("code"), empty_label="Choose an account"
    )
    side = forms.ChoiceField(choices=[(Side.DEBIT, "Debit"), (Side.CREDIT, "Credit")])
    amount = AmountField(label="Amount (₹)")


MAX_LINES = 40
TOO_MANY_LINES = f"A journal has at most {MAX_LINES} lines."


class BaseJournalLineFormSet(forms.BaseFormSet):
    default_error_messages = {
        "too_many_forms": TOO_MANY_LINES,
        "missing_management_form": "The journal's lines could not be read; reload the page and enter it again.",
    }

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


# absolute_max: a bound formset never builds more lines than a journal may have,
# whatever count the request claims.
JournalLineFormSet = formset_factory(JournalLineForm, formset=BaseJournalLineFormSet, extra=0, min_num=2,
                                     max_num=MAX_LINES, absolute_max=MAX_LINES, validate_max=True)


class ReverseEntryForm(TokenForm):
    reason = forms.CharField(max_length=160, widget=forms.TextInput(attrs={"autocomplete": "off"}),
                             error_messages={"required": "Give the reason for the reversal."},
                             help_text="Why the entry is being reversed; the checker and the ledger will show it.")


def line_count(data, prefix="lines"):
    """How many lines the form says it has; ValidationError when over MAX_LINES or unreadable."""
    return sent_form_count(data, JournalLineFormSet, prefix)


def running_totals(data, prefix="lines"):
    """Debits and credits of what has been typed so far, tolerating blanks and typos."""
    debits = credits = 0
    try:
        count = line_count(data, prefix)
    except forms.ValidationError:
        count = 0
    for i in range(count):
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
    """The same data with one more (blank) line; ValidationError at MAX_LINES."""
    count = line_count(data, prefix)
    if count >= MAX_LINES:
        raise forms.ValidationError(TOO_MANY_LINES, code="too_many_forms")
    data = data.copy()
    data[f"{prefix}-TOTAL_FORMS"] = str(count + 1)
    return data


def with_line_removed(data, index, prefix="lines"):
    """The same data with line `index` taken out and the rest renumbered."""
    count = line_count(data, prefix)
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
