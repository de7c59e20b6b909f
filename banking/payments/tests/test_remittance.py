"""NEFT and RTGS at the counter for a walk-in customer: from an account, against cash
into the teller's till, and above the teller's cash limit through a supervisor."""

import pytest

from banking.approvals.actions import approve_request, reject_request
from banking.approvals.models import ApprovalRequest
from banking.core.errors import IdempotencyConflict, LimitExceeded, ValidationFailed
from banking.core.identifiers import is_valid_reference
from banking.ledger.chart import CLEARING
from banking.ledger.models import LedgerAccount
from banking.teller.actions import find_till
from banking.teller.denominations import Denominations
from banking.teller.models import CashMovement
from banking.teller.tests.factories import teller_with_open_till

from ..models import Payment, PaymentStatus, Rail
from ..remittance import REMITTANCE, send_remittance
from .factories import fresh, key

pytestmark = pytest.mark.django_db

TWO_LAKH = 2_00_000_00
CASH_2L = Denominations(n500=400)  # ₹2,00,000


def remit(actor, amount, **fields):
    fields = {"rail": Rail.RTGS, "idempotency_key": key(), "beneficiary_name": "Meera Iyer",
              "beneficiary_account": "50100012345678", "beneficiary_ifsc": "HDFC0001234",
              "remitter_name": "Rahul Verma", "remitter_mobile": "9876543210",
              "remitter_address": "12 MG Road, Pune 411001", **fields}
    return send_remittance(actor=actor, amount=amount, **fields)


@pytest.fixture
def teller(bank):
    return teller_with_open_till(bank.branch, bank.checker)


def till_is_worth_its_gl(user):
    till = find_till(user)
    return till.cash_value == LedgerAccount.objects.get(pk=till.ledger_account_id).balance


def test_rtgs_against_cash_counts_the_notes_into_the_till_and_settles(bank, teller):
    till_before = find_till(teller).cash_value
    payment = remit(teller, TWO_LAKH, counts=CASH_2L, pan="abcde1234f")
    assert payment.status == PaymentStatus.SETTLED and payment.paid_in_cash
    assert is_valid_reference("RTGS", payment.reference) and len(payment.reference) == 22
    assert payment.debit_account is None and payment.customer is None
    assert (payment.remitter_name, payment.remitter_mobile) == ("Rahul Verma", "9876543210")
    assert payment.remitter_address == "12 MG Road, Pune 411001" and payment.remitter_pan == "ABCDE1234F"
    assert payment.remitter_ifsc == bank.branch.ifsc and payment.beneficiary_ifsc == "HDFC0001234"
    till = find_till(teller)
    assert till.cash_value == till_before + TWO_LAKH and till.n500 == 100 + 400
    assert till_is_worth_its_gl(teller)
    movement = CashMovement.objects.get(entry=payment.debit_entry)
    assert movement.box == till and movement.amount == TWO_LAKH
    assert LedgerAccount.objects.get(code=CLEARING["RTGS"][0]).balance == 0  # settled at once


def test_neft_from_an_account_debits_it(bank, teller):
    account = bank.account(balance=50_000_00)
    payment = remit(teller, 12_345_67, rail=Rail.NEFT, debit_account=account, remitter_name="", remitter_mobile="",
                    remitter_address="")
    assert payment.status == PaymentStatus.SENT and not payment.paid_in_cash
    assert payment.remitter_name == account.customer.display_name and payment.remitter_account == account.number
    assert fresh(account).balance == 50_000_00 - 12_345_67
    assert LedgerAccount.objects.get(code=CLEARING["NEFT"][0]).balance == 12_345_67
    assert is_valid_reference("NEFT", payment.reference)


def test_rtgs_below_two_lakh_is_refused_and_two_lakh_accepted(bank, teller):
    account = bank.account(balance=5_00_000_00)
    with pytest.raises(LimitExceeded, match="RTGS is for ₹2,00,000.00 or more"):
        remit(teller, TWO_LAKH - 1, debit_account=account)
    assert Payment.objects.count() == 0 and fresh(account).balance == 5_00_000_00
    payment = remit(teller, TWO_LAKH, debit_account=account)
    assert payment.status == PaymentStatus.SETTLED and fresh(account).balance == 3_00_000_00


@pytest.mark.parametrize(("fields", "message"), [
    ({"beneficiary_ifsc": "HDFC001234"}, "not a valid IFSC"),
    ({"beneficiary_ifsc": "ABCD0999999"}, "not in the bank directory"),
    ({"beneficiary_ifsc": "CBSB0000001"}, "branch of this bank"),
    ({"beneficiary_account": "12AB"}, "6 to 18 digits"),
    ({"beneficiary_name": ""}, "beneficiary's name"),
    ({"remitter_name": " "}, "remitter's name"),
    ({"remitter_mobile": "12345"}, "10-digit mobile"),
    ({"remitter_address": ""}, "remitter's address"),
    ({"counts": Denominations(n500=399)}, "add up to ₹1,99,500.00, ₹500.00 less"),
    ({"pan": ""}, "needs the remitter's PAN"),
    ({"pan": "ABCDE12345"}, "valid PAN"),
    ({"rail": Rail.IMPS}, "NEFT or RTGS"),
])
def test_bad_input_is_refused_and_writes_nothing(bank, teller, fields, message):
    fields = {"counts": CASH_2L, "pan": "ABCDE1234F", **fields}
    with pytest.raises(ValidationFailed, match=message):
        remit(teller, TWO_LAKH, **fields)
    assert Payment.objects.count() == 0
    assert find_till(teller).n500 == 100 and till_is_worth_its_gl(teller)


