"""The teller's loan servicing screens: cash for the dues and its receipt, the
foreclosure quote and foreclosure, the no-dues certificate, the loan's page."""

import datetime
import html
import re

import pytest
from django.urls import reverse

from banking.ledger.models import BusinessDate
from banking.loans.actions import disburse_loan
from banking.loans.models import LoanStatus, Repayment
from banking.loans.tests.factories import LoanBank, key
from banking.teller.actions import fund_vault
from banking.teller.tests.factories import VAULT_CASH, teller_with_open_till
from banking.testing import make_user
from banking.users.roles import Role

FIRST_DUE = datetime.date(2026, 2, 5)


def words(response):
    return " ".join(re.sub(r"<[^>]+>", " ", html.unescape(response.content.decode())).split())


def set_date(day):
    BusinessDate.objects.update_or_create(pk=1, defaults={"date": day})


@pytest.fixture
def bank(db):
    return LoanBank()


@pytest.fixture
def loan(bank):
    set_date(datetime.date(2026, 1, 5))
    loan = bank.sanctioned()
    disburse_loan(actor=bank.teller, loan=loan, amount=5_00_000_00, idempotency_key=key())
    loan.refresh_from_db()
    return loan


@pytest.fixture
def cashier(bank, loan):
    set_date(FIRST_DUE)
    fund_vault(actor=None, branch=bank.branch, counts=VAULT_CASH, idempotency_key=key())
    return teller_with_open_till(bank.branch, bank.supervisor, cash_limit=10_00_000_00, mfa=True)


def cash(rupees, **extra):
    return {"idempotency_key": key(), "amount": f"{rupees}", "n500": str(rupees // 500),
            "coins": str(rupees % 500), **extra}


def test_the_loan_page_shows_dues_and_the_way_to_pay(client, bank, loan, cashier):
    client.force_login(cashier)
    text = words(client.get(reverse("teller:loan-detail", args=[loan.number])))
    assert "Due today ₹10,746.95" in text
    assert "Take a repayment in cash" in text and "No repayment received yet." in text


def test_cash_repayment_and_its_receipt(client, bank, loan, cashier):
    client.force_login(cashier)
    url = reverse("teller:loan-repay", args=[loan.number])
    page = words(client.get(url))
    assert "Total due ₹10,746.95" in page and "take ₹10,747.00" in page
    response = client.post(url, cash(10_747))
    repayment = Repayment.objects.get(loan=loan)
    assert response.status_code == 302
    assert response["Location"] == reverse("teller:loan-receipt", args=[loan.number, repayment.number])
    receipt = words(client.get(response["Location"]))
    assert f"Receipt {repayment.number}" in receipt
    assert "Interest of instalment 1 (05 Feb 2026) ₹4,458.90" in receipt
    assert "Principal of instalment 1 (05 Feb 2026) ₹6,288.05" in receipt
    assert "Paise over the dues, to account" in receipt and "Total ₹10,747.00" in receipt
    assert "₹500 × 21" in receipt
    page = words(client.get(reverse("teller:loan-detail", args=[loan.number])))
    assert repayment.number in page and "Due today ₹0.00" in page


def test_cash_that_does_not_add_up_is_refused_and_writes_nothing(client, bank, loan, cashier):
    client.force_login(cashier)
    url = reverse("teller:loan-repay", args=[loan.number])
    response = client.post(url, cash(10_747, n500="20"))
    assert response.status_code == 200
    assert not Repayment.objects.exists()
    response = client.post(url, cash(20_000))
    assert "Only ₹10,746.95 is due" in words(response)
    assert not Repayment.objects.exists()


def test_foreclosure_quote_past_date_refused_and_foreclosure_closes(client, bank, loan, cashier):
    client.force_login(cashier)
    url = reverse("teller:loan-foreclosure", args=[loan.number])
    text = words(client.get(url, {"on": "2026-01-20"}))
    assert "for today (05 Feb 2026) or a later date" in text
    text = words(client.get(url, {"on": "2026-02-10"}))
    assert "To close on 10 Feb 2026" in text and "Foreclosure charge" in text
    text = words(client.get(url, {"on": "not a date"}))
    assert "Enter the date" in text
    text = words(client.get(url))
    amount = re.search(r"take ₹([\d,]+)\.00", text).group(1).replace(",", "")
    response = client.post(url, cash(int(amount)))
    assert response.status_code == 302
    loan.refresh_from_db()
    assert loan.status == LoanStatus.CLOSED
    receipt = words(client.get(response["Location"]))
    assert "The loan is closed." in receipt
    pdf = client.get(reverse("teller:loan-no-dues", args=[loan.number]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_no_dues_certificate_is_refused_while_the_loan_is_open(client, bank, loan):
    client.force_login(bank.teller)
    response = client.get(reverse("teller:loan-no-dues", args=[loan.number]))
    assert response.status_code == 200 and "is not closed" in words(response)


def test_a_customer_cannot_reach_the_teller_screens(client, bank, loan):
    client.force_login(make_user(Role.CUSTOMER))
    for name in ("teller:loan-repay", "teller:loan-foreclosure", "teller:loan-no-dues"):
        assert client.get(reverse(name, args=[loan.number])).status_code == 403
