"""Card numbers: the bank's RuPay BIN, the Luhn check digit, masking, and the PIN block.

A card number is shown only masked, first 6 and last 4 digits (PCI DSS 3.4.1), and
kept encrypted at rest with a blind index for lookup (banking.core.crypto).
"""

import re
import secrets

# The bank's RuPay BIN (RuPay issues from the 60, 65, 81, 82 and 508 ranges).
BIN = "652150"
LENGTH = 16
DIGITS = re.compile(r"[0-9]{12,19}")


def luhn_check_digit(body):
    """The digit that makes `body` + digit pass the Luhn (mod 10) check."""
    total = 0
    for position, char in enumerate(reversed(body)):
        digit = int(char)
        if position % 2 == 0:  # doubled: these sit second from the right once the check digit is appended
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def is_valid_card_number(number):
    return bool(number) and bool(DIGITS.fullmatch(number)) and luhn_check_digit(number[:-1]) == number[-1]


def new_card_number(bin_=BIN):
    body = bin_ + "".join(secrets.choice("0123456789") for _ in range(LENGTH - len(bin_) - 1))
    return body + luhn_check_digit(body)


def mask_card_number(number):
    """First 6 and last 4 digits, the rest hidden: 652150******1234."""
    if not number or len(number) < 10:
        return "*" * len(number or "")
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def pin_block(pin, card_number):
    """The ISO 9564 format 0 PIN block, 16 hex digits: the PIN field (0, its length,
    the PIN, F padding) XOR the account field (0000 and the 12 rightmost digits of
    the card number before its check digit). Terminals send it so; a production
    switch receives it encrypted under the terminal's PIN key, which the hardware
    security module translates."""
    pin_field = f"0{len(pin):X}{pin}".ljust(16, "F")
    pan_field = "0000" + card_number[-13:-1]
    return f"{int(pin_field, 16) ^ int(pan_field, 16):016X}"


def pin_from_block(block, card_number):
    """The PIN in a format 0 block for `card_number`, or None when it is not one."""
    if not isinstance(block, str) or not re.fullmatch(r"[0-9A-Fa-f]{16}", block):
        return None
    pin_field = f"{int(block, 16) ^ int('0000' + card_number[-13:-1], 16):016X}"
    if pin_field[0] != "0":
        return None
    length = int(pin_field[1], 16)
    pin = pin_field[2:2 + length]
    if not 4 <= length <= 12 or not pin.isdigit() or set(pin_field[2 + length:]) - {"F"}:
        return None
    return pin
