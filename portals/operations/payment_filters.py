import django_filters
from django import forms

from banking.payments.models import (
    Direction,
    ExceptionKind,
    ExceptionStatus,
    Payment,
    PaymentStatus,
    Rail,
    ReconciliationException,
)
from portals.filters import RupeeFilter


class PaymentFilter(django_filters.FilterSet):
    rail = django_filters.ChoiceFilter(choices=Rail.choices, label="Rail", empty_label="Any rail")
    status = django_filters.ChoiceFilter(choices=PaymentStatus.choices, label="Status", empty_label="Any status")
    direction = django_filters.ChoiceFilter(choices=Direction.choices, label="Direction",
                                            empty_label="Any direction")
    amount_min = RupeeFilter(field_name="amount", lookup_expr="gte", label="Amount from (₹)")
    amount_max = RupeeFilter(field_name="amount", lookup_expr="lte", label="Amount to (₹)")
    date_from = django_filters.DateFilter(field_name="business_date", lookup_expr="gte", label="From",
                                          widget=forms.DateInput(attrs={"type": "date"}))
    date_to = django_filters.DateFilter(field_name="business_date", lookup_expr="lte", label="To",
                                        widget=forms.DateInput(attrs={"type": "date"}))
    reference = django_filters.CharFilter(field_name="reference", lookup_expr="icontains", label="UTR / RRN")

    class Meta:
        model = Payment
        fields = ["rail", "status", "direction", "amount_min", "amount_max", "date_from", "date_to", "reference"]


class ExceptionFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=ExceptionKind.choices, label="Kind", empty_label="Any kind")
    status = django_filters.ChoiceFilter(choices=ExceptionStatus.choices, label="Status", empty_label="Any status")
    reference = django_filters.CharFilter(field_name="reference", lookup_expr="icontains", label="UTR")

    class Meta:
        model = ReconciliationException
        fields = ["kind", "status", "reference"]
