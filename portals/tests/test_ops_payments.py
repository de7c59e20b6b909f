"""Operations' payment screens: monitor, NEFT cycles, reconciliation, exceptions,
the clearing simulator and the IFSC directory."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from banking.approvals.models import ApprovalRequest
from banking.payments.actions import make_payment
from banking.payments.batches import settle_neft_batch
from banking.payments.models import (
    BankBranch,
    CollectRequest,
    ExceptionKind,
    ExceptionStatus,
    NeftBatch,
    Payment,
    PaymentStatus,
    Rail,
    Reconciliation,
    ReconciliationException,
)
from banking.payments.reconciliation import reconcile_file, upload_settlement_file
from banking.payments.simulator import SETTLEMENT_COLUMNS
from banking.payments.tests.factories import fresh, key, make_bank, payee, vpa
from banking.testing import make_user
from banking.users.roles import Role

HTMX = {"HX-Request": "true"}
HEADER = ",".join(SETTLEMENT_COLUMNS)


@pytest.fixture
def bank(db):
    return make_bank()


@pytest.fixture
def ops(client, bank):
    user = make_user(Role.OPERATIONS)
    client.force_login(user)
    return user


@pytest.fixture
def outsider(db):
    """Operations-side staff without the payments permission: they read, they do not act."""
    return make_user(Role.COMPLIANCE)


@pytest.fixture
def auditor(db):
    return make_user(Role.AUDITOR)


def neft(account, amount=1_000_00, **fields):
    return make_payment(actor=None, customer=account.customer, debit_account=account, amount=amount,
                        idempotency_key=key(), rail=Rail.NEFT, payee=payee(account, **fields))


def refused(client, user, url, method="get", data=None):
    client.force_login(user)
    return getattr(client, method)(url, data or {}).status_code == 403


def reads(client, user, url):
    client.force_login(user)
    return client.get(url).status_code == 200


def test_monitor_lists_and_filters_payments_and_polls_in_the_background(client, bank, ops, outsider):
    account = bank.account(balance=50_000_00)
    sent = neft(account, 1_234_00)
    url = reverse("ops:payment-monitor")
    page = client.get(url)
    assert page.status_code == 200 and sent.number in page.text
    assert 'hx-trigger="every 5s"' in page.text and "X-CBS-Background" in page.text
    fragment = client.get(url, {"rail": "IMPS"}, headers={**HTMX, "X-CBS-Background": "1"})
    assert 'id="payment-results"' in fragment.text and "<html" not in fragment.text
    assert sent.number not in fragment.text and "0 payments" in fragment.text
    by_amount = client.get(url, {"amount_min": "1000", "amount_max": "1500", "status": "sent"}, headers=HTMX)
    assert sent.number in by_amount.text
    assert reads(client, outsider, url)


def test_payment_detail_shows_its_events(client, bank, ops, outsider):
    payment = neft(bank.account(balance=50_000_00))
    url = reverse("ops:payment-detail", args=[payment.pk])
    page = client.get(url)
    assert page.status_code == 200 and payment.reference in page.text
    assert "Debited" in page.text and "Sent" in page.text
    assert client.get(reverse("ops:payment-detail", args=[999999])).status_code == 404
    assert reads(client, outsider, url)


def test_running_the_neft_batch_settles_and_reconciles(client, bank, ops, outsider):
    account = bank.account(balance=50_000_00)
    neft(account, 1_000_00)
    returned = neft(account, 2_000_00, account_number="12345678000")
    page = client.get(reverse("ops:neft-batches"))
    assert "Run the NEFT batch now" in page.text and "2 payments waiting" in page.text
    assert "Only the operations team" not in page.text
    response = client.post(reverse("ops:neft-batch-run"), follow=True)
    batch = NeftBatch.objects.get()
    assert response.redirect_chain[-1][0] == reverse("ops:neft-batch-detail", args=[batch.pk])
    assert "1 settled" in response.text and "1 returned" in response.text
    assert "2 matched, 0 exceptions" in response.text
    assert fresh(account).balance == 49_000_00
    assert Payment.objects.get(pk=returned.pk).status == PaymentStatus.REVERSED
    assert Reconciliation.objects.get().file.batch == batch
    again = client.post(reverse("ops:neft-batch-run"), follow=True)
    assert "No NEFT payment is waiting" in again.text and NeftBatch.objects.count() == 1
    assert reads(client, outsider, reverse("ops:neft-batches"))
    assert refused(client, outsider, reverse("ops:neft-batch-run"), "post")
    assert NeftBatch.objects.count() == 1


def test_batch_detail_and_its_settlement_file(client, bank, ops, outsider):
    neft(bank.account(balance=50_000_00))
    batch = settle_neft_batch(actor=ops)
    page = client.get(reverse("ops:neft-batch-detail", args=[batch.pk]))
    assert page.status_code == 200 and batch.name in page.text and "Download the settlement file" in page.text
    download = client.get(reverse("ops:settlement-file", args=[batch.settlement_file.pk]))
    assert download["Content-Type"].startswith("text/csv") and download.content.decode().startswith(HEADER)
    assert reads(client, outsider, reverse("ops:neft-batch-detail", args=[batch.pk]))
    assert reads(client, outsider, reverse("ops:settlement-file", args=[batch.settlement_file.pk]))


def upload(client, name, text):
    return client.post(reverse("ops:reconciliations"), {"file": SimpleUploadedFile(name, text.encode())}, follow=True)


def test_uploading_a_settlement_file_reconciles_it_and_reports_bad_lines(client, bank, ops, outsider):
    payment = neft(bank.account(balance=50_000_00), 1_500_00)
    batch = settle_neft_batch(actor=ops)
    line = batch.settlement_file.content.strip().split("\n")[1].replace("1500.00", "1600.00")
    response = upload(client, "ours.csv", f"{HEADER}\n{line}\nshort,line\n")
    reconciliation = Reconciliation.objects.get()
    assert response.redirect_chain[-1][0] == reverse("ops:reconciliation-detail", args=[reconciliation.pk])
    assert "Line 3: has 2 columns" in response.text and payment.reference in response.text
    assert "Amount mismatch" in response.text
    assert client.get(reverse("ops:reconciliations")).status_code == 200
    refusal = upload(client, "ours.txt", "anything")
    assert "not a CSV file" in refusal.text and Reconciliation.objects.count() == 1
    no_header = upload(client, "x.csv", line + "\n")
    assert "does not start with the settlement header row" in no_header.text
    assert reads(client, outsider, reverse("ops:reconciliations"))
    assert reads(client, outsider, reverse("ops:reconciliation-detail", args=[reconciliation.pk]))
    assert refused(client, outsider, reverse("ops:reconciliations"), "post",
                   {"file": SimpleUploadedFile("ours.csv", f"{HEADER}\n{line}\n".encode())})
    assert Reconciliation.objects.count() == 1


@pytest.fixture
def mismatch(bank, ops):
    payment = neft(bank.account(balance=50_000_00), 1_500_00)
    batch = settle_neft_batch(actor=ops)
    line = batch.settlement_file.content.strip().split("\n")[1].replace("SETTLED", "RETURNED")
    received = upload_settlement_file(actor=ops, name="returned.csv", text=f"{HEADER}\n{line}\n")
    reconcile_file(actor=ops, settlement_file=received)
    return payment, ReconciliationException.objects.get()


def test_exceptions_queue_filters_and_sends_a_resolution_for_approval(client, ops, outsider, mismatch):
    payment, item = mismatch
    url = reverse("ops:recon-exceptions")
    page = client.get(url)
    assert item.reference in page.text and "Status mismatch" in page.text and "Send for approval" in page.text
    other_kind = client.get(url, {"kind": ExceptionKind.MISSING_OURS}, headers=HTMX)
    assert 'id="exception-results"' in other_kind.text and "<html" not in other_kind.text
    assert item.reference not in other_kind.text

    resolve = reverse("ops:recon-exception-resolve", args=[item.pk])
    row = client.post(resolve, {"resolution": "return", "reason": "Beneficiary bank returned it"}, headers=HTMX)
    assert f'id="exception-{item.pk}"' in row.text and "Awaiting approval" in row.text and "<html" not in row.text
    approval = ApprovalRequest.objects.get(kind="payments.resolve_exception")
    assert approval.payload == {"exception_id": item.pk, "resolution": "return",
                                "reason": "Beneficiary bank returned it"}
    item.refresh_from_db()
    assert item.status == ExceptionStatus.PENDING
    assert "Awaiting approval" in client.get(url, {"status": "pending"}).text
    assert reads(client, outsider, url)
    assert refused(client, outsider, resolve, "post")


def test_a_resolution_that_does_not_fit_is_refused_in_place(client, ops, mismatch):
    _, item = mismatch
    resolve = reverse("ops:recon-exception-resolve", args=[item.pk])
    row = client.post(resolve, {"resolution": "force_settle", "reason": "try"}, headers=HTMX)
    assert "only a sent payment can be force-settled" in row.text
    blank = client.post(resolve, {"resolution": "return", "reason": ""}, follow=True)
    assert "Give the reason" in blank.text
    assert not ApprovalRequest.objects.filter(kind="payments.resolve_exception").exists()


def test_the_simulator_credits_an_inbound_payment_and_sends_a_collect_request(client, bank, ops, outsider):
    account = bank.account(balance=0)
    address = vpa(account).address
    url = reverse("ops:clearing-simulator")
    assert "Is a merchant" in client.get(url).text
    response = client.post(url, {"action": "inbound", "inbound-rail": "IMPS", "inbound-destination": account.number,
                                 "inbound-amount": "2,500.75", "inbound-remitter": "Anil Mehta"}, follow=True)
    inbound = Payment.objects.get(direction="inward")
    assert response.redirect_chain[-1][0] == reverse("ops:payment-detail", args=[inbound.pk])
    assert fresh(account).balance == 2_500_75 and inbound.status == PaymentStatus.SETTLED
    by_vpa = client.post(url, {"action": "inbound", "inbound-rail": "UPI", "inbound-destination": address,
                               "inbound-amount": "10", "inbound-remitter": "Anil Mehta"})
    assert by_vpa.status_code == 302 and fresh(account).balance == 2_510_75
    collect = {"action": "collect", "collect-payer_vpa": address, "collect-merchant_name": "Fresh Mart",
               "collect-merchant_vpa": "freshmart@okaxis", "collect-amount": "499", "collect-note": "Groceries"}
    person = client.post(url, collect)
    assert "only merchants may ask for money" in person.text and not CollectRequest.objects.exists()
    sent = client.post(url, {**collect, "collect-is_merchant": "on"}, follow=True)
    assert "Fresh Mart asks" in sent.text and CollectRequest.objects.get().amount == 499_00
    bad = client.post(url, {"action": "inbound", "inbound-rail": "NEFT", "inbound-destination": address,
                            "inbound-amount": "0", "inbound-remitter": "X"})
    assert "arrives by UPI" in bad.text and "above zero" in bad.text
    assert refused(client, outsider, url)


def test_ifsc_directory_search_and_upload_reports_problems_line_by_line(client, ops, outsider):
    url = reverse("ops:ifsc-directory")
    found = client.get(url, {"q": "koramangala"}, headers=HTMX)
    assert "CBSB0000002" in found.text and "SBIN0000300" not in found.text and "<html" not in found.text
    assert client.get(url, {"q": "kora\x00mangala"}, headers=HTMX).status_code == 400  # portals.hostile
    text = ("ifsc,bank,branch,city\nYESB0000001,Yes Bank,Fort,Mumbai\nBAD1,Bank,Branch,City\nYESB0000002,,Fort,X\n"
            "YESB0000003,Yes\x00Bank,Fort,Mumbai\n")
    response = client.post(url, {"file": SimpleUploadedFile("ifsc.csv", text.encode())})
    assert "1 added" in response.text and "Line 3:" in response.text and "Line 4:" in response.text
    assert "Line 5:" in response.text and "NUL character" in response.text
    assert BankBranch.objects.filter(ifsc="YESB0000001").exists()
    wrong = client.post(url, {"file": SimpleUploadedFile("ifsc.xlsx", b"PK")})
    assert "not a CSV file" in wrong.text
    assert reads(client, outsider, url)
    again = "ifsc,bank,branch,city\nYESB0000009,Yes Bank,Fort,Mumbai\n"
    assert refused(client, outsider, url, "post", {"file": SimpleUploadedFile("ifsc.csv", again.encode())})
    assert not BankBranch.objects.filter(ifsc="YESB0000009").exists()


def test_an_auditor_reads_the_payment_screens_without_the_controls_and_cannot_act(client, bank, auditor, mismatch):
    payment, item = mismatch
    neft(bank.account(balance=50_000_00))
    client.force_login(auditor)
    monitor = client.get(reverse("ops:payment-monitor"))
    assert monitor.status_code == 200 and payment.number in monitor.text
    assert "Clearing simulator" not in monitor.text
    exceptions = client.get(reverse("ops:recon-exceptions"))
    assert item.reference in exceptions.text and "Status mismatch" in exceptions.text
    assert "Send for approval" not in exceptions.text and 'name="resolution"' not in exceptions.text
    assert "Only the operations team can send a resolution." in exceptions.text
    batches = client.get(reverse("ops:neft-batches"))
    assert "1 payment waiting" in batches.text and "Run the NEFT batch now" not in batches.text
    assert "Only the operations team can run a cycle." in batches.text
    reconciliations = client.get(reverse("ops:reconciliations"))
    assert "Upload and reconcile" not in reconciliations.text and 'type="file"' not in reconciliations.text
    assert 'type="file"' not in client.get(reverse("ops:ifsc-directory")).text

    resolve = reverse("ops:recon-exception-resolve", args=[item.pk])
    assert client.post(resolve, {"resolution": "return", "reason": "Returned"}).status_code == 403
    assert client.post(reverse("ops:neft-batch-run")).status_code == 403
    upload = {"file": SimpleUploadedFile("again.csv", f"{HEADER}\n".encode())}
    assert client.post(reverse("ops:reconciliations"), upload).status_code == 403
    assert client.get(reverse("ops:clearing-simulator")).status_code == 403
    item.refresh_from_db()
    assert item.status == ExceptionStatus.OPEN
    assert not ApprovalRequest.objects.filter(kind="payments.resolve_exception").exists()
    assert NeftBatch.objects.count() == 1 and Reconciliation.objects.count() == 1
