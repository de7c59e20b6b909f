"""The sealer against real, concurrent writers on PostgreSQL.

A writer whose transaction stalls (a paused worker, a client gone quiet) must not
hold up anyone's posting while the sealer runs, and its event must still be sealed
in its place once it commits."""

import threading
import time
import uuid

import psycopg
import pytest
from django.db import connection, transaction

from banking.audit.actions import record_event, seal_events, verify_trail
from banking.audit.models import AuditEvent, AuditSeal
from banking.ledger.actions import Line, post_entry
from banking.ledger.models import EntryKind
from banking.ledger.tests.helpers import customer_account

WAIT = 10  # seconds: only a broken build waits this long


def _transfer(source, target):
    return post_entry(actor=None, lines=[Line.debit(source, 100), Line.credit(target, 100)],
                      kind=EntryKind.TRANSFER, narration="Transfer", idempotency_key=uuid.uuid4().hex)


def _timed_transfer(source, target):
    started = time.monotonic()
    entry = _transfer(source, target)
    return time.monotonic() - started, entry


def _sealer_blocked_on_the_trail():
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'audit_auditevent'::regclass")
        return cursor.fetchone()[0] > 0


def _until(condition):
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.01)


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_a_stalled_writer_holds_up_no_posting_while_the_sealer_runs():
    a, b, c, d = (customer_account(1_00_000) for _ in range(4))
    seal_events()
    _transfer(c, d)  # warm: this thread's connection and prepared statements
    alone, _ = _timed_transfer(c, d)

    written, release = threading.Event(), threading.Event()
    stalled = {}

    def stalled_writer():
        try:
            with transaction.atomic():
                _transfer(a, b)
                stalled["event"] = record_event(action="test.stalled", object_type="test", object_id="1")
                written.set()
                release.wait(WAIT)
        finally:
            connection.close()

    sealing, runs, sealer_errors = threading.Event(), [], []

    def sealer():
        try:
            while not release.is_set():
                runs.append(seal_events())
                release.wait(0.005)  # back to back, but leaving the machine's cores to the transfer
        except Exception as error:  # noqa: BLE001 reported below
            sealer_errors.append(repr(error))
        finally:
            sealing.set()
            connection.close()

    writer_thread = threading.Thread(target=stalled_writer)
    writer_thread.start()
    assert written.wait(WAIT)
    sealer_thread = threading.Thread(target=sealer)
    sealer_thread.start()
    try:
        # The sealer has finished a run, or is queued on the trail behind the stalled writer.
        _until(lambda: runs or _sealer_blocked_on_the_trail() or sealing.is_set())
        while_sealing, entry = _timed_transfer(c, d)
        runs_during_transfer = len(runs)
    finally:
        release.set()
        writer_thread.join(WAIT)
        sealer_thread.join(WAIT + 5)

    assert sealer_errors == []
    assert while_sealing - alone < 0.1, f"a transfer took {while_sealing:.3f}s while sealing, {alone:.3f}s alone"
    assert runs_during_transfer >= 1
    transfer_event = AuditEvent.objects.get(object_type="ledger.journalentry", object_id=str(entry.pk))
    stalled_event = stalled["event"]
    assert stalled_event.pk < transfer_event.pk

    seal_events()
    chain = list(AuditSeal.objects.values_list("event_id", flat=True))
    assert stalled_event.pk in chain
    assert transfer_event.pk in chain
    assert chain.index(stalled_event.pk) < chain.index(transfer_event.pk)
    assert AuditSeal.objects.count() == AuditEvent.objects.count()
    assert verify_trail() is None


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_an_open_writer_holds_back_the_seal_of_every_later_event_until_it_ends():
    written, release = threading.Event(), threading.Event()
    held = {}

    def open_writer():
        try:
            with transaction.atomic():
                held["event"] = record_event(action="test.open", object_type="test", object_id="open")
                written.set()
                release.wait(WAIT)
        finally:
            connection.close()

    thread = threading.Thread(target=open_writer)
    thread.start()
    try:
        assert written.wait(WAIT)
        later = record_event(action="test.later", object_type="test", object_id="later")
        assert seal_events() == 0
        assert not AuditSeal.objects.filter(event_id=later.pk).exists()
    finally:
        release.set()
        thread.join(WAIT)
    assert seal_events() == 2
    assert list(AuditSeal.objects.values_list("event_id", flat=True)) == [held["event"].pk, later.pk]
    assert verify_trail() is None


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_a_transaction_in_another_database_does_not_hold_back_the_seal():
    """The horizon counts this database's transactions only: a long one elsewhere on
    the same server (another application, a report) never writes this trail."""
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    params["dbname"] = "postgres"
    with psycopg.connect(**params) as elsewhere:
        elsewhere.execute("SELECT pg_current_xact_id()")  # holds an open transaction id
        event = record_event(action="test.here", object_type="test", object_id="here")
        assert seal_events() == 1
        assert AuditSeal.objects.filter(event_id=event.pk).exists()
        elsewhere.rollback()
