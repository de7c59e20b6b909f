"""Is this process ready to serve the bank, and what is it doing: the questions that
`/readyz` and `/metrics` (portals/monitoring.py) ask.

Readiness (`readiness()`) is four checks, each answering "ok", "not configured" or a
failure in words, never an exception's text (the answer is public):
- database: the default database answers a `SELECT 1`;
- migrations: every migration on disk is recorded as applied (a release deployed
  before `migrate` ran is not ready: its code expects tables that are not there);
- redis: the shared cache answers a write, when the settings configure a Redis cache
  (production does, REDIS_URL); without one it says so and does not fail. The queue
  needs no broker: procrastinate keeps its jobs in PostgreSQL (banking/core/jobs.py);
- worker: a background worker has sent a heartbeat within WORKER_FRESH_SECONDS.
  Procrastinate's workers already beat every 10 seconds into `procrastinate_workers`
  (jobs.live_workers reads it), so there is no second heartbeat to keep.

The migrations and worker checks need the database: when it is down they say so
rather than fail on their own account.
"""

import datetime
import functools

from django.db import DatabaseError, connection
from django.utils import timezone

OK = "ok"
NOT_CONFIGURED = "not configured"
# The rule: a worker that has not reported for two minutes is not there.
WORKER_FRESH_SECONDS = 120


def readiness():
    """{check name: "ok" | "not configured" | a failure in words}, and whether all passed."""
    checks = {"database": check_database()}
    database_up = checks["database"] == OK
    checks["migrations"] = check_migrations() if database_up else "not checked: the database did not answer"
    checks["redis"] = check_redis()
    checks["worker"] = check_worker() if database_up else "not checked: the database did not answer"
    ready = all(result in (OK, NOT_CONFIGURED) for result in checks.values())
    return ready, checks


def check_database():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return "failed: the database did not answer"
    return OK


@functools.cache
def _migrations_on_disk():
    """{(app, name): the migrations it replaces} for every migration in the code. Read
    once per process: the code on disk does not change under a running process."""
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    return {key: tuple(migration.replaces or ()) for key, migration in loader.disk_migrations.items()}


def unapplied_migrations():
    """The migrations in the code that the database has not recorded, sorted. A
    squashed migration counts as applied when every migration it replaces is."""
    from django.db.migrations.recorder import MigrationRecorder

    applied = set(MigrationRecorder(connection).applied_migrations())
    return sorted(
        key for key, replaces in _migrations_on_disk().items()
        if key not in applied and not (replaces and all(old in applied for old in replaces))
    )


def check_migrations():
    try:
        missing = unapplied_migrations()
    except DatabaseError:
        return "failed: the migration records could not be read"
    if missing:
        return f"failed: {len(missing)} migration{'s' if len(missing) != 1 else ''} not applied"
    return OK


def check_redis():
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    cache = caches["default"]
    if not isinstance(cache, RedisCache):
        return NOT_CONFIGURED
    try:
        cache.set("cbs:readyz", 1, timeout=30)
    except Exception:  # redis-py's ConnectionError, TimeoutError, ResponseError: all mean "not answering"
        return "failed: Redis did not answer"
    return OK


def check_worker():
    from . import jobs

    try:
        live = jobs.live_workers(seconds_since_heartbeat=WORKER_FRESH_SECONDS)
    except DatabaseError:
        return "failed: the workers' heartbeats could not be read"
    if not live:
        return f"failed: no background worker has reported in the last {WORKER_FRESH_SECONDS // 60} minutes"
    return OK


# --- Figures for /metrics -----------------------------------------------------------

def queue_depth():
    """{queue name: jobs waiting}, every declared queue included (at 0 when empty)."""
    from django.db.models import Count
    from procrastinate.contrib.django.models import ProcrastinateJob

    from . import jobs

    depth = dict.fromkeys(jobs.queue_names(), 0)
    waiting = ProcrastinateJob.objects.filter(status="todo").order_by().values_list("queue_name")
    depth.update(waiting.annotate(n=Count("id")))
    return depth


def postings_last_minute(now=None):
    """How many postings the ledger wrote in the minute before `now`.

    Postings carry no time of their own; their journal entry's `booked_at` does, and it
    is not indexed (every index costs the posting path). Entries are numbered in the
    order they are booked, so the first entry of the minute is found by a binary
    search over entry ids (about 20 primary-key look-ups for a million entries), and
    the postings from that entry on are counted through the postings' index on their
    entry. Entries booked in the same instant by concurrent transactions may land a
    few ids out of order: the figure is a rate, good to a posting or two."""
    from banking.ledger.models import JournalEntry, Posting

    since = (now or timezone.now()) - datetime.timedelta(minutes=1)
    entries = JournalEntry.objects.order_by("id").values_list("id", "booked_at")

    def first_from(entry_id):
        return entries.filter(id__gte=entry_id).first()

    last = entries.order_by("-id").first()
    if last is None or last[1] < since:
        return 0
    first = entries.first()
    if first[1] >= since:
        start = first[0]
    else:
        # first_from(low) is before the minute; first_from(high) is in it.
        low, high = first[0], last[0]
        while high - low > 1:
            middle = (low + high) // 2
            entry = first_from(middle)
            if entry[1] >= since:
                high = middle
            else:
                low = middle
        start = first_from(high)[0]
    return Posting.objects.filter(entry_id__gte=start).count()
