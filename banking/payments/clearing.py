"""What the simulated network sends the bank on its own: inbound payments to our
customers and merchants' UPI collect requests, from the operations screen or the
`simulate_inbound` command.

An inbound reference is in the rail's format and unique: NEFT and RTGS UTRs carry
the remitting bank's four-letter prefix, IMPS and UPI RRNs are 12 digits; the
sequence is the bank's own reference counter, so no two ever collide.
"""

import uuid

from django.conf import settings

from .actions import business_date, receive_collect_request, receive_inbound_payment
from .models import Rail
from .references import next_reference

REMITTER_IFSC = "HDFC0001234"


def inbound_reference(rail, remitter_ifsc=REMITTER_IFSC):
    reference = next_reference(rail, business_date())
    if rail in (Rail.NEFT, Rail.RTGS):
        reference = remitter_ifsc[:4] + reference[len(settings.CBS_IFSC_PREFIX):]
    return reference


def simulate_inbound_payment(*, actor, rail, amount, remitter_name, beneficiary_account="", beneficiary_vpa="",
                             remitter_ifsc=REMITTER_IFSC, narration=""):
    """The network credits one of our customers, as another bank's customer would."""
    vpa = f"{'.'.join(remitter_name.lower().split())[:30] or 'sender'}@okhdfc" if rail == Rail.UPI else ""
    return receive_inbound_payment(
        rail=rail, amount=amount, reference=inbound_reference(rail, remitter_ifsc), remitter_name=remitter_name,
        remitter_account="" if vpa else "50100012345678", remitter_ifsc="" if vpa else remitter_ifsc,
        remitter_vpa=vpa, beneficiary_account=beneficiary_account, beneficiary_vpa=beneficiary_vpa,
        narration=narration, actor=actor)


def simulate_collect_request(*, payer_vpa, merchant_vpa, merchant_name, amount, is_merchant, note=""):
    """A merchant's UPI collect request arrives for one of our customers."""
    return receive_collect_request(payer_vpa=payer_vpa, merchant_vpa=merchant_vpa, merchant_name=merchant_name,
                                   amount=amount, is_merchant=is_merchant, note=note,
                                   reference=f"UPICOL{uuid.uuid4().hex[:24].upper()}")
