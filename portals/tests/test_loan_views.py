"""The teller's loan screens (application with live eligibility, KFS and its PDF,
attestation, sending for sanction, disbursement, the loan's page) and the
supervisor's sanction request in words."""

import html
import re

import pytest
from django.urls import reverse

from banking.approvals.models import ApprovalRequest
from banking.loans.models import ApplicationStatus, Loan, LoanApplication
from banking.loans.tests.factories import LoanBank
from banking.testing import make_user


def words(response):
    return " ".join(re.sub(r"<[^>]+>", " ", html.unescape(response.content.decode())).split())


@pytest.fixture
def bank(db):
    return LoanBank()


def form_data(bank, **extra):
    data = {"token": "t" * 32, "product": bank_product(bank, "PL"), "deposit_account": bank.account.pk,
            "amount": "5,00,000", "months": "60", "purpose": "Home repairs", "monthly_income": "1,00,000",
            "existing_emis": "10,000", "bureau_score": "760"}
    data.update(extra)
    return data


def bank_product(bank, code):
    from banking.loans.models import LoanProduct

    return LoanProduct.objects.get(code=code).pk


def test_apply_page_shows_the_form(client, bank):
    client.force_login(bank.teller)
    response = client.get(reverse("teller:loan-apply", args=[bank.customer.pk]))
    assert response.status_code == 200
    assert "Apply for a loan" in words(response)
    assert bank.account.number in words(response)


def test_live_eligibility_fragment(client, bank):
    client.force_login(bank.teller)
    url = reverse("teller:loan-apply", args=[bank.customer.pk])
    response = client.post(url, form_data(bank, action="preview"), headers={"HX-Request": "true"})
    assert response.status_code == 200
    text = words(response)
    assert "<html" not in response.content.decode()
    assert "Eligibility: eligible" in text
    assert "₹10,746.95" in text
    response = client.post(url, form_data(bank, action="preview", existing_emis="45,000"),
                           headers={"HX-Request": "true"})
    text = words(response)
    assert "Eligibility: not eligible" in text
    assert "above the product's maximum of 50.00%" in text
    assert not LoanApplication.objects.exists()


def test_zero_income_is_refused_in_words(client, bank):
    client.force_login(bank.teller)
    response = client.post(reverse("teller:loan-apply", args=[bank.customer.pk]),
                           form_data(bank, action="apply", monthly_income="0"))
    assert response.status_code == 200
    assert "income must be above zero" in words(response)
    assert not LoanApplication.objects.exists()


def test_apply_takes_the_application(client, bank):
    client.force_login(bank.teller)
    response = client.post(reverse("teller:loan-apply", args=[bank.customer.pk]), form_data(bank, action="apply"))
    application = LoanApplication.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("teller:loan-application", args=[application.number])


def test_application_page_attest_and_send_for_sanction(client, bank):
    application = bank.apply()
    client.force_login(bank.teller)
    url = reverse("teller:loan-application", args=[application.number])
    page = words(client.get(url))
    assert "Key Facts Statement" in page and "Annual percentage rate" in page
    response = client.post(url, {"action": "sanction", "token": "x"})
    assert "not acknowledged the Key Facts Statement" in words(client.get(response["Location"]))
    response = client.post(url, {"action": "acknowledge", "explained": "on", "statement": "Signed at the counter"})
    assert response.status_code == 302
    client.post(url, {"action": "sanction", "token": "y"})
    application.refresh_from_db()
    assert application.status == ApplicationStatus.PENDING_SANCTION
    assert ApprovalRequest.objects.get(kind="loans.sanction").pk == application.sanction_request_id


def test_kfs_pdf(client, bank):
    application = bank.apply()
    client.force_login(bank.teller)
    response = client.get(reverse("teller:loan-kfs-pdf", args=[application.number]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_supervisor_sees_the_sanction_in_words(client, bank):
    application = bank.acknowledged()
    from banking.loans.actions import request_sanction

    approval = request_sanction(actor=bank.teller, application=application)
    client.force_login(bank.supervisor)
    text = words(client.get(reverse("supervisor:request-detail", args=[approval.pk])))
    assert "Loan sanction" in text
    assert "Meets: FOIR" in text
    assert "APR (with fees)" in text
    assert "KFS handed over and explained" in text


def test_disburse_on_the_loan_page(client, bank):
    loan = bank.sanctioned()
    client.force_login(bank.teller)
    url = reverse("teller:loan-detail", args=[loan.number])
    assert "Disburse" in words(client.get(url))
    response = client.post(url, {"token": "d" * 32, "amount": "5,00,000"})
    assert response.status_code == 302
    page = words(client.get(url))
    assert "Schedule (version 1, disbursement)" in page
    assert "₹10,746.95" in page
    loan = Loan.objects.get()
    assert loan.outstanding == 5_00_000_00


@pytest.mark.parametrize("name", ["loan-apply", "loan-application", "loan-kfs-pdf", "loan-detail"])
def test_customers_and_operations_are_refused(client, bank, name):
    loan = bank.sanctioned()
    args = {"loan-apply": [bank.customer.pk], "loan-detail": [loan.number]}.get(name, [loan.application.number])
    for user in (make_user("customer"), make_user("operations")):
        client.force_login(user)
        assert client.get(reverse(f"teller:{name}", args=args)).status_code == 403
