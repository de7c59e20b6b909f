"""How long ago, or how long until, in the one unit a person glances at."""

from django import template
from django.utils import timezone
from django.utils.timesince import timesince, timeuntil

register = template.Library()


def _largest_unit(text):
    return text.split(",")[0]


@register.filter
def age(moment):
    """'just now', '5 minutes ago', '2 days ago'."""
    if moment is None:
        return ""
    if (timezone.now() - moment).total_seconds() < 60:
        return "just now"
    return f"{_largest_unit(timesince(moment))} ago"


@register.filter
def remaining(moment):
    """'in 5 minutes', 'in 23 hours', or 'now' once it has passed."""
    if moment is None:
        return ""
    if (moment - timezone.now()).total_seconds() < 60:
        return "now"
    return f"in {_largest_unit(timeuntil(moment))}"
