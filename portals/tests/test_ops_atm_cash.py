"""Operations' ATM cash screens: registering a terminal, replenishing it, reconciling its journal."""

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from banking.approvals.actions import approve_request
from banking.cards.cash_models import JournalReconciliation, Replenishment, TerminalRegistration
from banking.cards.models import Terminal
from banking.cards.switch import handle_message
from banking.cards.tests.factories import CardBank, counts, withdrawal
from banking.teller.actions import fund_vault
from banking.teller.denominations import Denominations
from banking.testing import make_user
from banking.users.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def bank():
    bank = CardBank()
    fund_vault(actor=bank.supervisor, branch=bank.branch, counts=Denominations(n500=500, n200=500, n100=500),
               idempotency_key=uuid.uuid4().hex)
    bank.atm = bank.terminal("CBSA0092", n500=0, n200=6, n100=12)
    return bank


@pytest.fixture
def ops(client, bank):
    user = make_user(Role.OPERATIONS)
    client.force_login(user)
    return user


def token():
    return uuid.uuid4().hex


def test_operations_ask_for_a_terminal_and_see_its_key_once_after_approval(client, bank, ops):
    page = client.get(reverse("ops:atm-terminal-new"))
    assert page.status_code == 200
    answer = client.post(reverse("ops:atm-terminal-new"), {
        "branch": bank.branch.pk, "terminal_id": "cbsa0093", "location": "Marine Drive", "idempotency_key": token()},
        follow=True)
    assert "waiting for a supervisor&#x27;s approval" in answer.content.decode()
    assert not Terminal.objects.filter(terminal_id="CBSA0093").exists()
    refused = client.post(reverse("ops:atm-terminal-new"), {
        "branch": bank.branch.pk, "terminal_id": "ATM 1", "location": "x", "idempotency_key": token()})
    assert "8 capital letters or digits" in refused.content.decode()
    from banking.approvals.models import ApprovalRequest

    approve_request(actor=bank.supervisor, request_id=ApprovalRequest.objects.get(kind="cards.register_terminal").pk)
    registration = TerminalRegistration.objects.get()
    key = registration.terminal.key
    assert key not in client.get(reverse("ops:atm-terminal-new")).content.decode()
    shown = client.post(reverse("ops:atm-terminal-key", args=[registration.pk]))
    assert key in shown.content.decode() and shown["Cache-Control"].startswith("max-age=0")
    again = client.post(reverse("ops:atm-terminal-key", args=[registration.pk]), follow=True)
    assert key not in again.content.decode() and "shown once only" in again.content.decode()


def test_operations_send_a_replenishment_and_nothing_moves_until_approved(client, bank, ops):
    url = reverse("ops:atm-replenish", args=[bank.atm.terminal_id])
    page = client.get(url)
    assert page.status_code == 200 and "Left: ₹500 notes" in page.content.decode()
    form = {"idempotency_key": token(), "left_500": "0", "left_200": "5", "left_100": "12", "load_500": "400",
            "load_200": "300", "load_100": "500"}
    answer = client.post(url, form, follow=True)
    text = answer.content.decode()
    assert "waiting for a supervisor" in text and "short by ₹200.00: flagged" in text
    assert client.post(url, form).status_code == 302  # the same form again asks nothing more
    replenishment = Replenishment.objects.get()
    assert counts(bank.atm) == {500: 0, 200: 6, 100: 12}
    approve_request(actor=bank.supervisor, request_id=replenishment.approval_id)
    assert counts(bank.atm) == {500: 400, 200: 305, 100: 512}
    assert "Flagged: short by ₹200.00" in client.get(url).content.decode()


def test_bad_counts_are_refused_in_words(client, bank, ops):
    url = reverse("ops:atm-replenish", args=[bank.atm.terminal_id])
    answer = client.post(url, {"idempotency_key": token(), "left_500": "-1", "load_500": "x"})
    text = answer.content.decode()
    assert "A count cannot be negative." in text and "Enter a whole number in plain digits" in text
    answer = client.post(url, {"idempotency_key": token(), "load_500": "999"})
    assert "The vault does not hold" in answer.content.decode()
    assert not Replenishment.objects.exists()
    assert client.get(reverse("ops:atm-replenish", args=["NOSUCH01"])).status_code == 404


def test_a_journal_upload_finds_an_exception_and_its_resolution_goes_to_a_checker(client, bank, ops):
    atm = bank.terminal("CBSA0094")
    handle_message(terminal=atm, message=withdrawal(atm, bank.number, "1000.00", stan="000002"))
    journal = b"STAN,TIME,N500,N200,N100,RESULT\n000002,2026-12-07T10:15:00+05:30,0,0,0,NOT_DISPENSED\n"
    answer = client.post(reverse("ops:atm-reconciliations"), {
        "terminal": atm.terminal_id, "file": SimpleUploadedFile("EJ.csv", journal, "text/csv")}, follow=True)
    text = answer.content.decode()
    assert "0 matched, 1 exception" in text and "Approved but not dispensed" in text
    item = JournalReconciliation.objects.get().items.get()
    answer = client.post(reverse("ops:atm-journal-resolve", args=[item.pk]), {
        "resolution": "reverse", "reason": "No notes presented", "idempotency_key": token()}, follow=True)
    assert "waiting for a second person" in answer.content.decode()
    item.refresh_from_db()
    assert item.status == "pending"


def test_a_bad_journal_is_refused_on_the_page_and_nothing_is_kept(client, bank, ops):
    answer = client.post(reverse("ops:atm-reconciliations"), {
        "terminal": bank.atm.terminal_id, "file": SimpleUploadedFile("EJ.csv", b"STAN,TIME\n1,2\n", "text/csv")})
    assert "does not start with the journal" in answer.content.decode()
    assert not JournalReconciliation.objects.exists()


@pytest.mark.parametrize("role", [Role.COMPLIANCE, Role.TELLER, Role.SUPERVISOR, Role.CUSTOMER])
def test_other_roles_are_refused(client, bank, role):
    client.force_login(make_user(role, branch=bank.branch))
    for url in (reverse("ops:atm-terminal-new"), reverse("ops:atm-replenish", args=[bank.atm.terminal_id]),
                reverse("ops:atm-reconciliations")):
        assert client.get(url).status_code == 403
