"""`kill -9` of a process running the accrual step, and of one running the quarter's
credit, each in the middle of a partition, then a rerun: balances, the GL and the
records equal those of a day that was never interrupted.

To be sure the kill lands inside a partition, the test holds up the second
partition's transaction part way: for the accrual, its own uncommitted row for the
second account of that partition (the step's INSERT waits on its key, having written
the row before); for the credit, a lock on that account's ledger row (the batch waits
there, holding the GL and the accounts before it). Once the first partition has
committed and the second waits, the process is killed; the hold is let go, and the
dead process's transaction is never committed."""

import datetime
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from django.db import connection, transaction

from banking.deposits import savings
from banking.deposits.models import SavingsAccrual, SavingsCredit, SavingsInterestPayable
from banking.ledger.models import JournalEntry, LedgerAccount, Posting

from .factories import Bank
from .savings_days import close_day, on

ROOT = Path(__file__).resolve().parents[3]
QUARTER_END = datetime.date(2027, 3, 31)
SIZE = 2  # accounts per partition: six accounts, three partitions


def database_url():
    settings = connection.settings_dict
    return f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"


def state():
    """Everything the steps write, without the ids and times that differ between runs."""
    return {
        "balances": dict(LedgerAccount.objects.values_list("code", "balance")),
        "postings": sorted(Posting.objects.values_list("account__code", "side", "amount", "balance_after",
                                                       "business_date")),
        "entries": sorted(JournalEntry.objects.values_list("idempotency_key", "total", "narration")),
        "accruals": sorted(SavingsAccrual.objects.values_list("date", "account_id", "interest", "accrued",
                                                              "month_total")),
        "credits": sorted(SavingsCredit.objects.values_list("date", "account_id", "accrued", "amount")),
        "payable": sorted(SavingsInterestPayable.objects.values_list("product_id", "branch_id", "accrued",
                                                                     "accrued_through", "credited_through")),
    }


def run_steps(day, *names):
    from banking.core.eod import registered

    for step in registered():
        if step.name in names and step.applies_on(day):
            if step.partitions is None:
                step.run(date=day)
            else:
                for first, last in step.partitions(date=day, size=SIZE):
                    step.run(date=day, first=first, last=last)


def wait_for(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"Timed out waiting for {what}")


def others_waiting_on_a_lock():
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                       " AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'")
        return cursor.fetchone()[0]


def other_sessions(besides):
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                       " AND pid <> pg_backend_pid() AND pid <> ALL(%s)", [list(besides)])
        return cursor.fetchone()[0]


def kill_mid_partition(step, hold, committed, log):
    """Start a process running `step` for the quarter's end, hold up its second
    partition with `hold` (SQL run in a transaction of a connection of the test's own,
    given the held account), wait for `committed()` (the first partition's work)
    and for the process to wait on the hold, then kill it with SIGKILL."""
    blocker = psycopg.connect(database_url())
    blocker.execute(*hold)  # opens a transaction, left open
    process = subprocess.Popen(
        [sys.executable, "-m", "banking.deposits.tests.crash_step", step, QUARTER_END.isoformat(), str(SIZE)],
        cwd=ROOT, env={**os.environ, "DATABASE_URL": database_url(), "DJANGO_SETTINGS_MODULE": "config.settings.test"},
        stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: (committed() and others_waiting_on_a_lock()) or process.poll() is not None, 120,
                 "the first partition to commit and the second to wait")
        assert process.poll() is None, "the step ended before it could be killed"
        os.kill(process.pid, signal.SIGKILL)
        assert process.wait(10) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
        blocker.rollback()
        blocker_pid = blocker.info.backend_pid
        # The dead process's session finds its client gone and rolls back.
        wait_for(lambda: other_sessions([blocker_pid]) == 0, 60, "the killed process's session to end")
        blocker.close()


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_killed_mid_partition_accrual_and_credit_then_rerun_equal_a_run_never_interrupted(tmp_path):
    bank = Bank()
    on(QUARTER_END - datetime.timedelta(days=1))
    accounts = [bank.open_account(product="SB", deposit=amount)
                for amount in (1_00_000_00, 2_345_67, 50_000_00, 7_77_777_77, 12_00_000_00, 333_33)]
    close_day(QUARTER_END - datetime.timedelta(days=1), size=SIZE)
    on(QUARTER_END)
    held = accounts[3]  # the second account of the second partition

    # The day as it runs without a crash, then undone.
    with transaction.atomic():
        close_day(QUARTER_END, size=SIZE)
        uninterrupted = state()
        assert uninterrupted["credits"] and len(uninterrupted["credits"]) == len(accounts)
        transaction.set_rollback(True)
    before = state()

    log = (tmp_path / "steps.log").open("w")
    # 1. The accrual, killed in its second partition.
    run_steps(QUARTER_END, "ledger.release_expired_holds")
    kill_mid_partition(
        savings.ACCRUAL_STEP,
        ("INSERT INTO deposits_savingsaccrual (date, account_id, balance, rate, interest, accrued, month_total,"
         " month_days) VALUES (%s, %s, 0, 0, 0, 0, 0, 1)", [QUARTER_END, held.pk]),
        lambda: SavingsAccrual.objects.filter(date=QUARTER_END).count() >= SIZE, log)
    accrued = set(SavingsAccrual.objects.filter(date=QUARTER_END).values_list("account_id", flat=True))
    assert accrued == {accounts[0].pk, accounts[1].pk}, (tmp_path / "steps.log").read_text()[-3000:]
    run_steps(QUARTER_END, savings.ACCRUAL_STEP, savings.ACCRUAL_POSTING_STEP)
    assert SavingsAccrual.objects.filter(date=QUARTER_END).count() == len(accounts)

    # 2. The quarter's credit, killed in its second partition.
    kill_mid_partition(
        savings.CREDIT_STEP,
        ("SELECT 1 FROM ledger_ledgeraccount WHERE id = %s FOR UPDATE", [held.ledger_account_id]),
        lambda: SavingsCredit.objects.filter(date=QUARTER_END).count() >= SIZE, log)
    credited = set(SavingsCredit.objects.filter(date=QUARTER_END).values_list("account_id", flat=True))
    assert credited == {accounts[0].pk, accounts[1].pk}, (tmp_path / "steps.log").read_text()[-3000:]
    assert Posting.objects.filter(account_id=held.ledger_account_id).count() == 1  # its opening only
    run_steps(QUARTER_END, savings.CREDIT_STEP, savings.CREDIT_ROUNDING_STEP, savings.DORMANCY_STEP,
              savings.CHARGES_STEP)

    after = state()
    assert after != before
    assert after == uninterrupted
    # ₹7,77,777.77 at 2.70% for 30 and 31 March: 77,777,777 × 2.70 ÷ 365 = 575,342.46 →
    # 575,342 hundredths a day, 1,150,684 for the two: 11,506.84 paise → ₹115.07, once.
    held.ledger_account.refresh_from_db()
    assert held.ledger_account.balance == 7_77_777_77 + 115_07
