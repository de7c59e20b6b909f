"""Cash by denomination.

The bank counts cash in ₹500, ₹200, ₹100, ₹50, ₹20 and ₹10 notes, and coins. Coins
are counted by value in whole rupees (a bag of mixed ₹1, ₹2, ₹5, ₹10 and ₹20 coins is
weighed or counted to a rupee total), so `coins` is rupees, not pieces.

Cash moves in whole rupees: paise are not handled over the counter (the 50-paise
coin is legal tender but not paid out), so a cash amount with paise is refused and
the paise go by transfer.

`Denominations` is an immutable value: counts per denomination that may be negative
(a movement out of a till), with its value in paise. The models store the same seven
counts as columns (`DenominationFields`) so the database can hold the rules: a till
never holds a negative count, and a movement's amount equals its counts.
"""

from dataclasses import dataclass, fields

from django.db import models
from django.db.models import F, Q

from banking.core.errors import ValidationFailed
from banking.core.money import format_money

# (field, face value in rupees, label). Coins have no face value: the count is rupees.
NOTES = [("n500", 500), ("n200", 200), ("n100", 100), ("n50", 50), ("n20", 20), ("n10", 10)]
FIELDS = [name for name, _ in NOTES] + ["coins"]
RUPEES_PER_UNIT = dict(NOTES) | {"coins": 1}
LABELS = {name: f"₹{face} notes" for name, face in NOTES} | {"coins": "Coins (₹)"}
SHORT_LABELS = {name: f"₹{face}" for name, face in NOTES} | {"coins": "Coins"}
MAX_COUNT = 1_000_000


def parse_count(raw, name):
    """A count of notes (or rupees of coins) as a person typed it: blank is zero;
    ASCII digits only (str.isdigit() and int() would also read １２, ١٢ and ²)."""
    text = str(raw or "").strip().replace(",", "")
    if not text:
        return 0
    label = "coins" if name == "coins" else f"{SHORT_LABELS[name]} notes"
    if text.startswith("-"):
        raise ValidationFailed(f"The count of {label} cannot be negative.")
    if not (text.isascii() and text.isdigit()):
        raise ValidationFailed(f"Enter the count of {label} as a whole number.")
    if len(text) > len(str(MAX_COUNT)) or int(text) > MAX_COUNT:
        raise ValidationFailed(f"Check the count of {label}: a till holds at most {MAX_COUNT:,}.")
    return int(text)


