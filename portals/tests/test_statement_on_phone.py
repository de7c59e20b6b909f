"""The customer's statement reads on a phone: each line a readable row (date,
narration, signed amount with a word, balance) instead of a six-column table, and
the desktop table's scroll box can be reached by keyboard. The account card offers
the statement as CSV as well as PDF, both from the same rows."""

import csv
import io
import re

import pytest
from django.urls import reverse

from banking.deposits.tests.factories import Bank
from banking.testing import make_user


@pytest.fixture
def bank(db):
    return Bank()


@pytest.fixture
def customer_client(client, bank):
    user = make_user("customer", username=f"c{bank.customer.cif}")
    bank.customer.user = user
    bank.customer.save(update_fields=["user"])
    client.force_login(user)
    return client


def _account(bank):
    account = bank.open_account(deposit=1_000_00)
    bank.withdraw(account, 50_00)
    return account


def _text(html):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def test_each_line_is_a_readable_row_on_a_phone(customer_client, bank):
    account = _account(bank)
    html = customer_client.get(reverse("customer:statement", args=[account.number])).text
    phone = re.search(r'<ul[^>]*data-testid="statement-rows".*?</ul>', html, re.S)
    assert phone, "the phone's list of rows"
    rows = re.findall(r"<li.*?</li>", phone.group(0), re.S)
    assert len(rows) == 2
    credit, debit = (_text(row) for row in rows)
    assert "Credit +₹1,000.00" in credit and "Balance ₹1,000.00" in credit
    assert "Debit −₹50.00" in debit and "Balance ₹950.00" in debit
    assert re.search(r"\d{2} \w{3} \d{4}", debit)


def test_the_tables_scroll_box_can_be_reached_by_keyboard(customer_client, bank):
    account = _account(bank)
    html = customer_client.get(reverse("customer:statement", args=[account.number])).text
    box = re.search(r'<div[^>]*class="[^"]*table-responsive[^"]*"[^>]*>', html)
    assert box, html
    tag = box.group(0)
    assert 'tabindex="0"' in tag and 'role="region"' in tag and 'aria-label="' in tag


def test_the_filtered_fragment_keeps_both_layouts(customer_client, bank):
    account = _account(bank)
    html = customer_client.get(reverse("customer:statement", args=[account.number]), {"direction": "D"},
                               headers={"HX-Request": "true"}).text
    assert "<html" not in html and 'data-testid="statement-rows"' in html and 'id="statement-lines"' in html
    assert "−₹50.00" in html and "+₹1,000.00" not in html


def test_the_account_card_offers_csv_and_pdf(customer_client, bank):
    account = _account(bank)
    html = customer_client.get(reverse("customer:home")).text
    card = re.search(rf'data-testid="account-{account.number}".*?</article>', html, re.S).group(0)
    assert reverse("customer:statement-csv", args=[account.number]) in card
    assert reverse("customer:statement-pdf", args=[account.number]) in card
    response = customer_client.get(reverse("customer:statement-csv", args=[account.number]))
    downloaded = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert downloaded[-1][1:] == ["Closing balance", "", "50.00", "1000.00", "950.00"], downloaded[-1]
