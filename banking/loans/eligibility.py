"""Eligibility, fees and collateral: pure functions, no database.

The bank's rules (issue 20; DESIGN §5):
- FOIR (fixed obligations to income ratio) = (existing EMIs + the new loan's EMI) ÷ net
  monthly income, as a percent; eligible when it is at most the product's maximum.
- The bureau score (300–900) must be at least the product's minimum.
- Gold: the gold's value is grams × carat ÷ 24 × the day's rate per gram of 24-carat
  gold, rounded half-up to the paisa; the loan may be at most the product's LTV
  (75%) of it.
- Processing fee = amount × the product's percent, rounded half-up to the paisa, at
  most the cap; GST on it is 18% (the product's), rounded half-up once.
- The amount and the tenure must lie within the product's range; a bullet schedule
  (gold) runs at most 12 months.

`assess` answers every question at once, in words, so that a form can show all of
them live; `refusal` is the first failed one, which the action raises.
"""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from banking.core.money import format_money

from . import schedule as schedule_math

BULLET_MAX_MONTHS = 12
SCORE_MIN, SCORE_MAX = 300, 900


def percent_of(amount, percent):
    return schedule_math.to_paise(Decimal(amount) * Decimal(percent) / 100)


def processing_fee(amount, terms):
    """(fee, GST on the fee) in paise for a loan of `amount` under `terms` (a product version)."""
    fee = min(percent_of(amount, terms.processing_fee_percent), terms.processing_fee_cap)
    return fee, percent_of(fee, terms.gst_percent)


def gold_value(grams, carat, rate_per_gram):
    """The value in paise of `grams` of `carat`-carat gold at `rate_per_gram` (24-carat) paise."""
    return schedule_math.to_paise(Decimal(grams) * Decimal(carat) / 24 * rate_per_gram)


@dataclass(frozen=True)
class Check:
    ok: bool
    words: str


@dataclass
class Assessment:
    emi: int = 0
    foir_percent: Decimal = Decimal(0)
    ltv_percent: Decimal | None = None
    checks: list = field(default_factory=list)

    @property
    def eligible(self):
        return all(check.ok for check in self.checks)

    @property
    def refusal(self):
        return next((check.words for check in self.checks if not check.ok), None)


def _ratio(part, whole):
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def assess(*, terms, rate, amount, months, monthly_income, existing_emis, bureau_score, collateral_value=None):
    """The eligibility of a loan of `amount` paise over `months` at `rate` % under `terms`."""
    result = Assessment()
    checks = result.checks
    name = terms.product.name
    if amount < terms.min_amount or amount > terms.max_amount:
        checks.append(Check(False, f"{name} lends from {format_money(terms.min_amount)} to "
                                   f"{format_money(terms.max_amount)}; {format_money(amount)} is outside that."))
    else:
        checks.append(Check(True, f"The amount {format_money(amount)} is within the product's range."))
    if months < terms.min_months or months > terms.max_months:
        checks.append(Check(False, f"{name} runs from {terms.min_months} to {terms.max_months} months; "
                                   f"{months} months is outside that."))
    elif terms.schedule_type == schedule_math.BULLET and months > BULLET_MAX_MONTHS:
        checks.append(Check(False, f"A bullet repayment runs at most {BULLET_MAX_MONTHS} months."))
    else:
        checks.append(Check(True, f"The tenure of {months} months is within the product's range."))
    if monthly_income <= 0:
        checks.append(Check(False, "The net monthly income must be above zero to assess repayment."))
    elif amount > 0 and months > 0:
        if terms.schedule_type == schedule_math.BULLET:
            # A bullet loan has no monthly instalment; its obligation is the month's interest.
            result.emi = schedule_math.monthly_interest(amount, rate)
        else:
            result.emi = schedule_math.emi_amount(amount, rate, months)
        result.foir_percent = _ratio(existing_emis + result.emi, monthly_income)
        words = (f"FOIR {result.foir_percent}%: existing EMIs {format_money(existing_emis)} and the new "
                 f"{format_money(result.emi)} against income of {format_money(monthly_income)} a month")
        if result.foir_percent > terms.max_foir_percent:
            checks.append(Check(False, f"{words} is above the product's maximum of {terms.max_foir_percent}%."))
        else:
            checks.append(Check(True, f"{words}, within the maximum of {terms.max_foir_percent}%."))
    if not SCORE_MIN <= bureau_score <= SCORE_MAX:
        checks.append(Check(False, f"A bureau score runs from {SCORE_MIN} to {SCORE_MAX}; {bureau_score} is not one."))
    elif bureau_score < terms.min_bureau_score:
        checks.append(Check(False, f"The bureau score {bureau_score} is below the product's minimum of "
                                   f"{terms.min_bureau_score}."))
    else:
        checks.append(Check(True, f"The bureau score {bureau_score} meets the minimum of {terms.min_bureau_score}."))
    if terms.max_ltv_percent is not None:
        if not collateral_value:
            checks.append(Check(False, "Give the gold pledged: its weight in grams and its purity in carats."))
        else:
            result.ltv_percent = _ratio(amount, collateral_value)
            words = (f"LTV {result.ltv_percent}%: {format_money(amount)} against gold worth "
                     f"{format_money(collateral_value)}")
            if result.ltv_percent > terms.max_ltv_percent:
                checks.append(Check(False, f"{words} is above the maximum of {terms.max_ltv_percent}%."))
            else:
                checks.append(Check(True, f"{words}, within the maximum of {terms.max_ltv_percent}%."))
    return result
