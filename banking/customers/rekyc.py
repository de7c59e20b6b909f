"""Periodic re-KYC: end of day flags the customers whose KYC has fallen due.

RBI's KYC directions ask for KYC to be updated periodically by risk: every 2 years
for high-risk customers, 8 for medium and 10 for low (DESIGN §5). The due date is
fixed when a KYC is verified (`Customer.rekyc_due_on`). Each end of day, every
verified customer whose due date has come and who has no `RekycNotice` for that due
date gets one: the teller list shows them, and the customer is emailed once (through
the outbox, in the same transaction). A fresh KYC moves the due date on, so the next
cycle flags them again in its turn.

Locks: the customer's row (no key update), so two runs of the same partition flag once.
"""

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Exists, OuterRef

from banking.audit.actions import record_event

from .models import Customer, RekycNotice


def flagged(customers):
    """`customers` annotated with whether end of day flagged their current due date."""
    notice = RekycNotice.objects.filter(customer=OuterRef("pk"), due_on=OuterRef("rekyc_due_on"))
    return customers.annotate(rekyc_flagged=Exists(notice))


def rekyc_to_flag(on):
    """Verified customers whose re-KYC is due by `on` and not yet flagged for it."""
    return flagged(Customer.objects.rekyc_due(on)).filter(rekyc_flagged=False)


@transaction.atomic
def flag_rekyc_due(*, customer_id, on):
    """Flag one customer's re-KYC as due and email them; returns the RekycNotice, or
    None when there is nothing to do (not due, or flagged already)."""
    customer = Customer.objects.select_for_update(no_key=True).select_related("home_branch").get(pk=customer_id)
    if not customer.is_kyc_verified or customer.rekyc_due_on is None or customer.rekyc_due_on > on:
        return None
    if RekycNotice.objects.filter(customer=customer, due_on=customer.rekyc_due_on).exists():
        return None
    email = (customer.email or "").strip()
    notice = RekycNotice.objects.create(customer=customer, due_on=customer.rekyc_due_on, flagged_on=on,
                                        emailed=bool(email))
    record_event(action="customers.rekyc_due", obj=customer, actor=None,
                 summary=f"Re-KYC due for {customer.display_name} ({customer.cif}) since "
                         f"{customer.rekyc_due_on:%d %b %Y} ({customer.get_risk_category_display().lower()} risk)",
                 after={"due_on": customer.rekyc_due_on, "risk": customer.risk_category, "emailed": bool(email)})
    if email:
        bank = settings.CBS_BANK_NAME
        body = "\n".join([
            f"Dear {customer.display_name},", "",
            "The Reserve Bank of India asks banks to update their customers' KYC (proof of identity and "
            f"address) from time to time. Yours fell due on {customer.rekyc_due_on:%d %b %Y}.", "",
            f"Please visit your branch, {customer.home_branch.name}, or any of our branches, with your PAN card "
            "and a current proof of identity and address (Aadhaar, passport, voter ID or driving licence). "
            "If nothing has changed, a signed declaration saying so is enough.", "",
            f"Customer ID (CIF): {customer.cif}", "", bank])
        send_mail(f"{bank}: please update your KYC", body, None, [email])
    return notice
