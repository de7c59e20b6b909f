"""Background work: the one module behind which the task queue sits.

The queue is procrastinate (`procrastinate.contrib.django`): its jobs are rows in the
bank's own PostgreSQL database, so a job is written in the same transaction as the
business write that asks for it. It exists exactly when its cause committed; roll the
transaction back and the job was never there. Any number of workers, on any number of
machines pointed at the same database, share the queue (`manage.py run_worker`).
Nothing outside this module imports procrastinate.

Declaring work, in an app's `tasks.py` (found by procrastinate when Django starts):

    from banking.core import jobs

    @jobs.task(queue="mail", retry=jobs.backoff(attempts=10))
    def send_email(*, email_id):
        ...

    @jobs.periodic(cron="*/5 * * * *")
    def expire_approvals(*, timestamp):
        ...

- `task(...)` takes `name` (default: the function's dotted path; keep it stable once
  jobs of it may be waiting), `queue` ("default"), `retry` (None: a failure is final;
  an int: that many retries at once; `backoff(...)`: waits that double), `lock` (no two
  jobs with the same lock run at once; later ones wait their turn) and
  `queueing_lock` (at most one job with it waits in the queue).
- `periodic(cron=...)` declares a task the workers defer on a cron schedule (five
  fields, read in UTC: a schedule that names an hour must allow for IST's +5:30).
  Its function takes `timestamp` (the tick, seconds since the epoch). A periodic task
  is locked by its name: two workers never run it at once, and at most one run of it
  waits.
- Arguments are JSON: ids, integer paise, strings (dates as ISO strings), booleans,
  None, and lists or dicts of them. Never a model instance, a Decimal, a float or a
  date object: `defer` refuses them with a TypeError.

Deferring, inside the business transaction:

    jobs.defer(send_email, email_id=email.pk)
    jobs.defer(pay_standing_instructions, date="2026-04-01",
               queueing_lock="standing:2026-04-01")   # None if one already waits
    jobs.defer(task, after=datetime.timedelta(minutes=5), ...)  # or at=<aware datetime>
    jobs.defer(task, queue="eod", lock="eod:accrual", ...)       # override the task's

`defer` returns the job's id, or None when `queueing_lock` found a job already
waiting (the caller's transaction is untouched either way).

A task that raises is retried as its `retry` says; `raise RetryLater(message, at=...)`
chooses the moment of the next attempt itself. Every failure is recorded with its
error (`JobFailure`, read by the operations queue screen), and a failed job can be
sent back to the queue (`retry_failed`).

Reading and tending the queue: `jobs_query()` (every job with its last error, runs and
retries), `status_counts()`, `live_workers()`, `schedule()`, `retry_stalled()` (the
jobs of a worker that stopped mid-job go back to the queue; `core.retry_stalled_jobs`
runs it every minute) and `remove_finished()` (hourly, `core.remove_old_jobs`).

Running: `run_worker(...)` is the long-running worker (`manage.py run_worker`);
`run_waiting()` runs every job that is due right now, in this thread and on this
thread's database connection, until none is left: tests (the `run_jobs` fixture in
banking.testing) and one-off runs use it.

Batch work runs as nobody in particular: a task calls actions with `actor=None` inside
`banking.audit.context.audit_context(channel="batch", actor_username=<task>)`, as the
management commands do.
"""

import functools
import logging
from contextlib import contextmanager

from django.db import connection, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

DEFAULT_QUEUE = "default"

# Procrastinate's names for a job's state, and what the bank's screens call them.
STATUS_LABELS = {
    "todo": "Waiting",
    "doing": "Running",
    "succeeded": "Done",
    "failed": "Failed",
    "cancelled": "Cancelled",
    "aborted": "Aborted",
}


class RetryLater(Exception):  # noqa: N818 - it is a request, not an error
    """Raised by a task that failed and knows when it should be tried again (a mail
    server that refused, say). Honoured by `backoff` within its attempts."""

    def __init__(self, message, *, at):
        super().__init__(message)
        self.at = at


class NotFailed(Exception):  # noqa: N818
    """The job asked for is not a failed one: waiting, running, done, or not there."""


def _app():
    from procrastinate.contrib.django import app

    return app


def _retry_strategy_class():
    from procrastinate.retry import BaseRetryStrategy, RetryDecision

    class Backoff(BaseRetryStrategy):
        def __init__(self, *, attempts, first, longest):
            self.attempts, self.first, self.longest = attempts, first, longest

        def get_retry_decision(self, *, exception, job):
            if job.attempts + 1 >= self.attempts:
                return None
            if isinstance(exception, RetryLater) and exception.at is not None:
                return RetryDecision(retry_at=exception.at)
            wait = min(self.first * 2 ** min(job.attempts, 30), self.longest)
            return RetryDecision(retry_in={"seconds": wait})

    return Backoff


