"""The approval queue's scheduled job expires what waited too long, as the command does."""

import datetime

import pytest
from django.utils import timezone

from banking.approvals.models import ApprovalRequest, Status
from banking.approvals.tasks import expire_approvals
from banking.audit.models import AuditEvent
from banking.core import jobs

from .factories import make_request

pytestmark = pytest.mark.usefixtures("payout_kind")


def test_every_five_minutes_the_job_expires_overdue_requests(teller, run_jobs):
    assert dict(jobs.schedule())["approvals.expire"] == "*/5 * * * *"
    overdue, fresh = make_request(teller), make_request(teller)
    ApprovalRequest.objects.filter(pk=overdue.pk).update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    jobs.defer(expire_approvals, timestamp=0)
    assert run_jobs() == 1
    assert ApprovalRequest.objects.get(pk=overdue.pk).status == Status.EXPIRED
    assert ApprovalRequest.objects.get(pk=fresh.pk).status == Status.PENDING
    event = AuditEvent.objects.get(action="approvals.request_expired", object_id=str(overdue.pk))
    assert (event.channel, event.actor_username) == ("batch", "expire_approvals")
