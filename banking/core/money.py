"""Exact money.

A `Money` is an integer number of minor units (paise for INR) with an ISO 4217
currency. It never holds a float, refuses to mix currencies, and parses user input
strictly: more decimals than the currency has is an error, not a rounding.
"""

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from .errors import CurrencyMismatch, InvalidAmount

MINOR_UNITS = {"INR": 2, "USD": 2, "EUR": 2, "GBP": 2, "JPY": 0}
SYMBOLS = {"INR": "₹", "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}
DEFAULT_CURRENCY = "INR"

# An amount as a person types it: ASCII digits, grouped by commas in the Indian
# (1,00,000) or the international (100,000) way or not at all, then a point and
# decimals. Python's Decimal() would also take 1e2, 1_000, NaN, a sign and digits of
# any script (１２３, ١٢), which a person does not mean as an amount.
TYPED_AMOUNT = re.compile(r"""
    (?P<whole>[0-9]+                            # 100000
      | [0-9]{1,3}(?:,[0-9]{3})+                # 100,000
      | [0-9]{1,2}(?:,[0-9]{2})*,[0-9]{3})      # 1,00,000
    (?:\.(?P<decimals>[0-9]+))?
""", re.VERBOSE)


def minor_exponent(currency):
    try:
        return MINOR_UNITS[currency]
    except KeyError:
        raise InvalidAmount(f"Unknown currency {currency!r}.") from None


@dataclass(frozen=True, slots=True, order=False)
class Money:
    minor: int
    currency: str = DEFAULT_CURRENCY

    def __post_init__(self):
        if isinstance(self.minor, bool) or not isinstance(self.minor, int):
            raise TypeError("Money holds an integer number of minor units")
        minor_exponent(self.currency)

    # -- construction -------------------------------------------------------
    @classmethod
    def zero(cls, currency=DEFAULT_CURRENCY):
        return cls(0, currency)

    @classmethod
    def parse(cls, value, currency=DEFAULT_CURRENCY):
        """Parse what a person typed ("1,23,456.50", "₹ 500") into Money.

        This is the bank's one rule for a typed amount (TYPED_AMOUNT): ASCII digits,
        commas only where Indian or international grouping puts them, at most as
        many decimals as the currency has, no sign (the form says which way the
        money goes); a leading currency symbol and surrounding spaces are allowed.
        Anything else raises InvalidAmount in the person's words.
        """
        if isinstance(value, float):
            raise TypeError("Money is never built from a float")
        text = str(value).strip()
        symbol = SYMBOLS.get(currency, "")
        if symbol and text.startswith(symbol):
            text = text.removeprefix(symbol).strip()
        if not text:
            raise InvalidAmount("Enter an amount.")
        typed = TYPED_AMOUNT.fullmatch(text)
        places = minor_exponent(currency)
        if typed is None or len(typed["decimals"] or "") > places:
            unit = "rupees" if currency == "INR" else currency
            example = "1,500 or 1500.50" if places else "1,500"
            decimals = f" (at most {places} decimals)" if typed and places else ""
            raise InvalidAmount(f"Enter the amount in {unit}, like {example}{decimals}.")
        return cls.from_decimal(Decimal(text.replace(",", "")), currency)

    @classmethod
    def from_decimal(cls, amount, currency=DEFAULT_CURRENCY):
        if not isinstance(amount, Decimal) or not amount.is_finite():
            raise InvalidAmount("Enter the amount as a number, for example 1500.50.")
        places = minor_exponent(currency)
        scaled = amount.scaleb(places)
        if scaled != scaled.to_integral_value():
            raise InvalidAmount(f"{currency} amounts have at most {places} decimal places.")
        return cls(int(scaled), currency)

    @classmethod
    def rounded(cls, amount, currency=DEFAULT_CURRENCY, rounding=ROUND_HALF_EVEN):
        """Round a computed Decimal (interest, a rate) to the currency once, explicitly."""
        places = minor_exponent(currency)
        return cls(int(amount.scaleb(places).to_integral_value(rounding=rounding)), currency)

    # -- reading ------------------------------------------------------------
    @property
    def amount(self):
        return Decimal(self.minor).scaleb(-minor_exponent(self.currency))

    def is_positive(self):
        return self.minor > 0

    # -- arithmetic ---------------------------------------------------------
    def _same(self, other):
        if not isinstance(other, Money):
            return NotImplemented
        if other.currency != self.currency:
            raise CurrencyMismatch()
        return other

    def __add__(self, other):
        other = self._same(other)
        if other is NotImplemented:
            return other
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other):
        other = self._same(other)
        if other is NotImplemented:
            return other
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self):
        return Money(-self.minor, self.currency)

    def __abs__(self):
        return Money(abs(self.minor), self.currency)

    def __lt__(self, other):
        return self.minor < self._same(other).minor

    def __le__(self, other):
        return self.minor <= self._same(other).minor

    def __gt__(self, other):
        return self.minor > self._same(other).minor

    def __ge__(self, other):
        return self.minor >= self._same(other).minor

    def __bool__(self):
        return self.minor != 0

    def __str__(self):
        return format_money(self.minor, self.currency)


def group_indian(digits):
    """'12345678' -> '1,23,45,678': the last three digits, then pairs."""
    if len(digits) <= 3:
        return digits
    head, tail = digits[:-3], digits[-3:]
    pairs = []
    while len(head) > 2:
        pairs.insert(0, head[-2:])
        head = head[:-2]
    if head:
        pairs.insert(0, head)
    return ",".join(pairs + [tail])


def group_western(digits):
    return f"{int(digits):,}"


def format_money(minor, currency=DEFAULT_CURRENCY, symbol=True):
    """Format minor units for people: ₹1,23,45,678.90 for INR, -₹500.00 when negative."""
    places = minor_exponent(currency)
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(int(minor)), 10**places)
    digits = group_indian(str(whole)) if currency == "INR" else group_western(str(whole))
    text = f"{digits}.{frac:0{places}d}" if places else digits
    prefix = SYMBOLS.get(currency, currency + " ") if symbol else ""
    return f"{sign}{prefix}{text}"