def test_cash_needs_an_open_till(bank):
    with pytest.raises(ValidationFailed, match="till"):
        remit(bank.maker, TWO_LAKH, counts=CASH_2L, pan="ABCDE1234F")
    assert Payment.objects.count() == 0


def test_the_same_form_sends_once(bank, teller):
    token = key()
    first = remit(teller, 60_000_00, rail=Rail.NEFT, counts=Denominations(n500=120), pan="ABCDE1234F",
                  idempotency_key=token)
    again = remit(teller, 60_000_00, rail=Rail.NEFT, counts=Denominations(n500=120), pan="ABCDE1234F",
                  idempotency_key=token)
    assert first.pk == again.pk and Payment.objects.count() == 1
    assert find_till(teller).n500 == 100 + 120
    with pytest.raises(IdempotencyConflict):
        remit(teller, 70_000_00, rail=Rail.NEFT, counts=Denominations(n500=140), pan="ABCDE1234F",
              idempotency_key=token)


def test_refused_at_once_by_the_network_gives_the_notes_back(bank, teller):
    payment = remit(teller, TWO_LAKH, counts=CASH_2L, pan="ABCDE1234F", beneficiary_account="12345678000")
    assert payment.status == PaymentStatus.REVERSED and payment.return_code == "AC01"
    till = find_till(teller)
    assert till.n500 == 100 and till_is_worth_its_gl(teller)


def test_above_the_cash_limit_waits_for_a_supervisor_then_sends(bank):
    teller = teller_with_open_till(bank.branch, bank.checker, cash_limit=1_00_000_00)
    payment = remit(teller, 3_00_000_00, counts=Denominations(n500=600), pan="ABCDE1234F")
    assert payment.status == PaymentStatus.AWAITING_APPROVAL and payment.debit_entry is None
    assert find_till(teller).n500 == 100
    request = ApprovalRequest.objects.get(kind=REMITTANCE)
    assert payment.approval == request and request.amount == 3_00_000_00
    approve_request(actor=bank.checker, request_id=request.pk)
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SETTLED and payment.debit_entry.checker == bank.checker
    assert find_till(teller).n500 == 700 and till_is_worth_its_gl(teller)


def test_a_rejected_remittance_moves_nothing(bank):
    teller = teller_with_open_till(bank.branch, bank.checker, cash_limit=1_00_000_00)
    account = bank.account(balance=5_00_000_00)
    payment = remit(teller, 3_00_000_00, debit_account=account)
    assert payment.status == PaymentStatus.AWAITING_APPROVAL
    reject_request(actor=bank.checker, request_id=payment.approval_id, reason="Signature does not match")
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REJECTED and "Signature" in payment.status_phrase
    assert fresh(account).balance == 5_00_000_00


def test_a_cash_neft_returned_later_is_held_for_the_remitter_and_the_till_keeps_its_notes(bank, teller):
    from banking.ledger.chart import SUNDRY_CREDITORS

    from ..batches import settle_neft_batch

    held_before = LedgerAccount.objects.get(code=SUNDRY_CREDITORS).balance
    payment = remit(teller, 10_000_00, rail=Rail.NEFT, counts=Denominations(n500=20), pan="",
                    beneficiary_account="9988776000")
    assert payment.status == PaymentStatus.SENT
    settle_neft_batch()
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REVERSED and payment.return_code == "AC01"
    assert "held at the branch" in payment.events.last().note
    assert find_till(teller).n500 == 120 and till_is_worth_its_gl(teller)
    assert LedgerAccount.objects.get(code=SUNDRY_CREDITORS).balance == held_before + 10_000_00
    assert LedgerAccount.objects.get(code=CLEARING["NEFT"][0]).balance == 0


def test_a_remittance_whose_request_expires_is_not_sent(bank):
    import datetime

    from django.utils import timezone

    from banking.approvals.actions import expire_requests

    teller = teller_with_open_till(bank.branch, bank.checker, cash_limit=1_00_000_00)
    account = bank.account(balance=5_00_000_00)
    payment = remit(teller, 3_00_000_00, debit_account=account)
    expire_requests(now=timezone.now() + datetime.timedelta(hours=2))
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REJECTED and "in time" in payment.return_reason
    assert fresh(account).balance == 5_00_000_00
