"""The teller's loan forms: the application (with its live eligibility), the KFS
attestation and the disbursement."""

from django import forms

from banking.core.identifiers import new_token
from banking.deposits.models import DepositAccount
from banking.loans.models import LoanProduct
from portals.forms import AmountField, TokenField, WholeNumberField


class _Tokened(forms.Form):
    """A fresh token with each new form: the action it feeds is idempotent by it."""

    token = TokenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("token", new_token())


class LoanApplicationForm(_Tokened):
    product = forms.ModelChoiceField(
        queryset=LoanProduct.objects.active(), label="Loan", empty_label=None,
        error_messages={"required": "Choose the loan.", "invalid_choice": "Choose one of the bank's loans."})
    deposit_account = forms.ModelChoiceField(
        queryset=DepositAccount.objects.none(), label="Pay into and repay from", empty_label=None,
        error_messages={"required": "Choose the customer's account.",
                        "invalid_choice": "Choose one of the customer's active accounts."})
    amount = AmountField(label="Amount (₹)")
    months = WholeNumberField(label="Tenure (months)", min_value=1, max_value=480,
                              error_messages={"required": "Enter the tenure in months."})
    purpose = forms.CharField(label="Purpose", max_length=200,
                              error_messages={"required": "Say what the loan is for."})
    monthly_income = AmountField(label="Net monthly income (₹)", allow_zero=True)
    existing_emis = AmountField(label="Existing EMIs a month (₹)", allow_zero=True, required=False)
    bureau_score = WholeNumberField(label="Bureau score", required=False, min_value=300, max_value=900,
                                    help_text="From the bureau report; leave empty to ask the bureau simulator.")
    gold_grams = forms.DecimalField(label="Gold weight (grams)", required=False, min_value=0, max_digits=9,
                                    decimal_places=3)
    gold_carat = WholeNumberField(label="Gold purity (carat)", required=False, min_value=1, max_value=24)

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["deposit_account"].queryset = (
            DepositAccount.objects.filter(customer=customer, status="active").operative()
            .select_related("product").order_by("number"))
        self.fields["deposit_account"].label_from_instance = lambda a: f"{a.number} · {a.product.name}"
        self.fields["product"].label_from_instance = lambda p: p.name

    def clean(self):
        data = super().clean()
        if data.get("monthly_income") == 0:
            self.add_error("monthly_income", "The net monthly income must be above zero to assess repayment.")
        return data


class AttestationForm(forms.Form):
    explained = forms.BooleanField(
        label="I gave the borrower the Key Facts Statement, explained it, and the borrower accepted it.",
        error_messages={"required": "Confirm that the borrower was given and accepted the KFS."})
    statement = forms.CharField(label="How the borrower acknowledged it", max_length=200,
                                initial="Signed the printed KFS at the counter",
                                error_messages={"required": "Say how the borrower acknowledged the KFS."})


class DisbursementForm(_Tokened):
    amount = AmountField(label="Amount to disburse (₹)")
