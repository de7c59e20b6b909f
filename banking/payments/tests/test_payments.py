"""The payment rules and the money flow of each rail, on PostgreSQL."""

import datetime

import pytest
from django.db.models import Sum
from django.utils import timezone

from banking.core.errors import (
    IdempotencyConflict,
    InsufficientFunds,
    InvalidAmount,
    LimitExceeded,
    NotPermitted,
    ValidationFailed,
)
from banking.core.identifiers import is_valid_reference
from banking.ledger.chart import CLEARING, RBI_SETTLEMENT
from banking.ledger.models import LedgerAccount, Posting, Side

from ..actions import make_payment, receive_inbound_payment, record_return
from ..batches import settle_neft_batch
from ..models import ChannelLimit, Payment, PaymentEvent, PaymentStatus, Rail
from .factories import fresh, key, payee

pytestmark = pytest.mark.django_db


def balance(code):
    return LedgerAccount.objects.get(code=code).balance


def total_debits_equal_credits():
    debit = Posting.objects.filter(side=Side.DEBIT).aggregate(s=Sum("amount"))["s"] or 0
    credit = Posting.objects.filter(side=Side.CREDIT).aggregate(s=Sum("amount"))["s"] or 0
    return debit == credit and debit > 0


def pay(account, amount, rail=Rail.NEFT, **kwargs):
    return make_payment(actor=None, customer=account.customer, debit_account=account, amount=amount,
                        idempotency_key=kwargs.pop("idempotency_key", key()), rail=rail, **kwargs)


def test_internal_transfer_to_own_account_settles_at_once(bank):
    source, other = bank.account(balance=1_000_00), bank.account(balance=0)
    payment = make_payment(actor=None, customer=source.customer, debit_account=source, amount=250_50,
                           idempotency_key=key(), payee=payee(source, kind="internal", account_number=other.number,
                                                              name=""))
    assert payment.status == PaymentStatus.SETTLED and payment.reference is None
    assert fresh(source).balance == 749_50 and fresh(other).balance == 250_50
    assert list(payment.events.values_list("status", flat=True)) == ["initiated", "settled"]


def test_neft_debits_the_customer_then_settles_in_the_batch(bank):
    account = bank.account(balance=5_000_00)
    rbi = balance(RBI_SETTLEMENT)
    payment = pay(account, 1_200_00, payee=payee(account))
    assert payment.status == PaymentStatus.SENT
    assert is_valid_reference("NEFT", payment.reference) and len(payment.reference) == 16
    assert fresh(account).balance == 3_800_00
    assert balance(CLEARING["NEFT"][0]) == 1_200_00
    batch = settle_neft_batch()
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SETTLED and payment.batch == batch
    assert balance(CLEARING["NEFT"][0]) == 0 and balance(RBI_SETTLEMENT) == rbi - 1_200_00
    assert batch.settlement_file.content.count(payment.reference) == 1
    assert settle_neft_batch() is None  # nothing waits
    assert total_debits_equal_credits()


def test_neft_to_an_account_ending_000_comes_back_returned_with_the_money(bank):
    account = bank.account(balance=5_000_00)
    payment = pay(account, 1_000_00, payee=payee(account, account_number="12345678000"))
    settle_neft_batch()
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REVERSED and payment.return_code == "AC01"
    assert "does not exist" in payment.status_phrase
    assert fresh(account).balance == 5_000_00
    assert balance(CLEARING["NEFT"][0]) == 0
    # The same return arriving again gives nothing back a second time.
    record_return(payment=payment, code="AC01", reason="again")
    assert fresh(account).balance == 5_000_00
    assert set(payment.events.values_list("status", flat=True)) >= {"returned", "reversed"}


def test_a_return_after_settlement_credits_the_customer_once(bank):
    account = bank.account(balance=5_000_00)
    rbi = balance(RBI_SETTLEMENT)
    payment = pay(account, 2_000_00, payee=payee(account))
    settle_neft_batch()
    for _ in range(2):
        record_return(payment=payment, code="AC04", reason="Account closed at the beneficiary bank")
    assert fresh(account).balance == 5_000_00
    assert balance(RBI_SETTLEMENT) == rbi
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.REVERSED


@pytest.mark.parametrize(("rail", "amount", "allowed"), [
    (Rail.RTGS, 1_99_999_99, False), (Rail.RTGS, 2_00_000_00, True),
    (Rail.IMPS, 5_00_000_00, True), (Rail.IMPS, 5_00_000_01, False),
])
def test_rail_limits_at_their_boundaries(bank, rail, amount, allowed):
    account = bank.account(balance=20_00_000_00)
    to = payee(account)
    if allowed:
        payment = pay(account, amount, rail=rail, payee=to)
        assert payment.status == PaymentStatus.SETTLED
        assert is_valid_reference(rail, payment.reference)
    else:
        with pytest.raises(LimitExceeded):
            pay(account, amount, rail=rail, payee=to)
        assert not Payment.objects.exists()
        assert fresh(account).balance == 20_00_000_00


def test_upi_above_one_lakh_is_refused(bank):
    account = bank.account(balance=5_00_000_00)
    pay(account, 1_00_000_00, rail=Rail.UPI, vpa="shop@okicici")
    with pytest.raises(LimitExceeded):
        pay(account, 1_00_000_01, rail=Rail.UPI, vpa="shop@okicici")


