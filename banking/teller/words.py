"""Amounts in words, as Indian receipts and cheques write them: in crores, lakhs,
thousands and hundreds ("Rupees One Lakh Twenty Thousand Five Hundred Only")."""

ONES = ["", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten", "Eleven", "Twelve",
        "Thirteen", "Fourteen", "Fifteen", "Sixteen", "Seventeen", "Eighteen", "Nineteen"]
TENS = ["", "", "Twenty", "Thirty", "Forty", "Fifty", "Sixty", "Seventy", "Eighty", "Ninety"]


def _below_hundred(n):
    if n < 20:
        return ONES[n]
    return f"{TENS[n // 10]} {ONES[n % 10]}".strip()


def _below_thousand(n):
    hundreds, rest = divmod(n, 100)
    parts = []
    if hundreds:
        parts.append(f"{ONES[hundreds]} Hundred")
    if rest:
        parts.append(_below_hundred(rest))
    return " ".join(parts)


def number_in_words(n):
    if n == 0:
        return "Zero"
    parts = []
    crores, n = divmod(n, 1_00_00_000)
    if crores:
        parts.append(f"{number_in_words(crores)} Crore")
    lakhs, n = divmod(n, 1_00_000)
    if lakhs:
        parts.append(f"{_below_hundred(lakhs)} Lakh")
    thousands, n = divmod(n, 1000)
    if thousands:
        parts.append(f"{_below_hundred(thousands)} Thousand")
    if n:
        parts.append(_below_thousand(n))
    return " ".join(parts)


def rupees_in_words(paise):
    rupees, paise = divmod(abs(int(paise)), 100)
    text = f"Rupees {number_in_words(rupees)}"
    if paise:
        text += f" and {_below_hundred(paise)} Paise"
    return text + " Only"
