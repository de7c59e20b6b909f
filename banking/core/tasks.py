"""The queue's own housekeeping (banking.core.jobs)."""

from . import jobs

# Finished jobs are kept this long for the queue screen, then removed.
KEEP_FINISHED_HOURS = 7 * 24


@jobs.periodic(cron="* * * * *", name="core.retry_stalled_jobs")
def retry_stalled_jobs(*, timestamp):
    """Send back to the queue the jobs whose worker stopped in the middle of them (killed, or its machine lost).

    A stopped worker's job would otherwise stay running for ever, and hold its lock:
    a scheduled job (locked by its name) would never run again. Every job is safe to
    run twice. Every queue, end of day's included (jobs.STALLED_AFTER says when a
    worker is gone). Returns how many were sent back."""
    return len(jobs.retry_stalled())


@jobs.periodic(cron="43 * * * *", name="core.remove_old_jobs")
def remove_old_jobs(*, timestamp):
    """Remove the jobs that finished more than a week ago; failed jobs stay until someone retries them."""
    jobs.remove_finished(older_than_hours=KEEP_FINISHED_HOURS)
