"""The loan book's screens: the supervisor's overdue list, operations' portfolio, SMA and
NPA report and provisions, read off the loans' end of day."""

import datetime

import pytest
from django.urls import reverse

from banking.ledger.models import BusinessDate
from banking.loans import eod
from banking.loans.actions import disburse_loan
from banking.loans.models import Instalment
from banking.loans.tests.factories import LoanBank, key
from banking.testing import make_branch, make_user
from banking.users.roles import Role

DAY = datetime.timedelta(days=1)


@pytest.fixture
def book(db):
    """A personal loan whose first instalment went unpaid, classified 40 days after
    it fell due (SMA-1), and again at 95 days (an NPA)."""
    bank = LoanBank()
    loan = bank.sanctioned(amount=5_00_000_00, months=24)
    disburse_loan(actor=bank.teller, loan=loan, amount=5_00_000_00, idempotency_key=key())
    due = Instalment.objects.filter(schedule__loan=loan).order_by("due_date").first().due_date
    eod.classify_loans(date=due + 39 * DAY)
    eod.classify_loans(date=due + 94 * DAY)
    BusinessDate.objects.update_or_create(pk=1, defaults={"date": due + 95 * DAY})
    return bank, loan, due


def test_supervisor_sees_the_branchs_overdue_loans_by_bucket(client, book):
    bank, loan, _due = book
    client.force_login(bank.supervisor)
    page = client.get(reverse("supervisor:loans-overdue")).content.decode()
    assert loan.number in page
    assert "1 loan" in page and "Sub-standard" in page
    only_sma = client.get(reverse("supervisor:loans-overdue"), {"bucket": "sma1"}).content.decode()
    assert loan.number not in only_sma
    assert "No loan is overdue." in only_sma
    # A made-up bucket shows them all, not an error.
    assert loan.number in client.get(reverse("supervisor:loans-overdue"), {"bucket": "x'--"}).content.decode()


def test_another_branchs_supervisor_does_not_see_the_loan(client, book):
    _bank, loan, _due = book
    client.force_login(make_user(Role.SUPERVISOR, branch=make_branch()))
    response = client.get(reverse("supervisor:loans-overdue"))
    assert response.status_code == 200
    assert loan.number not in response.content.decode()


@pytest.mark.parametrize("name", ["ops:loan-portfolio", "ops:loan-sma-npa", "ops:loan-provisions"])
def test_a_teller_is_refused_the_operations_loan_reports(client, book, name):
    client.force_login(book[0].teller)
    assert client.get(reverse(name)).status_code == 403


def test_portfolio_by_product_and_bucket(client, book):
    bank, _loan, due = book
    client.force_login(bank.ops)
    page = client.get(reverse("ops:loan-portfolio")).content.decode()
    assert "Personal loan" in page and "Sub-standard" in page and "₹5,00,000.00" in page
    assert "100.0%" in page or "100%" in page  # the only loan is an NPA
    earlier = client.get(reverse("ops:loan-portfolio"), {"on": (due + 50 * DAY).isoformat()}).content.decode()
    assert "SMA-1" in earlier and "Sub-standard" not in earlier


def test_sma_npa_report_as_of_a_date(client, book):
    bank, loan, due = book
    client.force_login(bank.ops)
    then = client.get(reverse("ops:loan-sma-npa"), {"on": (due + 40 * DAY).isoformat()}).content.decode()
    assert loan.number in then and "SMA-1" in then and f"{due + 39 * DAY:%d %b %Y}" in then
    npa_only = client.get(reverse("ops:loan-sma-npa"), {"kind": "npa", "on": (due + 40 * DAY).isoformat()})
    assert loan.number not in npa_only.content.decode()
    now = client.get(reverse("ops:loan-sma-npa"), {"kind": "npa"}).content.decode()
    assert loan.number in now and "Sub-standard" in now


@pytest.mark.parametrize("raw", ["31/03/2027", "2027-02-30", "x" * 300])
def test_a_date_that_is_not_one_is_answered_in_words(client, book, raw):
    client.force_login(book[0].ops)
    for name in ("ops:loan-portfolio", "ops:loan-sma-npa", "ops:loan-provisions"):
        response = client.get(reverse(name), {"on": raw})
        assert response.status_code == 200
        assert "Enter the date as a calendar date" in response.content.decode()


def test_a_date_past_the_business_date_is_refused(client, book):
    client.force_login(book[0].ops)
    response = client.get(reverse("ops:loan-sma-npa"), {"on": "2999-01-01"})
    assert "End of day has not run past the business date" in response.content.decode()


def test_provisions_by_class_agree_with_the_gl(client, book):
    bank, _loan, _due = book
    client.force_login(bank.ops)
    page = client.get(reverse("ops:loan-provisions")).content.decode()
    assert "₹1,25,000.00" in page  # 25% of ₹5,00,000, unsecured sub-standard
    assert "Agrees with the loans" in page
    assert "₹1,23,000.00" in page  # up from ₹2,000 (0.40%) at the end of day before
