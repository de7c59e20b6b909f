"""Internet banking's loan screens: my loans, the loan's page with its schedule and
its documents, and applying online with live eligibility, the KFS accepted with
the authenticator code, sanction and the money paid in."""

import csv
import html
import io
import re

import pytest
from django.urls import reverse

from banking.approvals.actions import approve_request
from banking.approvals.models import ApprovalRequest
from banking.loans.models import ApplicationStatus, Loan, LoanApplication
from banking.loans.tests.factories import LoanBank, key
from banking.testing import give_totp, make_user, totp_code
from banking.users.roles import Role


def words(response):
    return " ".join(re.sub(r"<[^>]+>", " ", html.unescape(response.content.decode())).split())


@pytest.fixture(autouse=True)
def good_score(monkeypatch):
    """The credit bureau is outside the bank: its answer is fixed here."""
    monkeypatch.setattr("banking.loans.bureau.score_for", lambda customer: 780)


@pytest.fixture
def bank(db):
    bank = LoanBank()
    bank.user = make_user(Role.CUSTOMER)
    bank.user.totp_secret = give_totp(bank.user)
    bank.customer.user = bank.user
    bank.customer.save(update_fields=["user"])
    return bank


def disbursed(bank):
    from banking.loans.actions import disburse_loan

    loan = bank.sanctioned()
    disburse_loan(actor=bank.teller, loan=loan, amount=loan.undisbursed, idempotency_key=key())
    loan.refresh_from_db()
    return loan


def apply_form(bank, **extra):
    data = {"token": key(), "deposit_account": bank.account.pk, "amount": "5,00,000", "months": "60",
            "purpose": "Wedding", "monthly_income": "1,00,000", "existing_emis": "10,000"}
    data.update(extra)
    return data


def test_my_loans_lists_the_loan_with_its_next_instalment(client, bank):
    loan = disbursed(bank)
    client.force_login(bank.user)
    text = words(client.get(reverse("customer:loans")))
    assert loan.number in text and "₹5,00,000.00" in text
    assert "₹10,746.95" in text or "Next instalment" in text


def test_the_loans_page_shows_the_schedule(client, bank):
    loan = disbursed(bank)
    client.force_login(bank.user)
    response = client.get(reverse("customer:loan", args=[loan.number]))
    assert response.status_code == 200
    text = words(response)
    assert "Repayment schedule" in text and "₹10,746.95" in text
    assert text.count("Paid") >= 1


def test_another_customers_loan_is_not_found(client, bank):
    loan = disbursed(bank)
    stranger = make_user(Role.CUSTOMER)
    from banking.deposits.tests.factories import make_customer

    make_customer(branch=bank.branch, created_by=bank.teller, user=stranger)
    client.force_login(stranger)
    for name in ("customer:loan", "customer:loan-schedule-csv", "customer:loan-schedule-pdf",
                 "customer:loan-statement-csv", "customer:loan-statement-pdf"):
        assert client.get(reverse(name, args=[loan.number])).status_code == 404
    assert client.get(reverse("customer:loan-application", args=[loan.application.number])).status_code == 404
    assert loan.number not in words(client.get(reverse("customer:loans")))


def test_staff_are_refused_the_customers_loan_screens(client, bank):
    client.force_login(bank.teller)
    assert client.get(reverse("customer:loans")).status_code == 403
    assert client.get(reverse("customer:loan-apply")).status_code == 403


def test_schedule_csv_sums_to_the_loan(client, bank):
    loan = disbursed(bank)
    client.force_login(bank.user)
    response = client.get(reverse("customer:loan-schedule-csv", args=[loan.number]))
    assert response["Content-Disposition"] == f'attachment; filename="schedule-{loan.number}.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    instalments = [row for row in rows if row and row[0].isdigit()]
    assert len(instalments) == 60
    assert instalments[0][4] == "10746.95"
    from decimal import Decimal

    assert sum(Decimal(row[2]) for row in instalments) == Decimal("500000.00")


def test_schedule_and_statement_pdfs(client, bank):
    loan = disbursed(bank)
    client.force_login(bank.user)
    for name in ("customer:loan-schedule-pdf", "customer:loan-statement-pdf"):
        response = client.get(reverse(name, args=[loan.number]))
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF")


def test_statement_csv_shows_the_disbursement_and_the_fee(client, bank):
    loan = disbursed(bank)
    client.force_login(bank.user)
    response = client.get(reverse("customer:loan-statement-csv", args=[loan.number]))
    text = b"".join(response.streaming_content).decode()
    assert f"Loan {loan.number} disbursement" in text
    assert "500000.00" in text
    assert "Processing fee and GST" in text and "5000.00" in text and "900.00" in text


