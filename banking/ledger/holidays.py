"""The bank's holiday calendar: the one place that says whether a date is a holiday.

A date is a bank holiday when it is a Sunday, the second or fourth Saturday of its
month (the rule for banks in India since 2015), or a holiday that operations entered
(`Holiday`, added and removed through maker-checker, see actions.py). On a holiday the
counters and cheque work are closed: the teller's actions and screens ask
`holiday_name(date)`. Accrual, digital payments and end of day run on every calendar
date, holidays included.

A holiday is entered ahead of its day: never for a date in the past, and not for the
business date itself, whose counters may already be open. One that has begun or passed
cannot be removed either.
"""

import datetime

from django.conf import settings

from banking.core.errors import ValidationFailed

from .models import Holiday

NAME_MAX = Holiday._meta.get_field("name").max_length
ORDINALS = {2: "Second", 4: "Fourth"}


def _when(date):
    return f"{date:%d %b %Y}"


def rule_holiday(date):
    """The holiday `date` is by rule ("Sunday", "Second Saturday", "Fourth Saturday"), or
    None. The rule holds unless settings.CBS_WEEKLY_HOLIDAYS turns it off (the test suite
    does, so that it runs alike on any day of the week)."""
    if not settings.CBS_WEEKLY_HOLIDAYS:
        return None
    if date.weekday() == 6:
        return "Sunday"
    if date.weekday() == 5:
        week = (date.day - 1) // 7 + 1
        if week in ORDINALS:
            return f"{ORDINALS[week]} Saturday"
    return None


def holiday_name(date):
    """What makes `date` a bank holiday, in words, or None on a working day."""
    return rule_holiday(date) or Holiday.objects.filter(date=date).values_list("name", flat=True).first()


def is_holiday(date):
    return holiday_name(date) is not None


def holidays_between(start, end):
    """{date: name} of every bank holiday from `start` to `end`, both included."""
    found = {}
    day = start
    while day <= end:
        rule = rule_holiday(day)
        if rule:
            found[day] = rule
        day += datetime.timedelta(days=1)
    for date, name in Holiday.objects.between(start, end).values_list("date", "name"):
        found[date] = name
    return dict(sorted(found.items()))


def clean_holiday_name(name):
    name = " ".join(str(name or "").split())
    if not name:
        raise ValidationFailed("Give the holiday's name, as customers will read it (for example, Diwali).")
    if len(name) > NAME_MAX:
        raise ValidationFailed(f"A holiday's name has at most {NAME_MAX} characters.")
    return name


def _check_ahead(date, today, verb):
    if date < today:
        raise ValidationFailed(f"{_when(date)} is in the past: a holiday can only be {verb} for a date after the "
                               f"business date, {_when(today)}.")
    if date == today:
        raise ValidationFailed(f"{_when(date)} is today's business date, whose counters may already be open: a "
                               f"holiday can only be {verb} for a date after it.")


def check_new_holiday(date, name, *, today):
    """Refuse, in words, a holiday that cannot be added on `date` when the business
    date is `today`; return its cleaned name."""
    name = clean_holiday_name(name)
    _check_ahead(date, today, "entered")
    existing = holiday_name(date)
    if existing:
        raise ValidationFailed(f"{_when(date)} is already a bank holiday: {existing}.")
    return name


def check_holiday_removal(date, *, today):
    """Refuse, in words, removing the holiday on `date`; return the Holiday."""
    holiday = Holiday.objects.filter(date=date).first()
    if holiday is None:
        rule = rule_holiday(date)
        if rule:
            raise ValidationFailed(f"{_when(date)} is a {rule}, a holiday by rule: it cannot be removed.")
        raise ValidationFailed(f"{_when(date)} is not a holiday that operations entered.")
    _check_ahead(date, today, "removed")
    return holiday
