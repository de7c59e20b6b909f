import django_filters
from django import forms

from banking.core.errors import InvalidAmount
from banking.core.money import Money
from banking.ledger.models import EntryKind, Posting


class RupeeField(forms.CharField):
    """Rupees as a person types them ("1,500.50"), cleaned to paise; anything else
    is a message on the field."""

    def clean(self, value):
        value = super().clean(value)
        if value in self.empty_values:
            return None
        try:
            return Money.parse(value).minor
        except InvalidAmount as error:
            raise forms.ValidationError(str(error)) from None


class RupeeFilter(django_filters.CharFilter):
    """Rupees typed by a person, compared in paise. Bad input filters nothing out
    and shows a message on the field."""

    field_class = RupeeField


class PostingFilter(django_filters.FilterSet):
    date_from = django_filters.DateFilter(field_name="business_date", lookup_expr="gte", label="From",
                                          widget=forms.DateInput(attrs={"type": "date"}))
    date_to = django_filters.DateFilter(field_name="business_date", lookup_expr="lte", label="To",
                                        widget=forms.DateInput(attrs={"type": "date"}))
    kind = django_filters.ChoiceFilter(field_name="entry__kind", choices=EntryKind.choices, label="Kind",
                                       empty_label="Any kind")
    amount_min = RupeeFilter(field_name="amount", lookup_expr="gte", label="Amount from (₹)")
    amount_max = RupeeFilter(field_name="amount", lookup_expr="lte", label="Amount to (₹)")

    class Meta:
        model = Posting
        fields = ["date_from", "date_to", "kind", "amount_min", "amount_max"]
