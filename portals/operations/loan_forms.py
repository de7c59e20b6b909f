"""Operations' loan forms: the benchmark (repo) rate, the day's gold rate, and new
terms for a loan product. The actions (banking.loans.actions) check everything again."""

import datetime
import itertools
from decimal import Decimal

from django import forms

from banking.core.identifiers import new_token
from banking.core.money import format_money
from banking.loans.actions import PRODUCT_TERMS
from banking.loans.models import Benchmark, LoanProductVersion
from portals.forms import AmountField, TokenField

DATE = {"type": "date"}
ORDERS = [",".join(order) for order in itertools.permutations(("charges", "interest", "principal"))]


class BenchmarkRateForm(forms.Form):
    benchmark = forms.ChoiceField(label="Benchmark", choices=Benchmark.choices)
    effective_from = forms.DateField(label="Takes effect on", widget=forms.DateInput(attrs=DATE),
                                     error_messages={"required": "Give the date the rate takes effect.",
                                                     "invalid": "Enter the date as a calendar date."})
    rate = forms.DecimalField(label="Rate (% a year)", min_value=0, max_value=Decimal("99.99"),
                              max_digits=5, decimal_places=2,
                              error_messages={"required": "Enter the rate.", "invalid": "Enter the rate as a number, "
                                                                                        "like 6.50."})


class GoldRateForm(forms.Form):
    on = forms.DateField(label="For the day", widget=forms.DateInput(attrs=DATE),
                         error_messages={"required": "Give the day.", "invalid": "Enter the date as a calendar date."})
    rate_per_gram = AmountField(label="Rate per gram of 24-carat gold (₹)")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Two forms share the page: their ids must differ.
        self.fields["on"].widget.attrs["id"] = "id_gold_on"


class ProductTermsForm(forms.ModelForm):
    """Every term of a product, as a new version from a later date."""

    token = TokenField()
    effective_from = forms.DateField(label="Takes effect on", widget=forms.DateInput(attrs=DATE),
                                     error_messages={"required": "Give the date the new terms take effect.",
                                                     "invalid": "Enter the date as a calendar date."})
    min_amount = AmountField(label="Smallest loan (₹)")
    max_amount = AmountField(label="Largest loan (₹)")
    processing_fee_cap = AmountField(label="Processing fee cap (₹)", allow_zero=True)
    allocation_order = forms.ChoiceField(label="Repayments pay",
                                         choices=[(order, order.replace(",", ", then ")) for order in ORDERS])

    class Meta:
        model = LoanProductVersion
        fields = ["effective_from", *PRODUCT_TERMS]
        labels = {
            "min_months": "Shortest tenure (months)", "max_months": "Longest tenure (months)",
            "rate": "Rate, or the spread over the benchmark (% a year)", "reset_months": "Reset every (months)",
            "processing_fee_percent": "Processing fee (%)", "gst_percent": "GST on the fee (%)",
            "penal_charge_percent": "Penal charge (% a year on overdue amounts)",
            "prepayment_charge_percent": "Prepayment charge (%)", "schedule_type": "Schedule",
            "max_foir_percent": "Maximum FOIR (%)", "min_bureau_score": "Minimum bureau score",
            "max_ltv_percent": "Maximum LTV (%), gold loans", "benchmark": "Benchmark (floating rate)",
        }

    def __init__(self, *args, current=None, tomorrow=None, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["token"] = new_token()
            if tomorrow:
                self.initial["effective_from"] = tomorrow
            if current is not None:
                for name in PRODUCT_TERMS:
                    value = getattr(current, name)
                    if name in ("min_amount", "max_amount", "processing_fee_cap"):
                        value = format_money(value, symbol=False)
                    self.initial[name] = value

    def clean(self):
        """The product's constraints, said in words before the database says them in its own."""
        data = super().clean()
        pairs = (("min_amount", "max_amount", "The smallest loan cannot be above the largest."),
                 ("min_months", "max_months", "The shortest tenure cannot be longer than the longest."))
        for low, high, words in pairs:
            if data.get(low) is not None and data.get(high) is not None and data[low] > data[high]:
                self.add_error(high, words)
        for name in ("rate", "processing_fee_percent", "gst_percent", "penal_charge_percent",
                     "prepayment_charge_percent", "max_foir_percent", "max_ltv_percent"):
            if data.get(name) is not None and data[name] < 0:
                self.add_error(name, "A rate or percent cannot be below zero.")
        if data.get("max_foir_percent") is not None and not 0 < data["max_foir_percent"] <= 100:
            self.add_error("max_foir_percent", "The maximum FOIR is a percent above 0, at most 100.")
        if data.get("max_ltv_percent") is not None and not 0 < data["max_ltv_percent"] <= 100:
            self.add_error("max_ltv_percent", "The maximum LTV is a percent above 0, at most 100; leave it empty "
                                              "for a loan without collateral.")
        if data.get("rate_type") == "floating":
            if not data.get("benchmark"):
                self.add_error("benchmark", "A floating rate needs its benchmark.")
            if not data.get("reset_months"):
                self.add_error("reset_months", "A floating rate resets every so many months: give how many.")
            if data.get("prepayment_charge_percent"):
                self.add_error("prepayment_charge_percent", "RBI: no prepayment or foreclosure charge on a "
                                                            "floating-rate loan to an individual; make it 0.")
        return data

    def _post_clean(self):
        # Checked in clean() in words; the action runs the model's own checks again.
        if not self.errors:
            super()._post_clean()

    def terms(self):
        return {name: self.cleaned_data.get(name) for name in PRODUCT_TERMS}


class ReasonForm(forms.Form):
    reason = forms.CharField(label="Reason", max_length=200,
                             error_messages={"required": "Give the reason for rejecting the request."})


def tomorrow_of(day):
    return day + datetime.timedelta(days=1)
