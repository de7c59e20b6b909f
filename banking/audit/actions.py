"""Writing, sealing and verifying the audit trail.

Design overview
- `record_event` writes one event inside the caller's transaction, through the
  database function `cbs_record_event` (sql/record_event.sql), which also hashes it:
  the content-hash rule is written there only. It reads the actor, address and
  request id from the audit context unless given them (`event_context`, which the
  posting path also uses to hand them to its database function).
- `seal_events` chains committed events in the order (writer_xid, id), taking no
  lock that a writer waits on. Every event records the id of the transaction that
  wrote it (`writer_xid`, a column default of `pg_current_xact_id()`). Transaction
  ids only grow, so once every transaction of this database older than some id H
  has ended, no event with a writer_xid below H can ever appear again: those events
  are final, and the sealer chains them. H, the horizon, is the oldest transaction
  of this database still running (`pg_stat_activity`, `pg_prepared_xacts`), or,
  when none is, the first id not yet finished when the sealer began
  (`pg_current_snapshot()`). A writer that stalls holds the horizon back: its event
  and every later one wait for a later run, and nobody's posting waits for anything.
  Why not the alternatives: a table lock (`LOCK ... IN SHARE MODE`, as before)
  queues behind any open writer, and every later writer queues behind it, so one
  paused client stopped all posting. An advisory lock shared by writers has the
  same queue. Sealing by id alone is unsafe, because ids are handed out before a
  transaction commits: a stalled event with a lower id could commit after a higher
  one was sealed. A horizon from the whole server's oldest transaction would be
  correct too, but a long transaction in another database (a report, another
  application) would hold back this bank's seal for nothing.
  Sealers take an advisory lock, so they run one at a time.
- `verify_trail` reports the first problem: an edited event (its hash recomputed by
  the database, `cbs_event_hash`), a removed event, an event slipped in below the
  sealed horizon, or a broken chain.
"""

import json
from dataclasses import dataclass

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from banking.core.db import Job, execute_prepared, one_at_a_time

from .context import current, note_event
from .models import GENESIS, AuditEvent, AuditSeal

BATCH = 5000


def _describe(obj):
    if obj is None:
        return "", ""
    return obj._meta.label_lower, str(obj.pk)


def record_event(*, action, obj=None, object_type="", object_id="", summary="", before=None, after=None,
                 actor=None, **context_overrides):
    """Write one audit event in the current transaction and return it. The database
    writes and hashes it (`cbs_record_event`), in one statement."""
    fields, params = _event(action=action, obj=obj, object_type=object_type, object_id=object_id, summary=summary,
                            before=before, after=after, actor=actor, **context_overrides)
    ((event_id, writer_xid, content_hash),) = execute_prepared(_RECORD_SQL, params)
    return AuditEvent(id=event_id, writer_xid=writer_xid, content_hash=content_hash, **fields)


def event_rider(*, action, obj=None, summary="", before=None, after=None, after_from_posted=None, actor=None,
                **context_overrides):
    """The audit event of a posting's caller as a rider (banking.core.db): written
    with the entry, in its statement, only if it is posted. `after_from_posted` adds
    keys to `after` whose values are SQL over `posted` ({"entry": "posted.entry_id"})."""
    _, params = _event(action=action, obj=obj, summary=summary, before=before, after=after or {}, actor=actor,
                       **context_overrides)
    extra = ", ".join(f"'{key}', {expression}" for key, expression in (after_from_posted or {}).items())
    after_sql = f"%s::jsonb || jsonb_build_object({extra})" if extra else "%s::jsonb"
    # In the select list, so that it runs once per row of `posted`: none when refused.
    return (f"SELECT cbs_record_event({_RECORD_ARGUMENTS.removesuffix('%s::jsonb')}{after_sql}) FROM posted",  # noqa: S608 constant
            params)


def _event(*, action, obj=None, object_type="", object_id="", summary="", before=None, after=None, actor=None,
           **context_overrides):
    """An event's fields and cbs_record_event's parameters, in its order."""
    if obj is not None:
        object_type, object_id = _describe(obj)
        summary = summary or str(obj)[:500]
    fields = event_context(actor=actor, **context_overrides)
    fields.update(action=action, object_type=object_type, object_id=str(object_id)[:200], summary=summary[:500])
    (before_json, fields["before"]), (after_json, fields["after"]) = _as_json(before), _as_json(after)
    return fields, [
        fields["occurred_at"], fields["actor_id"], fields["actor_username"], fields["role"], fields["ip"],
        fields["user_agent"], fields["request_id"], fields["channel"], action, object_type, fields["object_id"],
        fields["summary"], before_json, after_json,
    ]


_RECORD_ARGUMENTS = ("%s::timestamptz, %s::bigint, %s::text, %s::text, %s::inet, %s::text, %s::text, %s::text,"
                     " %s::text, %s::text, %s::text, %s::text, %s::jsonb, %s::jsonb")
_RECORD_SQL = f"SELECT id, writer_xid, content_hash FROM cbs_record_event({_RECORD_ARGUMENTS})"  # noqa: S608 constant


def event_context(*, actor=None, **overrides):
    """Who, when and from where, for an event written now: the fields of an audit
    event besides what happened, from the audit context unless given (`actor`, or
    `role`, `ip`, `user_agent`, `request_id` and `channel` by name). For a writer
    that hands them to the database, as the posting path does; the request's trail
    counts the event."""
    ctx = current()
    note_event()
    return {
        "occurred_at": timezone.now(),
        "actor_id": actor.pk if actor is not None else ctx.actor_id,
        "actor_username": actor.get_username() if actor is not None else ctx.actor_username,
        "role": overrides.get("role", (actor.role.value if actor is not None and actor.role else ctx.role)),
        "ip": overrides.get("ip", ctx.ip) or None,  # no address (a Unix socket's empty one) is NULL
        "user_agent": overrides.get("user_agent", ctx.user_agent),
        "request_id": overrides.get("request_id", ctx.request_id),
        "channel": overrides.get("channel", ctx.channel),
    }


