"""End of day's background work (banking.core.jobs), on the queue "eod".

- `eod_advance` starts a run's next step, or finishes the run (actions.advance_run);
- `eod_partition` runs one partition of a step (actions.run_partition). A partition
  that fails is tried again at once, `ATTEMPTS` times in all, before its step stops;
- a worker killed in the middle of a job (`kill -9`, a machine lost) leaves the job
  running; once the worker has sent no heartbeat for `jobs.STALLED_AFTER` seconds the
  queue's own sweep, `core.retry_stalled_jobs`, puts it back (every minute, every
  queue), and so does `retry_stalled` below when operations starts the run again.

Workers take every queue unless told otherwise (`manage.py run_worker`), so the end of
day runs on whatever workers exist; a worker started for "eod" alone serves only it.
"""

import os
import socket

from banking.core import jobs

from .actions import ATTEMPTS, advance_run, run_partition

QUEUE = "eod"


@jobs.task(name="operations.eod_advance", queue=QUEUE, retry=2)
def eod_advance(*, run_id):
    advance_run(run_id=run_id)


@jobs.task(name="operations.eod_partition", queue=QUEUE, retry=ATTEMPTS - 1)
def eod_partition(*, partition_id):
    return run_partition(partition_id=partition_id, worker=f"{socket.gethostname()}:{os.getpid()}")


def defer_advance(*, run_id):
    return jobs.defer(eod_advance, run_id=run_id)


def defer_partition(*, partition_id):
    return jobs.defer(eod_partition, partition_id=partition_id)


def retry_stalled(job_ids):
    """Put back on the queue those of `job_ids` whose worker stopped; return how many."""
    return len(jobs.retry_stalled(job_ids=job_ids, queue=QUEUE))


def defer_standing_instructions(*, date):
    from banking.payments.tasks import defer_standing_instructions as defer

    return defer(date)
