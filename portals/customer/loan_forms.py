"""Internet banking's loan forms: the online application for a personal loan (its
eligibility shown live) and accepting the Key Facts Statement with the authenticator
code. The actions (banking.loans.online) check everything again."""

from django import forms

from banking.core.identifiers import new_token
from banking.core.money import format_money
from banking.deposits.models import DepositAccount
from banking.loans.models import PrepaymentChoice
from banking.loans.servicing_models import ResetChoice
from portals.forms import AmountField, TokenField, WholeNumberField

from .payment_forms import AuthenticatorCodeField


class _Tokened(forms.Form):
    """A fresh token with each new form: the action it feeds is idempotent by it."""

    token = TokenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("token", new_token())


class OnlineLoanForm(_Tokened):
    deposit_account = forms.ModelChoiceField(
        queryset=DepositAccount.objects.none(), label="Pay the loan into, and take the EMIs from", empty_label=None,
        error_messages={"required": "Choose your account.", "invalid_choice": "Choose one of your active accounts."})
    amount = AmountField(label="Loan amount (₹)")
    months = WholeNumberField(label="Tenure (months)", min_value=1, max_value=480,
                              error_messages={"required": "Enter the tenure in months."})
    purpose = forms.CharField(label="What is the loan for?", max_length=200,
                              error_messages={"required": "Say what the loan is for."})
    monthly_income = AmountField(label="Your net monthly income (₹)", allow_zero=True,
                                 help_text="What reaches your account each month, after tax.")
    existing_emis = AmountField(label="EMIs you already pay each month (₹)", allow_zero=True, required=False,
                                help_text="Leave empty if none.")

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        accounts = (DepositAccount.objects.filter(customer=customer, status="active").operative()
                    .select_related("product").order_by("number"))
        self.fields["deposit_account"].queryset = accounts
        self.fields["deposit_account"].label_from_instance = lambda a: f"{a.product.name} {a.number}"
        for name in ("amount", "monthly_income", "existing_emis"):
            self.fields[name].widget.attrs.setdefault("inputmode", "decimal")
        self.fields["months"].widget.attrs.setdefault("inputmode", "numeric")

    def clean(self):
        data = super().clean()
        if data.get("monthly_income") == 0:
            self.add_error("monthly_income", "Your net monthly income must be above zero for us to assess "
                                             "repayment.")
        return data


class AcceptKfsForm(_Tokened):
    accept = forms.BooleanField(
        label="I have read the Key Facts Statement and I accept it.",
        error_messages={"required": "Tick the box to say you have read and accept the Key Facts Statement."})
    code = AuthenticatorCodeField()


def _paying_accounts(customer):
    return (DepositAccount.objects.filter(customer=customer, status="active").operative()
            .select_related("product", "ledger_account").order_by("number"))


class _FromAccount(_Tokened):
    account = forms.ModelChoiceField(
        queryset=DepositAccount.objects.none(), label="Pay from", empty_label=None,
        error_messages={"required": "Choose the account to pay from.",
                        "invalid_choice": "Choose one of your active accounts."})

    def __init__(self, *args, customer, loan=None, **kwargs):
        super().__init__(*args, **kwargs)
        accounts = _paying_accounts(customer)
        self.fields["account"].queryset = accounts
        self.fields["account"].label_from_instance = (
            lambda a: f"{a.product.name} {a.number} ({format_money(a.available)} available)")
        if loan is not None and not self.is_bound and accounts.filter(pk=loan.deposit_account_id).exists():
            self.initial.setdefault("account", loan.deposit_account_id)


class RepayForm(_FromAccount):
    amount = AmountField(label="Amount (₹)")
    code = AuthenticatorCodeField()


class PrepayForm(_FromAccount):
    principal = AmountField(label="Principal to prepay (₹)",
                            help_text="Paid ahead of the schedule, on top of anything due today.")
    choice = forms.ChoiceField(label="Afterwards", widget=forms.RadioSelect, choices=PrepaymentChoice.choices,
                               initial=PrepaymentChoice.REDUCE_TENURE,
                               error_messages={"required": "Choose whether to reduce the EMI or the tenure."})


class ConfirmPrepayForm(forms.Form):
    code = AuthenticatorCodeField()


class ResetChoiceForm(forms.Form):
    """The borrower's choice at a floating-rate reset, confirmed with their code."""

    choice = forms.ChoiceField(choices=ResetChoice.choices, widget=forms.RadioSelect,
                               error_messages={"required": "Choose a higher EMI, a longer tenure, or a prepayment.",
                                               "invalid_choice": "Choose a higher EMI, a longer tenure, or a "
                                                                 "prepayment."})
    code = AuthenticatorCodeField()
