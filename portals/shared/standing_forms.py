"""The standing instruction form, used by the customer in internet banking and by a
teller at the counter for the customer in front of them. Its choices start from
the customer's own accounts and payees; `create_standing_instruction` checks
everything again."""

from crispy_forms.helper import FormHelper
from django import forms

from banking.core.identifiers import new_token
from banking.deposits.models import DepositAccount, DepositStatus
from banking.payments.models import Frequency, Payee, PayeeKind, Rail
from portals.forms import AmountField

EXTERNAL_RAIL_CHOICES = [(Rail.NEFT, "NEFT"), (Rail.IMPS, "IMPS"), (Rail.RTGS, "RTGS (₹2,00,000 or more)")]


class StandingInstructionForm(forms.Form):
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=80)
    debit_account = forms.ModelChoiceField(label="Pay from", queryset=DepositAccount.objects.none(),
                                           empty_label=None,
                                           error_messages={"invalid_choice": "Choose one of your accounts."})
    destination = forms.ChoiceField(label="Pay to", error_messages={
        "required": "Choose where the money goes.", "invalid_choice": "Choose one of your accounts or payees."})
    rail = forms.ChoiceField(label="For a payee at another bank, send by", choices=EXTERNAL_RAIL_CHOICES,
                             initial=Rail.NEFT, required=False, widget=forms.RadioSelect)
    amount = AmountField(label="Amount (₹)", error_messages={"required": "Enter the amount."})
    frequency = forms.ChoiceField(label="How often", choices=Frequency.choices, initial=Frequency.MONTHLY)
    start_on = forms.DateField(label="First payment on", widget=forms.DateInput(attrs={"type": "date"}),
                               error_messages={"required": "Enter the date of the first payment.",
                                               "invalid": "Enter the date of the first payment as DD-MM-YYYY."})
    end_on = forms.DateField(label="Last payment on or before", required=False,
                             help_text="Leave blank to pay until you cancel.",
                             widget=forms.DateInput(attrs={"type": "date"}),
                             error_messages={"invalid": "Enter the last date as DD-MM-YYYY."})
    narration = forms.CharField(label="Remarks", required=False, max_length=140)

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", new_token())
        accounts = list(DepositAccount.objects.for_customer(customer).filter(status=DepositStatus.ACTIVE)
                        .operative().select_related("product").order_by("number"))
        self.fields["debit_account"].queryset = DepositAccount.objects.filter(pk__in=[a.pk for a in accounts])
        self.fields["debit_account"].label_from_instance = lambda a: f"{a.product.name} {a.number}"
        payees = list(Payee.objects.for_customer(customer).active())
        self.accounts, self.payees = {str(a.pk): a for a in accounts}, {str(p.pk): p for p in payees}
        own = [(f"account-{a.pk}", f"{a.product.name} {a.number}") for a in accounts]
        others = [(f"payee-{p.pk}", f"{p.label} ({p.destination})") for p in payees]
        self.fields["destination"].choices = [("", "Choose…"), ("My accounts", own), ("My payees", others)]
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean(self):
        cleaned = super().clean()
        kind, _, pk = (cleaned.get("destination") or "").partition("-")
        cleaned["payee"] = self.payees.get(pk) if kind == "payee" else None
        cleaned["credit_account"] = self.accounts.get(pk) if kind == "account" else None
        payee = cleaned["payee"]
        if payee is None or payee.kind == PayeeKind.INTERNAL:
            cleaned["rail"] = Rail.INTERNAL
        elif payee.kind == PayeeKind.VPA:
            cleaned["rail"] = Rail.UPI
        elif not cleaned.get("rail"):
            cleaned["rail"] = Rail.NEFT
        return cleaned

    def instruction_arguments(self):
        data = self.cleaned_data
        return {"debit_account": data["debit_account"], "payee": data["payee"],
                "credit_account": data["credit_account"], "rail": data["rail"], "amount": data["amount"],
                "frequency": data["frequency"], "start_on": data["start_on"], "end_on": data["end_on"],
                "narration": data["narration"], "idempotency_key": f"si-form-{data['idempotency_key']}"}