def backoff(*, attempts=5, first=60, longest=3600):
    """Retry a failed job up to `attempts` runs in all, waiting `first` seconds after
    the first failure, twice as long after each next one, never more than `longest`."""
    if attempts < 1:
        raise ValueError("A job runs at least once.")
    return _retry_strategy_class()(attempts=attempts, first=first, longest=longest)


def task(_func=None, *, name=None, queue=DEFAULT_QUEUE, retry=None, lock=None, queueing_lock=None, priority=0):
    """Declare a function as background work (see the module's docstring)."""

    def wrap(func):
        return _app().task(
            name=name, queue=queue, retry=retry or False, lock=lock, queueing_lock=queueing_lock,
            priority=priority, pass_context=False, task_middleware=[_record_failures],
        )(func)

    return wrap(_func) if _func is not None else wrap


def periodic(*, cron, name=None, queue=DEFAULT_QUEUE, retry=None, priority=0):
    """Declare a function as background work that the workers defer on `cron`. It is
    locked by its name: one run at a time, and at most one waiting."""

    def wrap(func):
        task_name = name or f"{func.__module__}.{func.__qualname__}"
        declared = task(func, name=task_name, queue=queue, retry=retry, lock=task_name,
                        queueing_lock=task_name, priority=priority)
        return _app().periodic(cron=cron)(declared)

    return wrap


def defer(task, /, *, lock=None, queueing_lock=None, queue=None, priority=None, after=None, at=None, **kwargs):
    """Queue a job of `task` with `kwargs`, in the current transaction. Returns its id,
    or None if a job with `queueing_lock` is already waiting."""
    from procrastinate.exceptions import AlreadyEnqueued
    from procrastinate.jobs import JobDeferrer

    _check_json(kwargs, task.name)
    if after is not None:
        at = timezone.now() + after
    options = {"lock": lock, "queueing_lock": queueing_lock, "queue": queue, "priority": priority, "schedule_at": at}
    deferrer = task.configure(**{key: value for key, value in options.items() if value is not None})
    # Through Django's connection, always: inside a worker the app's connector is the
    # worker's own pool, and a job deferred there would commit before (or without) the
    # transaction that asked for it: the next step's jobs seen before their rows exist.
    deferrer = JobDeferrer(job_manager=_django_job_manager(), job=deferrer.job)
    try:
        # A savepoint: a refused queueing lock must not abort the caller's transaction.
        with transaction.atomic():
            return deferrer.defer(**kwargs)
    except AlreadyEnqueued:
        return None


@functools.cache
def _django_job_manager():
    from procrastinate.contrib.django.django_connector import DjangoConnector
    from procrastinate.manager import JobManager

    return JobManager(DjangoConnector())


def _check_json(value, where):
    if value is None or isinstance(value, bool | int | str):
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{where}: argument names are strings, not {key!r}.")
            _check_json(item, f"{where}.{key}")
        return
    if isinstance(value, list | tuple):
        for item in value:
            _check_json(item, where)
        return
    raise TypeError(
        f"{where}: a job takes ids, integer paise, strings (dates as ISO strings), booleans and lists or "
        f"dicts of them, not {type(value).__name__}."
    )


# --- Failures ---------------------------------------------------------------------

def _record_failures(call_next, context, worker):
    """Wraps every task: a record of each failure with its error, which procrastinate
    itself only logs. (Procrastinate's Django app already gives each task fresh
    database connections, as a request gets them.)"""
    try:
        return call_next()
    except Exception as error:
        note_failure(job_id=context.job.id, task_name=context.job.task_name, attempt=context.job.attempts + 1,
                     error=error)
        raise


def note_failure(*, job_id, task_name, attempt, error):
    from .models import JobFailure

    text = f"{type(error).__name__}: {error}"[:2000]
    try:
        with transaction.atomic():
            JobFailure.objects.create(job_id=job_id, task_name=task_name[:128], attempt=attempt, error=text)
    except Exception:  # the failure is still logged by the worker; never hide the task's own error
        logger.exception("Could not record the failure of job %s", job_id)


