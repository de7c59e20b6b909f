"""Actions on the bank's background work (banking.core.jobs).

- `retry_job`: operations send a failed job back to the queue, from the queue screen.
  Needs core.retry_jobs. Locks the job's row while it checks that the job failed and
  requeues it; the audit event is written in the same transaction, so a retry that
  is refused leaves no trace but its message.

Errors: NotPermitted (no permission), ValidationFailed (not a failed job, or no such job).
"""

from django.db import transaction

from banking.audit.actions import record_event

from . import jobs
from .errors import NotPermitted, ValidationFailed

RETRY_PERMISSION = "core.retry_jobs"


@transaction.atomic
def retry_job(*, actor, job_id):
    """Send failed job `job_id` back to the queue to run again as soon as a worker is
    free. Returns the job's task name."""
    if not actor.has_perm(RETRY_PERMISSION):
        raise NotPermitted("Only operations staff may retry a background job.")
    try:
        task_name = jobs.retry_failed(job_id)
    except jobs.NotFailed:
        raise ValidationFailed(
            f"Job #{job_id} has not failed, so there is nothing to retry: it is waiting, running, done, "
            "or no longer kept."
        ) from None
    record_event(action="core.job_retried", object_type="jobs.job", object_id=job_id, actor=actor,
                 summary=f"Job {job_id} ({task_name}) sent back to the queue", after={"status": "todo"})
    return task_name
