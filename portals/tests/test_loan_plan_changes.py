"""Changing a loan's plan from its page: the teller's part-prepayment in cash (the
new schedule shown before the cash is taken) and the borrower's choice at a
floating-rate reset, at the counter and online."""

import datetime
import html
import re

import pytest
from django.urls import reverse

from banking.deposits.tests.factories import make_customer
from banking.ledger.models import LedgerAccount
from banking.loans.models import RateResetChoice, Repayment, ScheduleReason
from banking.loans.tests.factories import key
from banking.loans.tests.test_resets import home_loan  # noqa: F401 a fixture
from banking.loans.tests.test_servicing import borrower_login
from banking.teller.tests.factories import teller_with_open_till
from banking.testing import make_user, totp_code
from banking.users.roles import Role

from . import test_teller_loan_servicing as servicing_screens

# The loan and the teller with an open till that the servicing screens' tests use.
bank, loan, cashier = servicing_screens.bank, servicing_screens.loan, servicing_screens.cashier

FIRST_DUE = datetime.date(2026, 2, 5)


def words(response):
    return " ".join(re.sub(r"<[^>]+>", " ", html.unescape(response.content.decode())).split())


def terms(principal, choice, **extra):
    return {"principal": principal, "choice": choice, **extra}


# The EMI due 5 Feb (₹10,746.95) is paid first; ₹1,00,000 ahead bears the personal
# loan's 4% prepayment charge (₹4,000) and GST on it (₹720): ₹1,15,466.95, ₹1,15,467 in cash.
TOTAL = 1_15_466_95


def test_teller_part_prepayment_shows_the_new_schedule_then_takes_the_cash(client, bank, loan, cashier):
    client.force_login(cashier)
    url = reverse("teller:loan-prepay", args=[loan.number])
    assert "Part-prepayment" in words(client.get(reverse("teller:loan-detail", args=[loan.number])))
    page = client.get(url)
    assert page.status_code == 200 and "Show the new schedule" in words(page)
    preview = words(client.post(url, terms("100000", "emi", step="preview")))
    assert "Total ₹1,15,466.95" in preview and "Instalments left 59 → 59" in preview
    assert "Confirm and take ₹1,15,467.00" in preview
    assert not Repayment.objects.exists()
    response = client.post(url, terms("100000", "emi", step="confirm", idempotency_key=key(), amount="115467",
                                      n500="230", coins="467"))
    assert response.status_code == 302, words(response)
    repayment = Repayment.objects.get(loan=loan)
    assert (repayment.kind, repayment.choice, repayment.amount) == ("prepayment", "emi", 1_15_467_00)
    assert repayment.schedule.reason == ScheduleReason.PREPAYMENT
    loan.refresh_from_db()
    rows = loan.current_schedule.instalments.all()
    # The loan's sub-ledger is the principal its schedule has not been paid.
    assert loan.outstanding == sum(row.principal - row.principal_paid for row in rows) == 5_00_000_00 - 6_288_05 \
        - 1_00_000_00
    assert LedgerAccount.objects.get(pk=loan.ledger_account_id).balance == loan.outstanding


def test_teller_part_prepayment_by_tenure_keeps_the_emi(client, bank, loan, cashier):
    client.force_login(cashier)
    url = reverse("teller:loan-prepay", args=[loan.number])
    preview = words(client.post(url, terms("100000", "tenure", step="preview")))
    assert "EMI ₹10,746.95 → ₹10,746.95" in preview
    count = re.search(r"Instalments left 59 → (\d+)", preview)
    assert count and int(count.group(1)) < 59


@pytest.mark.parametrize(("data", "message"), [
    (terms("", "emi"), "Enter the principal to prepay."),
    (terms("100000", "both"), "Choose whether to reduce the EMI or the tenure."),
    (terms("-5", "emi"), ""),
    (terms("600000", "emi"), "foreclose the loan instead"),
])
def test_teller_part_prepayment_refuses_bad_terms_in_words(client, bank, loan, cashier, data, message):
    client.force_login(cashier)
    response = client.post(reverse("teller:loan-prepay", args=[loan.number]), {**data, "step": "preview"})
    assert response.status_code == 400 and message in words(response)
    assert not Repayment.objects.exists()


def test_teller_part_prepayment_with_the_wrong_cash_writes_nothing(client, bank, loan, cashier):
    client.force_login(cashier)
    response = client.post(reverse("teller:loan-prepay", args=[loan.number]),
                           terms("100000", "emi", step="confirm", idempotency_key=key(), amount="100000",
                                 n500="200", coins="0"))
    assert response.status_code == 400 and "The prepayment comes to ₹1,15,466.95" in words(response)
    assert not Repayment.objects.exists() and loan.schedules.count() == 1


def test_a_customer_cannot_open_the_tellers_loan_screens(client, bank, loan):
    customer = make_user(Role.CUSTOMER)
    client.force_login(customer)
    for name in ("teller:loan-prepay", "teller:loan-reset-choice"):
        assert client.get(reverse(name, args=[loan.number])).status_code == 403


