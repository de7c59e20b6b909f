"""`kill -9` of a worker in the middle of a partition, then a rerun: the day finishes
and nothing is posted twice. A real worker process, a real kill."""

import datetime
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from banking.core import jobs
from banking.ledger.models import BusinessDate, Posting
from banking.testing import make_user
from banking.users.roles import Role

from ..actions import EndOfDayRunning, start_end_of_day
from ..models import EodPartition, EodRun, PartitionState, RunState
from .steps import POSTING, POSTING_STEP, PREFIX, SLEEP_ENV, make_accounts, postings_per_account

ROOT = Path(__file__).resolve().parents[3]
ACCOUNTS = 6


def start_worker(sleep, log):
    settings = connection.settings_dict
    url = f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.test",
           "CBS_EOD_PARTITION_SIZE": "3", SLEEP_ENV: str(sleep)}
    return subprocess.Popen([sys.executable, "-m", "banking.operations.tests.crash_worker"], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT)


def wait_for(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"Timed out waiting for {what}")


def posted():
    return Posting.objects.filter(account__code__startswith=PREFIX).count()


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_partition_then_a_rerun_posts_nothing_twice(monkeypatch, tmp_path, day_of):
    day_of(POSTING_STEP)  # as in the worker (crash_worker.py)
    today = timezone.localdate()
    BusinessDate.objects.update_or_create(pk=1, defaults={"date": today})
    accounts = make_accounts(ACCOUNTS)
    ops = make_user(Role.OPERATIONS, mfa=False)
    run = start_end_of_day(actor=ops)

    log = (tmp_path / "workers.log").open("w")
    first = start_worker(sleep=0.5, log=log)
    try:
        # Some of the first part's postings are made, not all: kill the worker there.
        try:
            wait_for(lambda: posted() >= 1 or first.poll() is not None, 60, "the first posting")
        except AssertionError:
            raise AssertionError((tmp_path / "workers.log").read_text()[-4000:]) from None
        assert first.poll() is None, (tmp_path / "workers.log").read_text()[-3000:]
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    done_before = posted()
    assert 1 <= done_before < ACCOUNTS
    stuck = EodPartition.objects.get(step__run=run, step__name=POSTING, state=PartitionState.RUNNING)
    assert stuck.attempts == 1

    # The rerun: starting end of day again finds the run under way and puts back on the
    # queue the part whose worker stopped sending heartbeats.
    monkeypatch.setattr(jobs, "STALLED_AFTER", 1)

    def rerun():
        try:
            start_end_of_day(actor=ops)
        except EndOfDayRunning as running:
            return "put back on the queue" in str(running)
        raise AssertionError("a second run started")

    wait_for(rerun, 30, "the stalled part to be put back on the queue")
    # Back on the queue, committed, before any worker runs again.
    assert jobs.jobs_query().get(pk=stuck.job_id).status == "todo"

    second = start_worker(sleep=0, log=log)
    try:
        wait_for(lambda: EodRun.objects.filter(pk=run.pk, state__in=[RunState.DONE, RunState.FAILED]).exists(), 90,
                 "the day to finish")
    finally:
        second.send_signal(signal.SIGTERM)
        try:
            second.wait(20)
        except subprocess.TimeoutExpired:
            second.kill()
    run.refresh_from_db()
    assert run.state == RunState.DONE, run.error
    assert BusinessDate.objects.current() == today + datetime.timedelta(days=1)
    # Every account has its one posting: those made before the kill were found by their key.
    assert postings_per_account() == {account.pk: 1 for account in accounts}
    stuck.refresh_from_db()
    assert stuck.state == PartitionState.DONE and stuck.attempts == 2
