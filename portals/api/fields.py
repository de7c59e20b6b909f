"""The API's formats: money as a string of rupees with two decimals and times with
the bank's offset. (Dates are REST framework's own DateField: ISO 8601.)"""

import re

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from banking.core.money import Money

# What a client may send: whole rupees or rupees and paise, at most two decimals.
TYPED = re.compile(r"[0-9]{1,13}(\.[0-9]{1,2})?")


def rupees(paise):
    """Integer paise → "1234.50" (a minus sign for a negative balance)."""
    sign = "-" if paise < 0 else ""
    return f"{sign}{abs(paise) // 100}.{abs(paise) % 100:02d}"


@extend_schema_field({"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$", "example": "1234.50"})
class MoneyField(serializers.Field):
    """Rupees as a string ("1234.50") outside, integer paise inside. A number, a third
    decimal, a sign or anything but digits is refused: amounts are never floats."""

    default_error_messages = {
        "not_a_string": 'Send the amount as a string of rupees, like "1500.50", not as a number.',
        "invalid": 'Send the amount in rupees with at most two decimals, like "1500.50".',
        "not_positive": "Enter an amount above zero.",
    }

    def to_internal_value(self, data):
        # Every refusal carries the code "invalid", so the problem's code is `invalid_<field>`.
        if not isinstance(data, str):
            raise serializers.ValidationError(self.error_messages["not_a_string"], code="invalid")
        if not TYPED.fullmatch(data):
            self.fail("invalid")
        paise = Money.parse(data).minor
        if paise <= 0:
            raise serializers.ValidationError(self.error_messages["not_positive"], code="invalid")
        return paise

    def to_representation(self, value):
        return rupees(int(value))


@extend_schema_field({"type": "string", "format": "date-time", "example": "2026-12-07T10:15:00+05:30"})
class BankTimeField(serializers.Field):
    """A moment in the bank's time zone with its offset, to the second."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return timezone.localtime(value).replace(microsecond=0).isoformat()
