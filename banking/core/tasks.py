"""The queue's own housekeeping (banking.core.jobs)."""

from . import jobs

# Finished jobs are kept this long for the queue screen, then removed.
KEEP_FINISHED_HOURS = 7 * 24


@jobs.periodic(cron="43 * * * *", name="core.remove_old_jobs")
def remove_old_jobs(*, timestamp):
    """Remove the jobs that finished more than a week ago; failed jobs stay until someone retries them."""
    jobs.remove_finished(older_than_hours=KEEP_FINISHED_HOURS)
