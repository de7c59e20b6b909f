"""One filter for showing money: `{{ minor|inr }}` or `{{ money_value|money }}`."""

from django import template

from banking.core.money import Money, format_money

register = template.Library()


@register.filter
def money(value, currency="INR"):
    """Show a Money, or an integer of minor units, with its currency and grouping."""
    if value is None or value == "":
        return ""
    if isinstance(value, Money):
        return format_money(value.minor, value.currency)
    return format_money(int(value), currency)


register.filter("inr", money)
