"""Standing instruction screens: the customer's list, set-up with the authenticator
code and cancellation; the teller's set-up at the counter; and the refusals."""

import html

import pytest
from django.urls import reverse

from banking.ledger.models import BusinessDate
from banking.payments.models import InstructionStatus, StandingInstruction
from banking.payments.standing import create_standing_instruction
from banking.payments.tests.factories import key, make_bank, payee
from banking.testing import make_user, totp_code
from banking.users.roles import Role


def text(response):
    return html.unescape(response.content.decode())


@pytest.fixture
def bank(db):
    return make_bank()


@pytest.fixture
def setup(bank, client):
    account = bank.account(balance=50_000_00, first_name="Priya", last_name="Sharma")
    user = bank.customer_login(account)
    client.force_login(user)
    return account, user, payee(account)


def form(account, to, **fields):
    return {"idempotency_key": key(), "debit_account": account.pk, "destination": to, "rail": "NEFT",
            "amount": "2,500", "frequency": "monthly", "start_on": BusinessDate.objects.current().isoformat(),
            "end_on": "", "narration": "Rent", **fields}


def test_a_customer_sets_up_a_monthly_instruction_and_sees_it_listed(client, setup):
    account, user, to = setup
    page = text(client.get(reverse("customer:standing-new")))
    assert "Ravi Kumar" in page and account.number in page
    response = client.post(reverse("customer:standing-new"),
                           form(account, f"payee-{to.pk}", code=totp_code(user.totp_secret)))
    assert response.status_code == 302
    instruction = StandingInstruction.objects.get()
    assert (instruction.amount, instruction.rail, instruction.payee) == (2_500_00, "NEFT", to)
    listing = text(client.get(reverse("customer:standing")))
    assert "₹2,500.00 monthly to Ravi Kumar" in listing and "Not run yet" in listing


def test_a_wrong_code_or_a_bad_date_sets_up_nothing(client, setup):
    account, user, to = setup
    response = client.post(reverse("customer:standing-new"), form(account, f"payee-{to.pk}", code="000000"))
    assert "That authenticator code is not right" in text(response)
    response = client.post(reverse("customer:standing-new"), form(
        account, f"payee-{to.pk}", code=totp_code(user.totp_secret), start_on="2000-01-01"))
    assert "cannot be before today" in text(response)
    assert StandingInstruction.objects.count() == 0


def test_cancel_and_another_customers_instruction_is_a_404(client, bank, setup):
    account, user, to = setup
    mine = create_standing_instruction(actor=None, customer=account.customer, debit_account=account, payee=to,
                                       rail="NEFT", amount=100_00, frequency="weekly",
                                       start_on=BusinessDate.objects.current())
    stranger = bank.account()
    theirs = create_standing_instruction(actor=None, customer=stranger.customer, debit_account=stranger,
                                         payee=payee(stranger), rail="NEFT", amount=100_00, frequency="weekly",
                                         start_on=BusinessDate.objects.current())
    assert client.get(reverse("customer:standing-cancel", kwargs={"pk": theirs.pk})).status_code == 404
    assert client.post(reverse("customer:standing-cancel", kwargs={"pk": theirs.pk}),
                       {"reason": "x"}).status_code == 404
    response = client.post(reverse("customer:standing-cancel", kwargs={"pk": mine.pk}), {"reason": "Moved house"})
    assert response.status_code == 302
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.status == InstructionStatus.CANCELLED and theirs.status == InstructionStatus.ACTIVE


def teller(bank):
    return make_user(Role.TELLER, branch=bank.branch)


def test_a_teller_sets_one_up_at_the_counter(client, bank):
    account = bank.account(balance=50_000_00)
    own = bank.account(balance=0)
    own.customer = account.customer
    own.save(update_fields=["customer"])
    client.force_login(teller(bank))
    url = reverse("teller:standing")
    page = text(client.get(url, {"account": account.number}))
    assert account.customer.display_name in page and "Set up a standing instruction" in page
    response = client.post(url, {"account": account.number, **form(account, f"account-{own.pk}")})
    assert response.status_code == 302
    assert StandingInstruction.objects.get().credit_account == own
    assert 'data-testid="lookup-error"' in text(client.get(url, {"account": "12"}))


def test_a_teller_cannot_open_the_customers_screens(client, bank):
    client.force_login(teller(bank))
    assert client.get(reverse("customer:standing")).status_code == 403


def test_a_teller_cancels_an_instruction_with_the_customers_reason(client, bank):
    account = bank.account(balance=50_000_00)
    instruction = create_standing_instruction(actor=None, customer=account.customer, debit_account=account,
                                              amount=1_000_00, frequency="monthly", payee=payee(account),
                                              rail="NEFT", start_on=BusinessDate.objects.current())
    client.force_login(teller(bank))
    url = reverse("teller:standing-cancel", args=[instruction.pk])
    refused = client.post(url, {"reason": "  "}, follow=True)
    assert "Say why" in text(refused)
    instruction.refresh_from_db()
    assert instruction.status == InstructionStatus.ACTIVE
    done = client.post(url, {"reason": "Customer closed the loan"}, follow=True)
    assert "cancelled" in text(done)
    instruction.refresh_from_db()
    assert instruction.status == InstructionStatus.CANCELLED and instruction.cancel_reason == "Customer closed the loan"
    assert client.get(url).status_code == 405


def test_a_customer_cannot_use_the_tellers_cancel(client, setup):
    account, _, to = setup
    instruction = create_standing_instruction(actor=None, customer=account.customer, debit_account=account,
                                              amount=1_000_00, frequency="monthly", payee=to, rail="NEFT",
                                              start_on=BusinessDate.objects.current())
    assert client.post(reverse("teller:standing-cancel", args=[instruction.pk]), {"reason": "x"}).status_code == 403