def test_teller_records_the_borrowers_reset_choice(client, bank, home_loan):  # noqa: F811
    # Recording a choice takes no cash: any teller (signed in with their authenticator) may.
    client.force_login(make_user(Role.TELLER, branch=bank.branch))
    url = reverse("teller:loan-reset-choice", args=[home_loan.number])
    page = words(client.get(url))
    assert "At the reset on 05 Apr 2026" in page and "8.25% → 9.25%" in page
    assert "Keep the EMI, lengthen the tenure default" in page
    response = client.post(url, {"choice": "emi"})
    assert response.status_code == 302
    row = RateResetChoice.objects.get(loan=home_loan)
    assert (row.choice, row.channel, row.reset_on) == ("emi", "branch", datetime.date(2026, 4, 5))
    bad = client.post(url, {"choice": "later"})
    assert bad.status_code == 400 and "Choose a higher EMI, a longer tenure, or a prepayment." in words(bad)
    assert RateResetChoice.objects.get(loan=home_loan).choice == "emi"


def test_a_fixed_rate_loan_offers_no_reset_choice(client, bank, loan, cashier):
    client.force_login(cashier)
    page = client.get(reverse("teller:loan-reset-choice", args=[loan.number]))
    assert "is at a fixed rate: it has no rate reset" in words(page)
    response = client.post(reverse("teller:loan-reset-choice", args=[loan.number]), {"choice": "emi"})
    assert response.status_code == 400 and "fixed rate" in words(response)
    assert not RateResetChoice.objects.exists()


def test_the_borrower_chooses_online_with_their_code(client, bank, home_loan):  # noqa: F811
    user, secret = borrower_login(bank)
    client.force_login(user)
    url = reverse("customer:loan-reset-choice", args=[home_loan.number])
    assert "Rate reset: your choice" in words(client.get(reverse("customer:loan", args=[home_loan.number])))
    page = words(client.get(url))
    assert "Your rate is about to change" in page and "On 05 Apr 2026 its rate resets" in page
    wrong = client.post(url, {"choice": "prepayment", "code": "000000"})
    assert wrong.status_code == 400 and not RateResetChoice.objects.exists()
    response = client.post(url, {"choice": "prepayment", "code": totp_code(secret)})
    assert response.status_code == 302
    assert RateResetChoice.objects.get(loan=home_loan).channel == "internet"


def test_another_customers_loan_has_no_reset_page(client, bank, home_loan):  # noqa: F811
    stranger = make_user(Role.CUSTOMER)
    make_customer(branch=bank.branch, created_by=bank.teller, user=stranger)
    client.force_login(stranger)
    assert client.get(reverse("customer:loan-reset-choice", args=[home_loan.number])).status_code == 404
    assert client.post(reverse("customer:loan-reset-choice", args=[home_loan.number]),
                       {"choice": "emi", "code": "123456"}).status_code == 404
    assert not RateResetChoice.objects.exists()


def test_cash_over_the_tellers_limit_goes_to_the_supervisors_queue(client, bank, loan, cashier):
    from banking.approvals.models import ApprovalRequest
    from banking.loans.servicing import CASH_OVER_LIMIT_KIND

    small = teller_with_open_till(bank.branch, bank.supervisor, cash_limit=5_000_00, mfa=True)
    client.force_login(small)
    response = client.post(reverse("teller:loan-repay", args=[loan.number]),
                           {"idempotency_key": key(), "amount": "10747", "n500": "21", "coins": "247"})
    assert response.status_code == 302 and response["Location"] == reverse("teller:loan-detail", args=[loan.number])
    queued = ApprovalRequest.objects.get(kind=CASH_OVER_LIMIT_KIND)
    assert queued.amount == 10_747_00 and queued.status == "pending" and not Repayment.objects.exists()
    page = words(client.get(response["Location"]))
    assert "is above your cash limit: it waits for a supervisor's approval" in page and "Due today ₹10,746.95" in page


def test_a_part_prepayment_or_foreclosure_over_the_tellers_limit_goes_to_the_queue(client, bank, loan, cashier):
    from banking.approvals.models import ApprovalRequest
    from banking.loans.servicing import CASH_OVER_LIMIT_KIND

    small = teller_with_open_till(bank.branch, bank.supervisor, cash_limit=5_000_00, mfa=True)
    client.force_login(small)
    detail = reverse("teller:loan-detail", args=[loan.number])
    response = client.post(reverse("teller:loan-prepay", args=[loan.number]),
                           terms("100000", "emi", step="confirm", idempotency_key=key(), amount="115467",
                                 n500="230", coins="467"))
    assert response.status_code == 302 and response["Location"] == detail
    page = words(client.get(detail))
    assert "₹1,15,467.00 is above your cash limit: it waits for a supervisor's approval" in page
    foreclosure = reverse("teller:loan-foreclosure", args=[loan.number])
    amount = int(re.search(r"take ₹([\d,]+)\.00", words(client.get(foreclosure))).group(1).replace(",", ""))
    response = client.post(foreclosure, {"idempotency_key": key(), "amount": str(amount), "n500": str(amount // 500),
                                         "coins": str(amount % 500)})
    assert response.status_code == 302 and response["Location"] == detail
    queued = ApprovalRequest.objects.filter(kind=CASH_OVER_LIMIT_KIND).order_by("pk")
    assert [(r.payload["what"], r.amount, r.status) for r in queued] == [
        ("prepayment", 1_15_467_00, "pending"), ("foreclosure", amount * 100, "pending")]
    assert not Repayment.objects.exists() and loan.schedules.count() == 1
    loan.refresh_from_db()
    assert loan.status == "active"
    # The supervisor reads what each request pays before approving it.
    supervisor = client.__class__()
    supervisor.force_login(bank.supervisor)
    text = words(supervisor.get(reverse("supervisor:request-detail", args=[queued[0].pk])))
    assert "Part-prepayment" in text and "Principal ahead ₹1,00,000.00" in text