@dataclass(frozen=True, slots=True)
class Denominations:
    n500: int = 0
    n200: int = 0
    n100: int = 0
    n50: int = 0
    n20: int = 0
    n10: int = 0
    coins: int = 0

    def __post_init__(self):
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError("Denomination counts are whole numbers")

    # -- building -----------------------------------------------------------
    @classmethod
    def of(cls, mapping):
        """From a mapping of field names to counts; missing names count zero."""
        mapping = mapping or {}
        unknown = set(mapping) - set(FIELDS)
        if unknown:
            raise ValidationFailed(f"Unknown denomination {sorted(unknown)[0]!r}.")
        return cls(**{name: int(mapping.get(name) or 0) for name in FIELDS})

    @classmethod
    def parse(cls, mapping):
        """Counts as a person typed them (blank is zero). Refuses negative counts and
        anything that is not a whole number, in the teller's words."""
        counts = {name: parse_count(mapping.get(name, ""), name) for name in FIELDS}
        return cls(**counts)

    @classmethod
    def of_model(cls, obj, prefix=""):
        return cls(**{name: getattr(obj, prefix + name) for name in FIELDS})

    @classmethod
    def largest_first(cls, paise, available=None):
        """A suggestion that makes up `paise` with the largest notes first, from
        `available` counts when given. None when it cannot be made up exactly."""
        if paise % 100:
            return None
        rupees = paise // 100
        counts = {}
        for name, face in NOTES:
            most = rupees // face
            if available is not None:
                most = min(most, max(getattr(available, name), 0))
            counts[name] = most
            rupees -= most * face
        if available is not None and rupees > max(available.coins, 0):
            return None
        counts["coins"] = rupees
        return cls(**counts)

    # -- reading ------------------------------------------------------------
    @property
    def value(self):
        """In paise."""
        return sum(getattr(self, name) * RUPEES_PER_UNIT[name] for name in FIELDS) * 100

    def as_dict(self):
        return {name: getattr(self, name) for name in FIELDS}

    def rows(self):
        """[(field, label, count, value in paise)] for display."""
        return [(name, SHORT_LABELS[name], getattr(self, name), getattr(self, name) * RUPEES_PER_UNIT[name] * 100)
                for name in FIELDS]

    def is_zero(self):
        return all(getattr(self, name) == 0 for name in FIELDS)

    def is_nonnegative(self):
        return all(getattr(self, name) >= 0 for name in FIELDS)

    def covers(self, other):
        """Whether these counts hold at least `other`'s, note by note."""
        return all(getattr(self, name) >= getattr(other, name) for name in FIELDS)

    def shortfall(self, other):
        """The denominations of `other` these counts cannot cover, in words."""
        missing = []
        for name in FIELDS:
            have, need = getattr(self, name), getattr(other, name)
            if need > have:
                if name == "coins":
                    missing.append(f"{format_money(need * 100)} in coins (it has {format_money(have * 100)})")
                else:
                    missing.append(f"{need} × {SHORT_LABELS[name]} (it has {have})")
        return missing

    def positive_part(self):
        return Denominations(**{name: max(getattr(self, name), 0) for name in FIELDS})

    def negative_part(self):
        """The counts below zero, as positive numbers."""
        return Denominations(**{name: max(-getattr(self, name), 0) for name in FIELDS})

    # -- arithmetic ---------------------------------------------------------
    def __add__(self, other):
        return Denominations(**{name: getattr(self, name) + getattr(other, name) for name in FIELDS})

    def __sub__(self, other):
        return Denominations(**{name: getattr(self, name) - getattr(other, name) for name in FIELDS})

    def __neg__(self):
        return Denominations(**{name: -getattr(self, name) for name in FIELDS})

    def __str__(self):
        parts = [f"{getattr(self, name)} × {SHORT_LABELS[name]}" for name, _ in NOTES if getattr(self, name)]
        if self.coins:
            parts.append(f"{format_money(self.coins * 100)} in coins")
        return ", ".join(parts) or "no cash"


def check_adds_up(counts, amount):
    """Refuse a breakdown that does not make up `amount` paise, saying by how much."""
    if amount % 100:
        raise ValidationFailed("Cash is handled in whole rupees: move the paise by transfer.")
    if counts.value != amount:
        difference = counts.value - amount
        if counts.is_zero():
            raise ValidationFailed(f"Enter the notes and coins that make up {format_money(amount)}.")
        more_or_less = "more" if difference > 0 else "less"
        raise ValidationFailed(
            f"The notes and coins add up to {format_money(counts.value)}, {format_money(abs(difference))} "
            f"{more_or_less} than the amount of {format_money(amount)}."
        )


def value_expression(prefix=""):
    """The SQL value of the seven count columns, in paise."""
    expression = None
    for name in FIELDS:
        term = F(prefix + name) * (RUPEES_PER_UNIT[name] * 100)
        expression = term if expression is None else expression + term
    return expression


class DenominationFields(models.Model):
    """The seven counts as columns. Subclasses add their own constraints: a cash
    box's counts are never negative; a movement's may be."""

    n500 = models.BigIntegerField("₹500 notes", default=0)
    n200 = models.BigIntegerField("₹200 notes", default=0)
    n100 = models.BigIntegerField("₹100 notes", default=0)
    n50 = models.BigIntegerField("₹50 notes", default=0)
    n20 = models.BigIntegerField("₹20 notes", default=0)
    n10 = models.BigIntegerField("₹10 notes", default=0)
    coins = models.BigIntegerField("coins (₹)", default=0)

    class Meta:
        abstract = True

    @property
    def counts(self):
        return Denominations.of_model(self)

    def set_counts(self, counts):
        for name in FIELDS:
            setattr(self, name, getattr(counts, name))

    set_counts.alters_data = True

    @property
    def cash_value(self):
        return self.counts.value


def nonnegative_counts(name):
    return models.CheckConstraint(condition=Q(**{f"{field}__gte": 0 for field in FIELDS}), name=name)