def test_live_eligibility_fragment(client, bank):
    client.force_login(bank.user)
    url = reverse("customer:loan-apply")
    response = client.post(url, apply_form(bank, action="preview"), headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "<html" not in response.content.decode()
    text = words(response)
    assert "You are eligible" in text and "₹10,746.95" in text and "credit bureau score: 780" in text
    text = words(client.post(url, apply_form(bank, action="preview", existing_emis="45,000"),
                             headers={"HX-Request": "true"}))
    assert "not eligible" in text and "above the product's maximum of 50.00%" in text
    assert not LoanApplication.objects.exists()


@pytest.mark.parametrize("field,value,words_", [
    ("monthly_income", "0", "income must be above zero"),
    ("amount", "abc", "amount"),
    ("months", "٦٠", "plain digits"),
    ("amount", "99,00,000", "outside that"),
])
def test_bad_input_is_refused_in_words(client, bank, field, value, words_):
    client.force_login(bank.user)
    response = client.post(reverse("customer:loan-apply"), apply_form(bank, action="apply", **{field: value}))
    assert response.status_code == 200
    assert words_ in words(response)
    assert not LoanApplication.objects.exists()


def test_apply_accept_with_the_code_sanction_and_money_in(client, bank):
    client.force_login(bank.user)
    response = client.post(reverse("customer:loan-apply"), apply_form(bank, action="apply"))
    application = LoanApplication.objects.get()
    url = reverse("customer:loan-application", args=[application.number])
    assert response["Location"] == url
    page = words(client.get(url))
    assert "Key Facts Statement" in page and "Annual percentage rate" in page

    # A wrong code accepts nothing.
    response = client.post(url, {"token": key(), "accept": "on", "code": "000000"})
    assert response.status_code == 400
    assert "not right" in words(response)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPLIED

    response = client.post(url, {"token": key(), "accept": "on", "code": totp_code(bank.user.totp_secret)})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == ApplicationStatus.PENDING_SANCTION
    fragment = client.get(url, headers={"HX-Request": "true"})
    assert "Waiting for sanction" in words(fragment) and "<html" not in fragment.content.decode()

    before = bank.account.ledger_account.balance
    approve_request(actor=bank.supervisor, request_id=ApprovalRequest.objects.get(kind="loans.sanction").pk)
    text = words(client.get(url, headers={"HX-Request": "true"}))
    loan = Loan.objects.get()
    assert f"₹5,00,000.00 paid into your account {bank.account.number}" in text
    bank.account.ledger_account.refresh_from_db()
    assert bank.account.ledger_account.balance == before + 5_00_000_00 - 5_000_00 - 900_00
    assert loan.number in words(client.get(reverse("customer:loans")))


def test_accepting_needs_the_tick_and_the_code(client, bank):
    client.force_login(bank.user)
    client.post(reverse("customer:loan-apply"), apply_form(bank, action="apply"))
    application = LoanApplication.objects.get()
    url = reverse("customer:loan-application", args=[application.number])
    text = words(client.post(url, {"token": key(), "code": ""}))
    assert "Tick the box" in text and "Enter the code from your authenticator app" in text
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPLIED


def test_a_branch_application_is_shown_but_not_accepted_online(client, bank):
    application = bank.apply()
    client.force_login(bank.user)
    url = reverse("customer:loan-application", args=[application.number])
    assert "acknowledge its Key Facts Statement there" in words(client.get(url))
    response = client.post(url, {"token": key(), "accept": "on", "code": totp_code(bank.user.totp_secret)})
    assert "at the counter" in words(response)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPLIED


def test_kfs_pdf_of_my_application(client, bank):
    application = bank.apply()
    client.force_login(bank.user)
    response = client.get(reverse("customer:loan-kfs-pdf", args=[application.number]))
    assert response.content.startswith(b"%PDF")


# -- paying and part-prepaying ------------------------------------------------------------


def due_day(loan):
    from banking.ledger.models import BusinessDate

    first = loan.current_schedule.instalments.order_by("number").first()
    BusinessDate.objects.update_or_create(pk=1, defaults={"date": first.due_date})
    return first


def test_pay_the_first_emi_with_the_code(client, bank):
    loan = disbursed(bank)
    first = due_day(loan)
    client.force_login(bank.user)
    url = reverse("customer:loan-pay", args=[loan.number])
    page = words(client.get(url))
    assert "Due now" in page and "₹10,746.95" in page
    bank.account.ledger_account.refresh_from_db()
    before = bank.account.ledger_account.balance
    data = {"token": key(), "account": bank.account.pk, "amount": "10,746.95", "code": "000000"}
    response = client.post(url, data)
    assert response.status_code == 400 and "not right" in words(response)
    assert not loan.repayments.exists()
    data["code"] = totp_code(bank.user.totp_secret)
    response = client.post(url, data)
    assert response["Location"] == reverse("customer:loan", args=[loan.number])
    repayment = loan.repayments.get()
    assert repayment.amount == 10_746_95
    first.refresh_from_db()
    assert first.is_paid
    bank.account.ledger_account.refresh_from_db()
    assert bank.account.ledger_account.balance == before - 10_746_95
    text = words(client.get(response["Location"]))
    assert f"receipt {repayment.number}" in text and "Repayments" in text
    # Sent again (a double-click): the same receipt, paid once.
    client.post(url, data)
    assert loan.repayments.count() == 1


def test_nothing_due_says_when_the_next_instalment_is(client, bank):
    loan = disbursed(bank)
    client.force_login(bank.user)
    url = reverse("customer:loan-pay", args=[loan.number])
    assert "Nothing is due today" in words(client.get(url))
    response = client.post(url, {"token": key(), "account": bank.account.pk, "amount": "10,746.95",
                                 "code": totp_code(bank.user.totp_secret)})
    assert "Nothing is due on loan" in words(response)
    assert not loan.repayments.exists()


def test_part_prepay_reducing_the_emi_shows_the_new_schedule_first(client, bank):
    loan = disbursed(bank)
    client.force_login(bank.user)
    url = reverse("customer:loan-prepay", args=[loan.number])
    data = {"token": key(), "account": bank.account.pk, "principal": "1,00,000", "choice": "emi"}
    response = client.post(url, {**data, "step": "preview"})
    text = words(response)
    assert "Check your new schedule" in text and "60 → 60" in text
    assert not loan.repayments.exists()
    response = client.post(url, {**data, "step": "confirm", "code": totp_code(bank.user.totp_secret)})
    assert response.status_code == 302
    loan.refresh_from_db()
    schedule = loan.current_schedule
    assert schedule.reason == "prepayment" and schedule.version == 2
    assert loan.outstanding == 4_00_000_00
    assert loan.repayments.get().choice == "emi"


def test_part_prepay_reducing_the_tenure(client, bank):
    loan = disbursed(bank)
    client.force_login(bank.user)
    url = reverse("customer:loan-prepay", args=[loan.number])
    data = {"token": key(), "account": bank.account.pk, "principal": "1,00,000", "choice": "tenure"}
    text = words(client.post(url, {**data, "step": "preview"}))
    assert "₹10,746.95 → ₹10,746.95" in text and "60 → 60" not in text


def test_a_prepayment_of_the_whole_loan_is_refused_in_words(client, bank):
    loan = disbursed(bank)
    client.force_login(bank.user)
    response = client.post(reverse("customer:loan-prepay", args=[loan.number]),
                           {"token": key(), "account": bank.account.pk, "principal": "6,00,000", "choice": "emi",
                            "step": "preview"})
    assert response.status_code == 400 and "foreclose the loan instead" in words(response)
    assert not loan.repayments.exists()


def test_another_customer_cannot_pay_or_prepay_my_loan(client, bank):
    loan = disbursed(bank)
    stranger = make_user(Role.CUSTOMER)
    from banking.deposits.tests.factories import make_customer

    make_customer(branch=bank.branch, created_by=bank.teller, user=stranger)
    client.force_login(stranger)
    assert client.get(reverse("customer:loan-pay", args=[loan.number])).status_code == 404
    assert client.post(reverse("customer:loan-prepay", args=[loan.number]), {}).status_code == 404


def test_no_dues_certificate_once_the_loan_is_closed(client, bank):
    from banking.loans import servicing

    loan = disbursed(bank)
    client.force_login(bank.user)
    url = reverse("customer:loan-no-dues", args=[loan.number])
    response = client.get(url)
    assert response.status_code == 200 and "is not closed" in words(response)
    quote = servicing.foreclosure_quote(loan)
    bank.fund(bank.account, quote.total)
    servicing.foreclose(actor=bank.user, loan=loan, amount=quote.total, source=servicing.ACCOUNT,
                        idempotency_key=key(), account=bank.account, code=totp_code(bank.user.totp_secret))
    loan.refresh_from_db()
    assert loan.status == "closed"
    assert "No-dues certificate (PDF)" in words(client.get(reverse("customer:loan", args=[loan.number])))
    response = client.get(url)
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")
    assert response["Content-Disposition"] == f'attachment; filename="no-dues-{loan.number}.pdf"'


def test_a_rejection_and_its_reason_reach_the_customers_pages(client, bank):
    from banking.approvals.actions import reject_request
    from banking.loans import online

    application = online.apply_online(actor=bank.user, deposit_account=bank.account, amount=5_00_000_00, months=60,
                                      purpose="Wedding", monthly_income=1_00_000_00, idempotency_key=key())
    approval = online.acknowledge_kfs_online(actor=bank.user, application=application)
    client.force_login(bank.user)
    url = reverse("customer:loan-application", args=[application.number])
    assert 'hx-trigger="every 3s"' in client.get(url).content.decode()  # followed live while it waits
    reject_request(actor=bank.supervisor, request_id=approval.pk, reason="Income could not be verified")
    fragment = client.get(url, headers={"HX-Request": "true"})
    assert "Not sanctioned: Income could not be verified" in words(fragment)
    assert 'hx-trigger="every 3s"' not in fragment.content.decode()  # decided: the page stops asking
    assert "Income could not be verified" in words(client.get(reverse("customer:loans")))