def _as_json(value):
    """`value` as JSON text for a jsonb column (None for SQL NULL), and as it comes
    back from the database: tuples, decimals, dates and non-text keys become what
    JSON makes of them."""
    if value is None:
        return None, None
    text = json.dumps(value, cls=DjangoJSONEncoder)
    return text, value if _is_plain_json(value) else json.loads(text)


def _is_plain_json(value):
    """Whether `value` comes back from JSON as it is: dicts with text keys, lists,
    text, whole numbers, booleans and None. Floats, tuples, decimals and dates do not."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return True
    if kind is list:
        return all(_is_plain_json(item) for item in value)
    if kind is dict:
        return all(type(key) is str and _is_plain_json(item) for key, item in value.items())
    return False


def _safe_horizon():
    """The lowest transaction id (xid8, as a bigint) that may still write an event
    in this database: every event with a lower writer_xid is committed or gone.

    First `first_unfinished`, the snapshot's xmax: every transaction below it had
    ended, or was running, when the snapshot was taken. Then, in a later statement,
    the transactions of this database still running. The oldest of those is the
    horizon; failing any, `first_unfinished`. A transaction below the horizon that
    was running at the snapshot is not running now (it would have been listed), so
    any later statement sees what it wrote; one from another database never writes
    here. This session's own transaction (a caller's, in tests) is not counted: its
    events commit with their seals or not at all, so they are final to it.

    The events must then be read with a snapshot taken after this: in READ COMMITTED
    (Django's default), any later statement."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint,"
            " pg_current_xact_id_if_assigned()::text::bigint"
        )
        first_unfinished, own = cursor.fetchone()
        if own is not None:
            first_unfinished = max(first_unfinished, own + 1)
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # pg_stat_activity is read once per transaction
        cursor.execute(
            "SELECT backend_xid::text::bigint FROM pg_stat_activity"
            " WHERE datname = current_database() AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()"
            " UNION ALL SELECT transaction::text::bigint FROM pg_prepared_xacts WHERE database = current_database()"
        )
        running = [_widen(xid, near=first_unfinished) for (xid,) in cursor.fetchall()]
    return min(running, default=first_unfinished)


def _widen(xid, *, near):
    """The 64-bit id (epoch and xid) of the 32-bit `xid`, which a running
    transaction's is: within 2**31 of `near`, as PostgreSQL keeps every live xid."""
    wide = (near & ~0xFFFF_FFFF) | xid
    if wide > near + 2**31:
        wide -= 2**32
    elif wide < near - 2**31:
        wide += 2**32
    return wide


def seal_events():
    """Chain every final, unsealed event (see the design overview). Returns how
    many were sealed. Call it outside a transaction, or in a READ COMMITTED one."""
    horizon = _safe_horizon()
    sealed = 0
    with transaction.atomic():
        one_at_a_time(Job.AUDIT_SEALER)
        last = AuditSeal.objects.order_by("-event_xid", "-event_id").first()
        previous = last.chain_hash if last else GENESIS
        after = (last.event_xid, last.event_id) if last else (0, 0)
        while True:
            events = list(
                AuditEvent.objects.filter(writer_xid__gte=after[0], writer_xid__lt=horizon)
                .exclude(writer_xid=after[0], id__lte=after[1])
                .order_by("writer_xid", "id")
                .values_list("writer_xid", "id", "content_hash")[:BATCH]
            )
            if not events:
                break
            seals = []
            for writer_xid, event_id, content_hash in events:
                previous = AuditSeal.link(previous, event_id, content_hash)
                seals.append(AuditSeal(event_id=event_id, event_xid=writer_xid, content_hash=content_hash,
                                       chain_hash=previous))
            AuditSeal.objects.bulk_create(seals)
            sealed += len(seals)
            after = events[-1][:2]
    return sealed


@dataclass
class Finding:
    event_id: int
    problem: str

    def __str__(self):
        return f"event #{self.event_id}: {self.problem}"


def verify_trail():
    """Walk events and seals in chain order, (writer_xid, id); return the first
    Finding, or None."""
    events = (
        AuditEvent.objects.with_recomputed_hash().order_by("writer_xid", "id")
        .values_list("writer_xid", "id", "content_hash", "recomputed_hash")
        .iterator(chunk_size=BATCH)
    )
    seals = (
        AuditSeal.objects.order_by("event_xid", "event_id")
        .values_list("event_xid", "event_id", "content_hash", "chain_hash")
        .iterator(chunk_size=BATCH)
    )
    previous = GENESIS
    event = next(events, None)
    seal = next(seals, None)
    while seal is not None:
        seal_xid, seal_id, sealed_hash, chain_hash = seal
        if AuditSeal.link(previous, seal_id, sealed_hash) != chain_hash:
            return Finding(seal_id, "the seal chain is broken here (a seal was edited, removed or reordered)")
        previous = chain_hash
        if event is None or event[:2] > (seal_xid, seal_id):
            return Finding(seal_id, "removed: the event was sealed but is no longer in the trail")
        if event[:2] < (seal_xid, seal_id):
            return Finding(event[1], "inserted below the sealed horizon without a seal")
        if event[3] != sealed_hash or event[2] != sealed_hash:
            return Finding(event[1], "altered: its content no longer matches its seal")
        event = next(events, None)
        seal = next(seals, None)
    while event is not None:
        if event[3] != event[2]:
            return Finding(event[1], "altered: its content no longer matches its hash (not yet sealed)")
        event = next(events, None)
    return None
