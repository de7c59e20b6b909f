"""Background work through banking.core.jobs: a job exists exactly when the
transaction that deferred it committed, runs in the test's transaction through the
`run_jobs` fixture, refuses arguments that are not JSON, and its failures are kept
with their error and can be retried."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection, transaction

from banking.core import jobs
from banking.core.models import JobFailure

ran = []


@jobs.task(name="tests.core.note")
def note(*, word):
    ran.append(word)
    return word


@jobs.task(name="tests.core.fail", retry=jobs.backoff(attempts=2, first=600))
def fail(*, why):
    raise RuntimeError(why)


@jobs.task(name="tests.core.chain")
def chain(*, word):
    jobs.defer(note, word=f"after {word}")


def _job(job_id):
    return jobs.jobs_query().get(pk=job_id)


@pytest.fixture(autouse=True)
def _clear():
    ran.clear()


def _count(job_id):
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM procrastinate_jobs WHERE id = %s", [job_id])
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_a_job_deferred_in_a_rolled_back_transaction_does_not_exist():
    class Rollback(Exception):
        pass

    job_id = None
    with pytest.raises(Rollback), transaction.atomic():
        job_id = jobs.defer(note, word="never")
        assert _count(job_id) == 1  # visible inside its own transaction
        raise Rollback
    assert job_id is not None
    assert _count(job_id) == 0


@pytest.mark.django_db(transaction=True)
def test_a_job_deferred_inside_a_worker_belongs_to_the_tasks_transaction():
    """A worker swaps the app's connector for a pool of its own (run_worker); a job a
    task defers must still ride on the task's Django transaction, or the next step's
    jobs would be seen before the rows they work on commit."""
    from procrastinate.contrib.django import app

    class Rollback(Exception):
        pass

    job_id = None
    with app.replace_connector(app.connector.get_worker_connector()), pytest.raises(Rollback), transaction.atomic():
        job_id = jobs.defer(note, word="inside a worker")
        assert _count(job_id) == 1
        raise Rollback
    assert job_id is not None
    assert _count(job_id) == 0


@pytest.mark.django_db(transaction=True)
def test_a_job_deferred_in_a_committed_transaction_exists_and_waits():
    with transaction.atomic():
        job_id = jobs.defer(note, word="kept")
    assert _count(job_id) == 1
    job = _job(job_id)
    assert (job.status, job.task_name, job.args) == ("todo", "tests.core.note", {"word": "kept"})


@pytest.mark.django_db(transaction=True)
def test_a_job_is_not_visible_to_another_connection_before_commit():
    from banking.testing import run_together

    with transaction.atomic():
        job_id = jobs.defer(note, word="pending")
        (seen,), errors = run_together(lambda: _count(job_id))
        assert errors == []
        assert seen == 0
    (seen,), _ = run_together(lambda: _count(job_id))
    assert seen == 1


def test_run_jobs_runs_what_is_waiting_in_the_test_transaction(run_jobs):
    first = jobs.defer(note, word="one")
    jobs.defer(chain, word="two")
    assert run_jobs() == 3  # note, chain, and the note the chain deferred
    assert sorted(ran) == ["after two", "one"]
    assert _job(first).status == "succeeded"
    assert run_jobs() == 0


def test_run_jobs_runs_only_the_queues_asked_for(run_jobs):
    jobs.defer(note, word="mail", queue="mail")
    jobs.defer(note, word="other")
    assert run_jobs(queues=["mail"]) == 1
    assert ran == ["mail"]


def test_a_job_scheduled_later_is_not_run_yet(run_jobs):
    job_id = jobs.defer(note, word="later", after=datetime.timedelta(hours=1))
    assert run_jobs() == 0
    assert _job(job_id).status == "todo"


@pytest.mark.parametrize("value", [Decimal("1.50"), 1.5, datetime.date(2026, 4, 1), object(), {"a": Decimal(1)}])
def test_arguments_that_are_not_json_are_refused(db, value):
    with pytest.raises(TypeError, match="tests.core.note"):
        jobs.defer(note, word=value)


def test_a_queueing_lock_keeps_one_job_waiting_and_leaves_the_transaction_usable(db):
    first = jobs.defer(note, word="a", queueing_lock="tests:one")
    assert first is not None
    assert jobs.defer(note, word="b", queueing_lock="tests:one") is None
    # The caller's transaction still works after the refusal.
    assert _job(first).queueing_lock == "tests:one"


def test_a_failure_is_kept_with_its_error_and_retried_with_backoff(run_jobs):
    job_id = jobs.defer(fail, why="the mail server said no")
    assert run_jobs() == 1
    job = _job(job_id)
    # One retry allowed, 600 seconds away: the job waits again, counted as retried.
    assert (job.status, job.attempts, job.runs, job.retries) == ("todo", 1, 1, 1)
    assert job.scheduled_at is not None
    assert job.last_error == "RuntimeError: the mail server said no"
    assert JobFailure.objects.filter(job_id=job_id, attempt=1).exists()


def test_retry_later_names_the_moment_of_the_next_attempt(db):
    strategy = jobs.backoff(attempts=3, first=60)
    at = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)

    class Job:
        attempts = 0

    decision = strategy.get_retry_decision(exception=jobs.RetryLater("later", at=at), job=Job())
    assert decision.retry_at == at
    Job.attempts = 1
    assert strategy.get_retry_decision(exception=RuntimeError(), job=Job()).retry_at is not None
    Job.attempts = 2  # the third run failed: no more
    assert strategy.get_retry_decision(exception=RuntimeError(), job=Job()) is None


def test_waits_double_up_to_the_longest():
    strategy = jobs.backoff(attempts=20, first=60, longest=3600)

    class Job:
        attempts = 0

    waits = []
    before = datetime.datetime.now(datetime.UTC)
    for attempts in range(8):
        Job.attempts = attempts
        waits.append(round((strategy.get_retry_decision(exception=RuntimeError(), job=Job()).retry_at
                            - before).total_seconds() / 60))
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60]


def test_a_failed_job_can_be_sent_back_to_the_queue(run_jobs):
    job_id = jobs.defer(fail, why="down")
    run_jobs()
    with pytest.raises(jobs.NotFailed):
        jobs.retry_failed(job_id)  # waiting for its retry, not failed
    with connection.cursor() as cursor:  # make its retry due now
        cursor.execute("UPDATE procrastinate_jobs SET scheduled_at = now() WHERE id = %s", [job_id])
    run_jobs()
    job = _job(job_id)
    assert (job.status, job.failures, job.runs) == ("failed", 2, 2)
    assert jobs.retry_failed(job_id) == "tests.core.fail"
    assert _job(job_id).status == "todo"
    run_jobs()
    job = _job(job_id)
    assert (job.failures, job.runs, job.retries) == (3, 3, 2)


def test_the_schedule_lists_the_periodic_tasks():
    assert all(cron.count(" ") == 4 for _, cron in jobs.schedule())


def test_finished_jobs_are_removed_after_a_week_but_failed_ones_stay(run_jobs):
    from banking.core.tasks import remove_old_jobs

    done, recent = jobs.defer(note, word="old"), jobs.defer(note, word="new")
    failed = jobs.defer(fail, why="kept")
    run_jobs()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE procrastinate_jobs SET status = 'failed' WHERE id = %s", [failed])  # out of retries
        cursor.execute("UPDATE procrastinate_events SET at = now() - interval '8 days' WHERE job_id IN (%s, %s)",
                       [done, failed])
    jobs.defer(remove_old_jobs, timestamp=0)
    run_jobs()
    remaining = set(jobs.jobs_query().values_list("pk", flat=True))
    assert done not in remaining
    assert {recent, failed} <= remaining
    assert JobFailure.objects.filter(job_id=failed).exists()


def test_a_job_whose_worker_stopped_goes_back_to_the_queue_and_frees_its_lock(run_jobs):
    from banking.core.tasks import retry_stalled_jobs

    job_id = jobs.defer(note, word="stalled", lock="tests:lock")
    waiting = jobs.defer(note, word="behind", lock="tests:lock")
    with connection.cursor() as cursor:  # a worker took it and died: it beat last a minute ago
        cursor.execute("INSERT INTO procrastinate_workers (last_heartbeat) VALUES (now() - interval '1 minute')"
                       " RETURNING id")
        (worker_id,) = cursor.fetchone()
        cursor.execute("UPDATE procrastinate_jobs SET status = 'doing', worker_id = %s WHERE id = %s",
                       [worker_id, job_id])
    assert run_jobs() == 0  # the second waits for the lock the dead worker's job holds
    jobs.defer(retry_stalled_jobs, timestamp=0)
    run_jobs()
    assert sorted(ran) == ["behind", "stalled"]
    assert _job(job_id).status == "succeeded" and _job(waiting).status == "succeeded"
