"""Properties of payments over random sequences of payments on every rail,
returns (some twice), NEFT batches and inbound credits: money is neither created
nor lost, no account goes below zero, a return gives the money back exactly once,
and the clearing accounts hold exactly what is still in flight."""

import contextlib
import datetime
import itertools

import pytest
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from banking.core.errors import BankingError
from banking.ledger.chart import CLEARING
from banking.ledger.models import BusinessDate, LedgerAccount, Posting, Side

from ..actions import make_payment, receive_inbound_payment, record_return
from ..batches import settle_neft_batch
from ..models import Direction, Payment, PaymentStatus, Rail
from .factories import fresh, key, make_bank, payee

_rrn = itertools.count(1)
_day = itertools.count(1)

steps = st.lists(st.one_of(
    st.tuples(st.just("pay"), st.sampled_from(["NEFT", "RTGS", "IMPS", "UPI", "INTERNAL"]),
              st.integers(1, 6_00_000_00), st.sampled_from(["12345678", "12345000"])),
    st.tuples(st.just("return"), st.integers(0, 20)),
    st.tuples(st.just("batch")),
    st.tuples(st.just("inbound"), st.integers(1, 2_00_000_00), st.booleans()),
), min_size=1, max_size=10)


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=steps)
def test_payments_conserve_money(steps):
    # Examples share one database: each runs on a business date of its own (48 NEFT
    # cycles a day), after the NEFT payments of earlier examples have settled.
    BusinessDate.objects.update_or_create(pk=1, defaults={"date": datetime.date(2026, 1, 1)
                                                          + datetime.timedelta(days=next(_day))})
    bank = make_bank()
    settle_neft_batch()
    clearing = {code: LedgerAccount.objects.get(code=code).balance for pair in CLEARING.values() for code in pair}
    account, other = bank.account(balance=8_00_000_00), bank.account(balance=0)
    payees = {}
    inbound = 0

    def destination(rail, ending):
        if rail == "INTERNAL":
            return {"credit_account": None, "payee": payees.setdefault(
                "internal", payee(account, kind="internal", account_number=other.number, name=""))}
        if rail == "UPI":
            return {"vpa": f"shop{ending}@okicici"}
        return {"payee": payees.setdefault(ending, payee(account, account_number=f"50100{ending}"))}

    for step in steps:
        before = fresh(account).balance
        if step[0] == "pay":
            _, rail, amount, ending = step
            try:
                make_payment(actor=None, customer=account.customer, debit_account=account, amount=amount,
                             idempotency_key=key(), rail=rail, **destination(rail, ending))
            except BankingError:
                assert fresh(account).balance == before  # refused: nothing moved
        elif step[0] == "return":
            outward = list(Payment.objects.filter(direction=Direction.OUTWARD, debit_account=account).order_by("pk"))
            if outward:
                payment = outward[step[1] % len(outward)]
                for _ in range(2):  # the network sends the return twice
                    with contextlib.suppress(BankingError):
                        record_return(payment=payment, code="AC01", reason="Property test")
        elif step[0] == "batch":
            settle_neft_batch()
        else:
            _, amount, known = step
            receive_inbound_payment(rail=Rail.NEFT, amount=amount, reference=f"HDFCN26001{next(_rrn):06d}",
                                    remitter_name="Acme", beneficiary_account=account.number if known else "9999")
            inbound += amount if known else 0
        assert fresh(account).available >= 0

    # The customer's two accounts hold what they started with, less what left and has not come back.
    gone = Payment.objects.filter(direction=Direction.OUTWARD, debit_account=account).exclude(
        status__in=[PaymentStatus.REVERSED, PaymentStatus.FAILED]).aggregate(s=Sum("amount"))["s"] or 0
    assert fresh(account).balance + fresh(other).balance == 8_00_000_00 - gone + inbound
    # Outward clearing holds exactly the payments sent and not yet settled or returned.
    for rail in ("NEFT", "RTGS", "IMPS", "UPI"):
        in_flight = Payment.objects.filter(rail=rail, direction=Direction.OUTWARD,
                                           status=PaymentStatus.SENT).aggregate(s=Sum("amount"))["s"] or 0
        outward_code, inward_code = CLEARING[rail]
        assert LedgerAccount.objects.get(code=outward_code).balance - clearing[outward_code] == in_flight
        assert LedgerAccount.objects.get(code=inward_code).balance == clearing[inward_code]
    debit = Posting.objects.filter(side=Side.DEBIT).aggregate(s=Sum("amount"))["s"]
    credit = Posting.objects.filter(side=Side.CREDIT).aggregate(s=Sum("amount"))["s"]
    assert debit == credit and debit > 0