def test_rtgs_reference_has_22_characters_and_imps_rrn_12_digits(bank):
    account = bank.account(balance=50_00_000_00)
    rtgs = pay(account, 3_00_000_00, rail=Rail.RTGS, payee=payee(account))
    imps = pay(account, 1_000_00, rail=Rail.IMPS, payee=payee(account, account_number="99887766"))
    upi = pay(account, 10_00, rail=Rail.UPI, vpa="shop@okicici")
    assert len(rtgs.reference) == 22 and rtgs.reference[4:6] == "RC"
    assert len(imps.reference) == 12 and imps.reference.isdigit()
    assert len(upi.reference) == 12 and upi.reference != imps.reference


def test_instant_payment_refused_by_the_network_is_reversed_at_once(bank):
    account = bank.account(balance=10_000_00)
    payment = pay(account, 500_00, rail=Rail.IMPS, payee=payee(account, account_number="4455667000"))
    assert payment.status == PaymentStatus.REVERSED and payment.failed_at is not None
    assert fresh(account).balance == 10_000_00
    assert balance(CLEARING["IMPS"][0]) == 0


def test_new_payee_receives_at_most_50000_in_its_first_day(bank):
    account = bank.account(balance=5_00_000_00)
    fresh_payee = payee(account, aged=False)
    pay(account, 30_000_00, payee=fresh_payee)
    with pytest.raises(LimitExceeded, match="less than 24 hours"):
        pay(account, 20_000_01, payee=fresh_payee)
    pay(account, 20_000_00, payee=fresh_payee)
    fresh_payee.created_at = timezone.now() - datetime.timedelta(hours=24, seconds=1)
    fresh_payee.save()
    pay(account, 1_00_000_00, payee=fresh_payee)


def test_daily_limit_per_rail_is_a_product_parameter(bank):
    account = bank.account(balance=50_00_000_00)
    ChannelLimit.objects.filter(product=account.product, rail=Rail.IMPS).update(daily_limit=1_00_000_00)
    to = payee(account)
    pay(account, 60_000_00, rail=Rail.IMPS, payee=to)
    with pytest.raises(LimitExceeded, match="daily limit"):
        pay(account, 40_000_01, rail=Rail.IMPS, payee=to)
    pay(account, 40_000_00, rail=Rail.IMPS, payee=to)
    pay(account, 5_00_000_00, rail=Rail.NEFT, payee=to)  # another rail's limit


def test_same_key_sends_once_and_other_content_is_refused(bank):
    account = bank.account(balance=10_000_00)
    to = payee(account)
    token = key()
    first = pay(account, 1_000_00, payee=to, idempotency_key=token)
    again = pay(account, 1_000_00, payee=to, idempotency_key=token)
    assert again.pk == first.pk and Payment.objects.count() == 1
    with pytest.raises(IdempotencyConflict):
        pay(account, 2_000_00, payee=to, idempotency_key=token)
    assert fresh(account).balance == 9_000_00


@pytest.mark.parametrize("amount", [0, -100, 12.5, True])
def test_bad_amounts_are_refused_and_write_nothing(bank, amount):
    account = bank.account(balance=10_000_00)
    with pytest.raises(InvalidAmount):
        pay(account, amount, payee=payee(account))
    assert not Payment.objects.exists()


def test_insufficient_funds_writes_nothing(bank):
    account = bank.account(balance=100_00)
    with pytest.raises(InsufficientFunds, match="available"):
        pay(account, 100_01, payee=payee(account))
    assert not Payment.objects.exists() and not PaymentEvent.objects.exists()


def test_another_customers_payee_or_account_is_refused(bank):
    mine, theirs = bank.account(), bank.account()
    with pytest.raises(NotPermitted):
        pay(mine, 100_00, payee=payee(theirs))
    with pytest.raises(NotPermitted):
        make_payment(actor=None, customer=mine.customer, debit_account=theirs, amount=100_00,
                     idempotency_key=key(), rail=Rail.NEFT, payee=payee(mine))


def test_malformed_vpa_is_refused(bank):
    account = bank.account()
    with pytest.raises(ValidationFailed, match="not a valid UPI ID"):
        pay(account, 100_00, rail=Rail.UPI, vpa="no at sign")


def test_inbound_credit_lands_in_the_customers_account(bank):
    account = bank.account(balance=0)
    payment = receive_inbound_payment(rail=Rail.NEFT, amount=7_500_00, reference="HDFCN26001000001",
                                      remitter_name="Acme Ltd", beneficiary_account=account.number)
    assert payment.status == PaymentStatus.SETTLED
    assert fresh(account).balance == 7_500_00
    assert balance(CLEARING["NEFT"][1]) == 0
    again = receive_inbound_payment(rail=Rail.NEFT, amount=7_500_00, reference="HDFCN26001000001",
                                    remitter_name="Acme Ltd", beneficiary_account=account.number)
    assert again.pk == payment.pk and fresh(account).balance == 7_500_00


def test_inbound_for_an_unknown_account_is_returned_and_not_lost(bank):
    rbi = balance(RBI_SETTLEMENT)
    payment = receive_inbound_payment(rail=Rail.IMPS, amount=900_00, reference="123456789012",
                                      remitter_name="Asha", beneficiary_account="99999999999")
    assert payment.status == PaymentStatus.RETURNED and payment.return_code == "AC01"
    assert balance(RBI_SETTLEMENT) == rbi and balance(CLEARING["IMPS"][1]) == 0
    assert total_debits_equal_credits()
