import django_filters
from django import forms

from banking.ledger.models import EntryKind, Posting
from portals.filters import RupeeFilter


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
