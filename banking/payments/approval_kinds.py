"""The payments app's kinds of maker-checker work, registered by the approvals app's
autodiscovery.

- `payments.resolve_exception`: the resolution of a reconciliation exception that
  operations asked for. Payload: {"exception_id", "resolution", "reason"}, where
  resolution is force_settle, return or suspense.

The handler locks the exception and checks again that the resolution fits (the
payment may have settled or come back while the request waited), then:
- force_settle: settles the sent payment (`settle_payment`);
- return: gives the money back to the customer once (`record_return`);
- suspense: posts the unmatched amount or the difference between the suspense GL
  and RBI settlement, with the approval's id as the idempotency key, so a retried
  approval posts once.
and marks the exception resolved. A rejection opens the exception again.
"""

import datetime

from django.utils import timezone

from banking.core.errors import ValidationFailed
from banking.core.money import format_money
from banking.ledger.actions import Line, post_entry
from banking.ledger.chart import RBI_SETTLEMENT, SUSPENSE
from banking.ledger.models import Channel, EntryKind

from . import remittance
from .actions import gl, record_return, settle_payment
from .models import ExceptionStatus, Payment, ReconciliationException, Resolution
from .reconciliation import RESOLUTION_KIND, RETURN_CODE, check_resolution, suspense_amount


def _locked_exception(approval):
    item = ReconciliationException.objects.select_for_update(of=("self",)).select_related(
        "reconciliation__file").filter(pk=approval.payload.get("exception_id")).first()
    if item is None:
        raise ValidationFailed("The reconciliation exception no longer exists.")
    if item.status == ExceptionStatus.RESOLVED:
        raise ValidationFailed(f"This exception was already resolved ({item.get_resolution_display().lower()}).")
    if item.approval_id != approval.pk:
        raise ValidationFailed("Another resolution of this exception was asked for after this one.")
    return item


def resolve_approved_exception(approval, checker):
    item = _locked_exception(approval)
    resolution, reason = approval.payload.get("resolution"), approval.payload.get("reason", "")
    payment = Payment.objects.select_for_update(of=("self",)).filter(pk=item.payment_id).first() \
        if item.payment_id else None
    check_resolution(item, resolution, payment)
    result = {"exception_id": item.pk, "resolution": resolution}
    if resolution == Resolution.FORCE_SETTLE:
        settle_payment(payment=payment, actor=checker,
                       note=f"force-settled after reconciliation of {item.reconciliation.file.name}: {reason}")
        result["payment_id"] = payment.pk
    elif resolution == Resolution.RETURN:
        payment = record_return(payment=payment, code=RETURN_CODE, reason=f"Returned after reconciliation: {reason}",
                                actor=checker)
        item.entry_id = payment.return_entry_id
        result["payment_id"] = payment.pk
    else:
        difference = suspense_amount(item)
        suspense, settlement = gl(SUSPENSE), gl(RBI_SETTLEMENT)
        debit, credit = (suspense, settlement) if difference > 0 else (settlement, suspense)
        item.entry = post_entry(
            actor=approval.maker, checker=checker, lines=[Line.debit(debit, abs(difference)),
                                                          Line.credit(credit, abs(difference))],
            kind=EntryKind.MANUAL, channel=Channel.OPERATIONS, idempotency_key=f"approval-{approval.pk}",
            reference=item.reference,
            narration=f"Reconciliation {item.get_kind_display().lower()} {item.reference} to suspense: {reason}"[:200])
        result["entry_id"] = item.entry_id
    item.status, item.resolution, item.resolved_at = ExceptionStatus.RESOLVED, resolution, timezone.now()
    item.save(update_fields=["status", "resolution", "resolved_at", "entry"])
    return result


def reopen_rejected_exception(approval, checker):
    ReconciliationException.objects.filter(pk=approval.payload.get("exception_id"), approval=approval,
                                            status=ExceptionStatus.PENDING).update(status=ExceptionStatus.OPEN)


def describe_resolution(payload):
    item = ReconciliationException.objects.select_related("payment", "reconciliation__file").filter(
        pk=payload.get("exception_id")).first()
    resolution = payload.get("resolution", "")
    label = Resolution(resolution).label if resolution in Resolution.values else resolution
    if item is None:
        return [("Exception", f"#{payload.get('exception_id')} (not found)"), ("Resolution", label),
                ("Reason", payload.get("reason", ""))]
    rows = [("Exception", f"{item.get_kind_display()}: UTR {item.reference}"),
            ("Settlement file", item.reconciliation.file.name + (f", line {item.line_number}" if item.line_number
                                                                 else ""))]
    if item.payment_id:
        payment = item.payment
        rows.append(("Our payment", f"{payment.number}, {format_money(payment.amount)} to {payment.counterparty}, "
                                    f"now {payment.get_status_display().lower()}"))
    else:
        rows.append(("Our payment", "None: we have no payment with this UTR"))
    if item.their_amount is not None:
        rows.append(("The network's line", f"{format_money(item.their_amount)}, {item.their_status.lower()}"))
    else:
        rows.append(("The network's line", "None: the file does not mention this payment"))
    if resolution == Resolution.FORCE_SETTLE:
        rows.append(("Resolution", "Force-settle: mark our payment settled and move it from NEFT outward clearing "
                                   "to RBI settlement"))
    elif resolution == Resolution.RETURN:
        rows.append(("Resolution", "Return: give the money back to the customer's account"))
    elif resolution == Resolution.SUSPENSE:
        difference = suspense_amount(item)
        side = "debit suspense, credit RBI settlement" if difference > 0 else "debit RBI settlement, credit suspense"
        rows.append(("Resolution", f"Write {format_money(abs(difference))} to suspense ({side})"))
    else:
        rows.append(("Resolution", label))
    rows.append(("Reason", payload.get("reason", "")))
    return rows


KINDS = [
    {"kind": RESOLUTION_KIND, "label": "Reconciliation exception resolution", "handler": resolve_approved_exception,
     "describe": describe_resolution, "on_reject": reopen_rejected_exception, "on_lapse": reopen_rejected_exception},
    # A teller's NEFT / RTGS for a walk-in customer above the teller's cash limit (remittance.py).
    # Payload: {"payment_id", "till_id", "counts"}. It lapses after an hour: the customer waits at the counter.
    {"kind": remittance.REMITTANCE, "label": "NEFT / RTGS remittance over the teller's limit",
     "handler": remittance.send_approved_remittance, "describe": remittance.describe_remittance,
     "on_reject": remittance.reject_remittance, "on_lapse": remittance.reject_remittance,
     "expires_after": datetime.timedelta(hours=1)},
]
