"""Re-KYC at end of day: customers whose periodic KYC fell due (2, 8 or 10 years by
risk) are flagged once per due date and emailed once."""

import datetime

import pytest
from django.core import mail

from banking.audit.models import AuditEvent
from banking.core import eod
from banking.customers.eod import REKYC_STEP, rekyc_partitions, run_rekyc
from banking.customers.models import Customer, RekycNotice
from banking.customers.rekyc import flagged
from banking.deposits.tests.factories import make_customer

pytestmark = pytest.mark.django_db

D = datetime.date


def verified(branch, teller, *, verified_on, risk, **fields):
    customer = make_customer(branch=branch, created_by=teller, risk_category=risk, **fields)
    customer.kyc_verified_at = datetime.datetime.combine(verified_on, datetime.time(12), tzinfo=datetime.UTC)
    customer.rekyc_due_on = Customer.rekyc_due_from(verified_on, risk)
    customer.save(update_fields=["kyc_verified_at", "rekyc_due_on"])
    return customer


def test_the_step_is_registered_in_its_place():
    step = next(s for s in eod.registered() if s.name == REKYC_STEP)
    assert step.order == 90 and step.partitions is not None


def test_due_customers_are_flagged_and_emailed_once(branch, teller):
    day = D(2026, 6, 15)
    # High risk verified 15 Jun 2024: due 15 Jun 2026 (2 years), today.
    high = verified(branch, teller, verified_on=D(2024, 6, 15), risk="high")
    # Medium risk verified 1 Jan 2018: due 1 Jan 2026 (8 years), overdue; no email on file.
    medium = verified(branch, teller, verified_on=D(2018, 1, 1), risk="medium", email="")
    # Low risk verified 16 Jun 2016: due 16 Jun 2026 (10 years), tomorrow.
    low = verified(branch, teller, verified_on=D(2016, 6, 16), risk="low")
    make_customer(branch=branch, created_by=teller, verified=False)  # a draft is never due

    parts = rekyc_partitions(date=day.isoformat(), size=1)
    assert len(parts) == 2
    assert sum(run_rekyc(date=day.isoformat(), first=a, last=b) for a, b in parts) == 2
    notices = {n.customer_id: n for n in RekycNotice.objects.all()}
    assert set(notices) == {high.pk, medium.pk}
    assert (notices[high.pk].due_on, notices[high.pk].flagged_on, notices[high.pk].emailed) == (
        D(2026, 6, 15), day, True)
    assert notices[medium.pk].emailed is False
    assert [m.to for m in mail.outbox] == [[high.email]]
    assert "fell due on 15 Jun 2026" in mail.outbox[0].body
    assert AuditEvent.objects.filter(action="customers.rekyc_due").count() == 2

    # Again for the same day, and the next: nobody twice; the low-risk one's turn comes.
    assert run_rekyc(date=day) == 0
    assert run_rekyc(date=D(2026, 6, 16)) == 1
    assert len(mail.outbox) == 2 and RekycNotice.objects.filter(customer=low).exists()
    assert set(flagged(Customer.objects.rekyc_due(D(2026, 6, 16))).values_list("pk", "rekyc_flagged")) == {
        (high.pk, True), (medium.pk, True), (low.pk, True)}


def test_a_fresh_kyc_starts_the_next_cycle(branch, teller):
    customer = verified(branch, teller, verified_on=D(2024, 6, 15), risk="high")
    run_rekyc(date=D(2026, 6, 15))
    # Re-KYC done on 20 Jun 2026: due again on 20 Jun 2028.
    customer.rekyc_due_on = Customer.rekyc_due_from(D(2026, 6, 20), "high")
    customer.save(update_fields=["rekyc_due_on"])
    assert run_rekyc(date=D(2026, 6, 21)) == 0
    assert run_rekyc(date=D(2028, 6, 20)) == 1
    assert list(RekycNotice.objects.filter(customer=customer).order_by("due_on").values_list("due_on", flat=True)) \
        == [D(2026, 6, 15), D(2028, 6, 20)]
