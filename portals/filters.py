"""Filters every portal shares."""

import django_filters
from django import forms

from .forms import AmountField


class RupeeFilter(django_filters.CharFilter):
    """Rupees typed by a person (AmountField, zero allowed), compared in paise. Bad
    input filters nothing out and shows a message on the field."""

    field_class = AmountField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_zero", True)
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))
        super().__init__(*args, **kwargs)
