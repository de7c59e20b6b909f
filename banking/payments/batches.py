"""NEFT batches: 48 half-hourly settlement cycles a day (DESIGN §5).

`settle_neft_batch` takes every sent NEFT payment not yet in a batch into the next
cycle, asks the network for each one's answer, and then, set-based so that a cycle
of 50,000 payments settles in seconds:
- posts one entry for the cycle, NEFT outward clearing → RBI settlement, for the
  total that settled (RBI settles NEFT net per cycle, not per payment);
- returns each payment the beneficiary bank refused, one by one, through the same
  `record_return` path as any return (the money goes back to the customer once);
- marks the rest settled in one UPDATE and stamps one PaymentEvent each in one
  INSERT ... SELECT;
- keeps the cycle's settlement file as the network sent it, for reconciliation;
- writes one audit event for the cycle (who ran it, its counts and totals; the
  payments are those whose `batch` is this cycle), and one per returned payment.

Locks: the cycle's payments are claimed with one UPDATE (row locks on each), so a
return arriving at the same moment waits for the cycle, then finds the payment
settled and returns it after settlement. Cycles run one at a time (an advisory
lock held until the cycle commits): a run that starts while another is settling,
whether the next half-hourly run or an operator's, waits for it and then finds
nothing left to take.
"""

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from banking.audit.actions import record_event
from banking.core.db import Job, one_at_a_time
from banking.core.errors import ValidationFailed
from banking.core.money import format_money
from banking.ledger.actions import Line, post_entry
from banking.ledger.chart import CLEARING, RBI_SETTLEMENT
from banking.ledger.models import EntryKind

from .actions import business_date, cycle_at, gl, record_return
from .models import NeftBatch, Payment, PaymentEvent, PaymentStatus, Rail, SettlementFile
from .network import network

BATCH_FIELDS = ("pk", "reference", "amount", "beneficiary_account", "beneficiary_name", "beneficiary_ifsc",
                "remitter_ifsc")


def _cycle(date, now):
    last = NeftBatch.objects.filter(business_date=date).aggregate(last=Max("cycle"))["last"] or 0
    cycle = max(cycle_at(now), last + 1)
    if cycle > 48:
        raise ValidationFailed(f"All 48 NEFT cycles of {date:%d %b %Y} have settled; the rest settle on the next "
                               "business day.")
    return cycle


@transaction.atomic
def settle_neft_batch(*, actor=None, now=None):
    """Settle the next NEFT cycle and return its NeftBatch (None when no payment waits)."""
    one_at_a_time(Job.NEFT_CYCLE)
    now = now or timezone.now()
    date = business_date()
    waiting = Payment.objects.awaiting_neft_batch()
    if not waiting.exists():
        return None
    batch = NeftBatch.objects.create(business_date=date, cycle=_cycle(date, now), settled_at=now, settled_by=actor)
    waiting.update(batch=batch, updated_at=now)
    payments = list(Payment.objects.filter(batch=batch).order_by("pk").values_list(*BATCH_FIELDS, named=True))
    answers = network().settle_neft_batch(payments, batch)
    returned = [(p, a) for p, a in zip(payments, answers, strict=True) if not a.settled]
    settled_amount = sum(p.amount for p, a in zip(payments, answers, strict=True) if a.settled)

    if settled_amount:
        batch.settle_entry = post_entry(
            actor=actor, lines=[Line.debit(gl(CLEARING[Rail.NEFT][0]), settled_amount),
                                Line.credit(gl(RBI_SETTLEMENT), settled_amount)],
            kind=EntryKind.PAYMENT, narration=f"{batch.name}: {len(payments) - len(returned)} payments settled",
            idempotency_key=f"neft-batch-{batch.pk}-settle", reference=batch.name)
    for payment, answer in returned:
        record_return(payment=Payment(pk=payment.pk), code=answer.code, reason=answer.reason, actor=actor)

    # One UPDATE for the cycle, from the statuses Payment.pipeline lets settle.
    settled = Payment.objects.filter(batch=batch, status__in=Payment.sources_of(PaymentStatus.SETTLED))
    settled.update(status=PaymentStatus.SETTLED, settled_at=now, updated_at=now, settle_entry=batch.settle_entry)
    _stamp_settled(batch, now)

    batch.payments_count, batch.returned_count = len(payments), len(returned)
    batch.settled_count = len(payments) - len(returned)
    batch.settled_amount, batch.returned_amount = settled_amount, sum(p.amount for p, _ in returned)
    batch.save(update_fields=["payments_count", "settled_count", "returned_count", "settled_amount",
                              "returned_amount", "settle_entry"])
    SettlementFile.objects.create(
        rail=Rail.NEFT, name=f"NEFT_{date:%Y%m%d}_C{batch.cycle:02d}.csv", business_date=date, batch=batch,
        content=network().settlement_file(batch, payments, answers), received_at=now)
    record_event(action="payments.neft_batch_settled", obj=batch, actor=actor,
                 summary=f"{batch.name}: {batch.settled_count} settled ({format_money(settled_amount)}), "
                         f"{batch.returned_count} returned ({format_money(batch.returned_amount)})",
                 after={"batch": batch.pk, "payments": batch.payments_count, "settled": batch.settled_count,
                        "returned": batch.returned_count, "settled_amount": settled_amount,
                        "entry": batch.settle_entry_id})
    return batch


def _stamp_settled(batch, now):
    note = f"settled in {batch.name}"
    events, payments = PaymentEvent._meta.db_table, Payment._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {events} (payment_id, status, at, note) "  # noqa: S608
            f"SELECT id, %s, %s, %s FROM {payments} WHERE batch_id = %s AND status = %s ORDER BY id",
            [PaymentStatus.SETTLED, now, note, batch.pk, PaymentStatus.SETTLED])
