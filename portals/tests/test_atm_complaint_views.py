"""ATM complaint screens: the customer raises one and sees it listed, a teller raises
one at the branch, operations resolve one through the switch's reversal; refusals."""

import datetime
import html

import pytest
from django.urls import reverse

from banking.cards.complaint_models import ComplaintStatus
from banking.cards.complaints import raise_dispense_complaint
from banking.cards.models import DispenseComplaint, MessageKind, SwitchMessage
from banking.cards.switch import handle_message
from banking.cards.tests.factories import CardBank, withdrawal
from banking.ledger.models import BusinessDate, LedgerAccount
from banking.testing import make_user
from banking.users.roles import Role

DAY = datetime.date(2026, 12, 7)


def text(response):
    return html.unescape(response.content.decode())


@pytest.fixture
def bank(db):
    BusinessDate.objects.update_or_create(pk=1, defaults={"date": DAY})
    return CardBank(balance=50_000_00)


@pytest.fixture
def wdl(bank):
    atm = bank.terminal("ATM00001")
    answer = handle_message(terminal=atm, message=withdrawal(atm, bank.number, "2500.00",
                                                             local_time="2026-12-06T10:00:00+05:30"))
    assert answer["response_code"] == "00"
    return SwitchMessage.objects.get(kind=MessageKind.WITHDRAWAL)


def test_a_customer_raises_a_complaint_and_sees_it_listed(client, bank, wdl):
    client.force_login(bank.user)
    page = text(client.get(reverse("customer:atm-complaint-new")))
    assert "₹2,500.00 · ATM00001" in page and bank.number not in page
    response = client.post(reverse("customer:atm-complaint-new"), {"withdrawal": wdl.pk, "details": "No notes"})
    assert response.status_code == 302
    complaint = DispenseComplaint.objects.get()
    assert complaint.channel == "internet" and complaint.customer == bank.customer
    listing = text(client.get(reverse("customer:atm-complaints")))
    assert complaint.reference in listing and "11 Dec 2026" in listing and "Open: being investigated" in listing
    # Raised twice: no second complaint, a clear word.
    response = client.post(reverse("customer:atm-complaint-new"), {"withdrawal": wdl.pk})
    assert response.status_code == 200 and DispenseComplaint.objects.count() == 1


def test_a_customer_cannot_complain_of_another_customers_withdrawal(client, bank, wdl):
    other = CardBank()
    client.force_login(other.user)
    response = client.post(reverse("customer:atm-complaint-new"), {"withdrawal": wdl.pk})
    assert response.status_code == 200 and not DispenseComplaint.objects.exists()
    assert "no ATM withdrawals of the last 90 days" in text(response)


def test_a_teller_raises_a_complaint_at_the_branch(client, bank, wdl):
    client.force_login(bank.teller)
    url = reverse("teller:atm-complaint-new")
    assert "No account has that number" in text(client.get(url, {"account": "999"}))
    page = text(client.get(url, {"account": bank.account.number}))
    assert "ATM00001" in page
    # Nothing chosen: refused in words fit for the counter (the teller withdrew nothing), nothing raised.
    refused = client.post(url, {"account": bank.account.number})
    assert refused.status_code == 200 and "Choose the withdrawal that gave no cash." in text(refused)
    assert not DispenseComplaint.objects.exists()
    response = client.post(url, {"account": bank.account.number, "withdrawal": wdl.pk})
    assert response.status_code == 302
    assert DispenseComplaint.objects.get().channel == "branch"


def test_operations_resolve_a_complaint_by_a_reversal(client, bank, wdl):
    complaint = raise_dispense_complaint(actor=bank.user, customer=bank.customer, withdrawal=wdl, channel="internet")
    ops = make_user(Role.OPERATIONS)
    client.force_login(ops)
    listing = text(client.get(reverse("ops:atm-complaints")))
    assert complaint.reference in listing
    url = reverse("ops:atm-complaint", args=[complaint.pk])
    assert "No journal of this terminal" in text(client.get(url))
    bad = client.post(url, {"dispensed": "150", "finding": "EJ"})
    assert "multiples of ₹100" in text(bad)
    response = client.post(url, {"dispensed": "0", "finding": "EJ: notes retracted"})
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.REVERSED
    assert LedgerAccount.objects.get(pk=bank.account.ledger_account_id).balance == 50_000_00


def test_the_wrong_roles_are_refused(client, bank, wdl):
    client.force_login(bank.user)
    assert client.get(reverse("ops:atm-complaints")).status_code == 403
    assert client.get(reverse("teller:atm-complaint-new")).status_code == 403
    client.force_login(make_user(Role.AUDITOR))
    assert client.get(reverse("ops:atm-complaints")).status_code == 403
    client.force_login(bank.teller)
    assert client.get(reverse("customer:atm-complaints")).status_code == 403
