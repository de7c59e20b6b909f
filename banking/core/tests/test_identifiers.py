import re
import time

import pytest

from banking.core.identifiers import (
    is_valid_aadhaar,
    is_valid_account_number,
    is_valid_ifsc,
    is_valid_pan,
    mask_aadhaar,
    new_token,
    with_check_digit,
)


def test_ifsc_format():
    assert is_valid_ifsc("CBSB0000001")
    assert is_valid_ifsc("hdfc0001234")
    assert not is_valid_ifsc("CBSB1000001")
    assert not is_valid_ifsc("CBS0000001")


def test_pan_format():
    assert is_valid_pan("ABCPE1234F")
    assert not is_valid_pan("ABCPE1234")
    assert not is_valid_pan("1BCPE1234F")


def test_aadhaar_verhoeff():
    assert is_valid_aadhaar("2341 2341 2346")
    assert not is_valid_aadhaar("234123412347")
    assert not is_valid_aadhaar("123412341234")  # cannot start with 1
    assert mask_aadhaar("234123412346") == "XXXX-XXXX-2346"


@pytest.mark.parametrize("body", ["10020000001", "555", "9876543210"])
def test_account_check_digit_catches_typos(body):
    number = with_check_digit(body)
    assert is_valid_account_number(number) or len(number) < 6
    # every single-digit substitution is caught
    for i, ch in enumerate(number):
        wrong = number[:i] + str((int(ch) + 1) % 10) + number[i + 1 :]
        assert not is_valid_account_number(wrong)
    # every adjacent transposition of different digits is caught
    for i in range(len(number) - 1):
        if number[i] != number[i + 1]:
            swapped = number[:i] + number[i + 1] + number[i] + number[i + 2 :]
            assert not is_valid_account_number(swapped)


def test_tokens_are_32_lowercase_hex_digits_unique_and_later_ones_sort_later():
    made = [new_token() for _ in range(1000)]
    time.sleep(0.002)
    later = new_token()
    assert all(re.fullmatch(r"[0-9a-f]{32}", token) for token in [*made, later])
    assert len(set(made)) == 1000
    assert later > max(made)  # the millisecond comes first
