"""The NEFT / RTGS remittance form at the counter: remitter, beneficiary, rail,
amount, and the money either from an account or in cash by denomination.

The form checks shapes and what the teller typed; `send_remittance` checks the
rules again (rail limits, the IFSC directory, PAN, the till)."""

from django import forms
from django.urls import reverse_lazy

from banking.core.errors import BankingError
from banking.payments.actions import check_rail
from banking.payments.models import Rail
from banking.teller.denominations import FIELDS, check_adds_up
from portals.forms import AmountField

from .cash_forms import AccountField, CashForm, _found, wire_lookup

SOURCES = [("account", "From the customer's account"), ("cash", "Cash at the counter")]


def _text(label, *, required=True, max_length=140, **attrs):
    attrs = {"autocomplete": "off", **attrs}
    return forms.CharField(label=label, required=required, max_length=max_length,
                           widget=forms.TextInput(attrs=attrs),
                           error_messages={"required": f"Enter the {label[0].lower() + label[1:]}."})


class RemittanceForm(CashForm):
    rail = forms.ChoiceField(label="Send by", choices=[(Rail.NEFT, "NEFT"), (Rail.RTGS, "RTGS (₹2,00,000 or more)")],
                             initial=Rail.NEFT, widget=forms.RadioSelect)
    amount = AmountField(label="Amount (₹)", error_messages={"required": "Enter the amount."},
                         widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off",
                                                       "class": "form-control form-control-lg", "data-cbs-amount": ""}))
    beneficiary_name = _text("Beneficiary's name")
    beneficiary_account = _text("Beneficiary's account number", max_length=20, inputmode="numeric",
                                spellcheck="false")
    beneficiary_ifsc = _text("Beneficiary's IFSC", max_length=11, spellcheck="false",
                             **{"class": "form-control text-uppercase"})
    remitter_name = _text("Remitter's name", required=False)
    remitter_mobile = _text("Remitter's mobile", required=False, max_length=15, inputmode="tel")
    remitter_address = forms.CharField(label="Remitter's address", required=False, max_length=200,
                                       widget=forms.Textarea(attrs={"rows": 2}))
    source = forms.ChoiceField(label="Money from", choices=SOURCES, initial="cash", widget=forms.RadioSelect)
    account = AccountField(label="Customer's account number", required=False)
    pan = forms.CharField(label="Remitter's PAN", required=False, max_length=12,
                          help_text="For cash of ₹50,000 or more.",
                          widget=forms.TextInput(attrs={"autocomplete": "off", "class": "form-control text-uppercase",
                                                        "spellcheck": "false"}))
    narration = forms.CharField(label="Remarks for the beneficiary", required=False, max_length=140)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        wire_lookup(self, "account", "transfer-from", "#account-lookup", "id_n500")
        self.fields["beneficiary_ifsc"].widget.attrs.update({
            "hx-get": reverse_lazy("teller:remittance-ifsc"), "hx-target": "#ifsc-lookup", "hx-swap": "outerHTML",
            "hx-trigger": "input changed delay:250ms", "hx-sync": "this:replace", "aria-controls": "ifsc-lookup",
        })
        self.fields["beneficiary_name"].widget.attrs["autofocus"] = ""

    @property
    def is_cash(self):
        value = self.data.get("source") if self.is_bound else self.initial.get("source", "cash")
        return value != "account"

    def clean(self):
        # CashForm.clean would ask for notes on a remittance from an account: check them here instead.
        cleaned = forms.Form.clean(self)
        self.debit_account = None
        if cleaned.get("source") == "account":
            if not cleaned.get("account"):
                self.add_error("account", "Enter the customer's account number, or take the money in cash.")
            else:
                found = _found(self, "account")
                self.debit_account = found.account if found else None
        elif cleaned.get("source") == "cash" and cleaned.get("amount") and not any(n in self.errors for n in FIELDS):
            try:
                # The rail's rule first: "RTGS is for ₹2,00,000 or more" says more than a count that is short.
                check_rail(cleaned.get("rail"), cleaned["amount"])
                check_adds_up(self.counts, cleaned["amount"])
            except BankingError as error:
                self.add_error(None, str(error))
        return cleaned

    def remittance_arguments(self):
        data = self.cleaned_data
        cash = data["source"] == "cash"
        return {
            "rail": data["rail"], "amount": data["amount"], "idempotency_key": data["idempotency_key"],
            "beneficiary_name": data["beneficiary_name"], "beneficiary_account": data["beneficiary_account"],
            "beneficiary_ifsc": data["beneficiary_ifsc"], "remitter_name": data["remitter_name"],
            "remitter_mobile": data["remitter_mobile"], "remitter_address": data["remitter_address"],
            "debit_account": None if cash else self.debit_account, "counts": self.counts if cash else None,
            "pan": data["pan"], "narration": data["narration"],
        }