def retry_failed(job_id):
    """Send the failed job `job_id` back to the queue, to run as soon as a worker is
    free. Raises NotFailed if it is not a failed job. Returns its task name."""
    from procrastinate.contrib.django.models import ProcrastinateJob

    if not 0 < job_id < 2**63:
        raise NotFailed(f"There is no job {job_id}.")
    with transaction.atomic():
        job = ProcrastinateJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status != "failed":
            raise NotFailed(f"Job {job_id} is not a failed job.")
        _app().job_manager.retry_job_by_id(job_id=job_id, retry_at=_database_now())
    return job.task_name


def _database_now():
    # The database's clock, which decides when a job is due: inside a transaction
    # (a test's), now() is when it began, and a later time would not be due yet.
    with connection.cursor() as cursor:
        cursor.execute("SELECT now()")
        return cursor.fetchone()[0]


# Workers send a heartbeat every 10 seconds; three missed ones mean the worker is gone.
STALLED_AFTER = 30


def retry_stalled(*, seconds_since_heartbeat=None, queue=None, job_ids=None):
    """Send back to the queue the running jobs whose worker stopped sending heartbeats
    more than `seconds_since_heartbeat` ago (STALLED_AFTER unless given; killed with
    `kill -9`, its machine lost): procrastinate's stalled jobs, of `queue` and among
    `job_ids` when given. The one rule for every queue: `core.retry_stalled_jobs` runs
    it every minute over all of them, end of day's included, and the end-of-day
    controller for its own partitions when operations starts a run again. Returns the
    ids of the jobs sent back."""
    from asgiref.sync import async_to_sync
    from procrastinate.exceptions import ConnectorException

    if seconds_since_heartbeat is None:
        seconds_since_heartbeat = STALLED_AFTER
    manager = _app().job_manager
    stalled = async_to_sync(manager.get_stalled_jobs)(queue=queue, seconds_since_heartbeat=seconds_since_heartbeat)
    wanted = None if job_ids is None else set(job_ids)
    sent = []
    for job in stalled:
        if wanted is None or job.id in wanted:
            try:
                with transaction.atomic():
                    manager.retry_job_by_id(job_id=job.id, retry_at=_database_now())
            except ConnectorException:
                continue  # another sweep sent it back first: it is no longer running
            sent.append(job.id)
    return sent


# --- Reading the queue --------------------------------------------------------------

def jobs_query():
    """Every job, newest first, each with `last_error` (its latest failure's error,
    or None), `failures` (how many times it failed), `runs` (how many times a worker
    started it), `retries` (how many times it went back to the queue after a failure,
    by its retry rule or by hand) and `changed_at` (when its state last changed)."""
    from django.db.models import Count, IntegerField, OuterRef, Subquery
    from django.db.models.functions import Coalesce
    from procrastinate.contrib.django.models import ProcrastinateEvent, ProcrastinateJob

    from .models import JobFailure

    def count(query):
        counted = query.order_by().values("job_id").annotate(n=Count("id")).values("n")[:1]
        return Coalesce(Subquery(counted, output_field=IntegerField()), 0)

    failures = JobFailure.objects.filter(job_id=OuterRef("pk"))
    events = ProcrastinateEvent.objects.filter(job_id=OuterRef("pk"))
    return ProcrastinateJob.objects.annotate(
        last_error=Subquery(failures.order_by("-id").values("error")[:1]),
        failures=count(failures),
        runs=count(events.filter(type="started")),
        retries=count(events.filter(type__in=["deferred_for_retry", "retried"])),
        # A "scheduled" event carries the time the job is due, not a change.
        changed_at=Subquery(events.exclude(type="scheduled").order_by("-at", "-id").values("at")[:1]),
    ).order_by("-id")


def live_workers(*, seconds_since_heartbeat=30):
    """How many workers have sent a heartbeat lately (they beat every 10 seconds)."""
    import datetime

    from procrastinate.contrib.django.models import ProcrastinateWorker

    since = timezone.now() - datetime.timedelta(seconds=seconds_since_heartbeat)
    return ProcrastinateWorker.objects.filter(last_heartbeat__gte=since).count()


def queue_names():
    """Every queue a declared task uses."""
    return sorted({_app().tasks[name].queue for name in task_names()} | {DEFAULT_QUEUE})


def task_names():
    """Every declared task's name, procrastinate's own housekeeping left out."""
    return sorted(name for name in _app().tasks if not name.startswith(("builtin:", "procrastinate.")))


def schedule():
    """[(task name, cron)] of every periodic task."""
    return sorted((periodic.task.name, periodic.cron) for periodic in _app().periodic_registry.periodic_tasks.values())


