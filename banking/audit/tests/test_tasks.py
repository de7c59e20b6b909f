"""The audit trail is sealed every minute by a background job, one sealer at a time."""

import pytest

from banking.audit.actions import record_event
from banking.audit.models import AuditSeal
from banking.audit.tasks import seal_audit_trail
from banking.core import jobs


def test_the_sealer_runs_every_minute_locked_by_its_name(db):
    assert dict(jobs.schedule())["audit.seal"] == "* * * * *"
    first = jobs.defer(seal_audit_trail, timestamp=0)
    assert jobs.defer(seal_audit_trail, timestamp=60) is None  # one run waits at a time
    job = jobs.jobs_query().get(pk=first)
    # No two workers run it at once (lock), and ticks do not pile up behind a slow run (queueing lock).
    assert (job.lock, job.queueing_lock) == ("audit.seal", "audit.seal")


@pytest.mark.django_db(transaction=True)
def test_the_job_seals_the_committed_events():
    event = record_event(action="tests.sealed_by_the_job", summary="sealed by the job")
    jobs.defer(seal_audit_trail, timestamp=0)
    assert jobs.run_waiting() == 1
    assert AuditSeal.objects.filter(event_id=event.id).exists()
    assert jobs.jobs_query().get(task_name="audit.seal").status == "succeeded"
