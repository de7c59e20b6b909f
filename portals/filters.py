"""Filters every portal shares."""

import django_filters
from django import forms

from banking.core.errors import InvalidAmount
from banking.core.money import Money


class RupeeField(forms.CharField):
    """Rupees as a person types them ("1,500.50"), cleaned to paise by Money.parse's
    rule, zero allowed; anything else is a message on the field."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))
        super().__init__(**kwargs)

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