def summary(task_name):
    """What a task does: the first paragraph of its docstring, in words (no `code`
    marks), or ""."""
    task = _app().tasks.get(task_name)
    doc = (task.func.__doc__ or "") if task is not None else ""
    return " ".join(doc.strip().split("\n\n")[0].split()).replace("`", "")


def status_counts():
    """{status: how many jobs}, for every status that has any."""
    from django.db.models import Count
    from procrastinate.contrib.django.models import ProcrastinateJob

    return dict(ProcrastinateJob.objects.order_by().values_list("status").annotate(n=Count("id")))


def remove_finished(*, older_than_hours):
    """Remove the jobs that finished (done, cancelled or aborted) more than
    `older_than_hours` ago, and the failures recorded for them. Failed jobs stay
    until someone retries them."""
    from asgiref.sync import async_to_sync
    from procrastinate.contrib.django.models import ProcrastinateJob

    from .models import JobFailure

    async_to_sync(_app().job_manager.delete_old_jobs)(nb_hours=older_than_hours, include_cancelled=True,
                                                      include_aborted=True)
    JobFailure.objects.exclude(job_id__in=ProcrastinateJob.objects.values("id")).delete()


def forget_all_jobs():
    """Empty the queue: every job, its events and the workers' registrations. For the
    test suite only, after a test that commits (Django's flush leaves procrastinate's
    tables alone: it does not manage them)."""
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs, "
                       "procrastinate_workers RESTART IDENTITY")


# --- Running ------------------------------------------------------------------------

def run_worker(*, queues=None, concurrency=1, name=None, burst=False):
    """Run a worker until it is stopped (SIGINT or SIGTERM: it finishes the jobs it
    holds first). It also defers the periodic tasks as they fall due; several
    workers defer each tick once between them. `burst`: run the jobs that are due,
    then stop, deferring no periodic task."""
    import asyncio

    app = _app()
    with app.replace_connector(app.connector.get_worker_connector()):
        async def work():
            async with app.open_async():
                options = {**app.worker_defaults, "queues": queues, "concurrency": concurrency, "name": name,
                           "wait": not burst, "install_signal_handlers": True}
                await _worker(app, periodic=not burst, **options).run()

        asyncio.run(work())


def _worker(app, *, periodic, **options):
    from procrastinate import worker as worker_module

    app.perform_import_paths()
    worker = worker_module.Worker(app=app, **options)
    if not periodic:
        async def no_periodic_deferrer():
            return None

        worker._periodic_deferrer = no_periodic_deferrer
    return worker


def run_waiting(*, queues=None):
    """Run every job that is due now, one at a time, in this thread and on this
    thread's database connection (inside a test's transaction too), until none is
    left; jobs that the runs defer are run as well. Periodic tasks are not deferred
    by it. Returns how many jobs it started."""
    from asgiref.sync import async_to_sync

    app = _app()
    # Without the Django app's worker defaults: they close the thread's database
    # connections after each task, and this thread's connection is the caller's.
    worker = _worker(app, periodic=False, queues=queues, wait=False, listen_notify=False,
                     install_signal_handlers=False, name="in-process")
    started = []
    original = worker._process_job

    async def counting(context):
        started.append(context.job.id)
        return await original(context)

    worker._process_job = counting
    with _tasks_on_this_thread(), app.replace_connector(_in_process_connector()):
        async_to_sync(worker.run)()
    return len(started)


def _in_process_connector():
    # Django's connection hands jsonb back as text (its JSONField decodes it);
    # procrastinate's worker expects a job's arguments decoded.
    import json

    from procrastinate.contrib.django.django_connector import DjangoConnector

    class InProcessConnector(DjangoConnector):
        def _dictfetch(self, cursor):
            for row in super()._dictfetch(cursor):
                if isinstance(row.get("args"), str):
                    row["args"] = json.loads(row["args"])
                yield row

    return InProcessConnector(alias=_app().connector.alias)


@contextmanager
def _tasks_on_this_thread():
    # Procrastinate runs a synchronous task on a pool thread (its own database
    # connection). In-process runs keep it on the caller's thread, so that it sees
    # the caller's uncommitted work, as a test's transaction needs.
    from asgiref.sync import sync_to_async
    from procrastinate import utils

    def on_caller_thread(func, *args, **kwargs):
        return sync_to_async(func, thread_sensitive=True)(*args, **kwargs)

    original = utils.sync_to_async
    utils.sync_to_async = on_caller_thread
    try:
        yield
    finally:
        utils.sync_to_async = original
