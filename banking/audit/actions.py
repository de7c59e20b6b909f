"""Writing, sealing and verifying the audit trail.

Design overview
- `record_event` INSERTs one event inside the caller's transaction. It reads the
  actor, address and request id from the audit context unless given them.
- `seal_events` chains committed events in id order. On PostgreSQL it finds a safe
  horizon by taking `LOCK TABLE ... IN SHARE MODE` for an instant: that waits for
  every in-flight inserter to commit or roll back, so no event below the horizon can
  appear later. Sealers exclude each other with an advisory lock. Writers never wait
  on each other, only (for an instant) on a running sealer.
- `verify_trail` reports the first problem: an edited event, a removed event, an
  event slipped in below the sealed horizon, or a broken chain.
"""

import json
from dataclasses import dataclass

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from banking.core.db import Job, one_at_a_time

from .context import current, note_event
from .models import GENESIS, AuditEvent, AuditSeal

BATCH = 5000


def _describe(obj):
    if obj is None:
        return "", ""
    return obj._meta.label_lower, str(obj.pk)


def record_event(*, action, obj=None, object_type="", object_id="", summary="", before=None, after=None,
                 actor=None, **context_overrides):
    """Write one audit event in the current transaction and return it."""
    event = AuditEvent(**event_fields(action=action, obj=obj, object_type=object_type, object_id=object_id,
                                      summary=summary, before=before, after=after, actor=actor,
                                      **context_overrides))
    event.content_hash = event.compute_hash()
    event.save(force_insert=True)
    return event


def event_fields(*, action, obj=None, object_type="", object_id="", summary="", before=None, after=None,
                 actor=None, note=True, **context_overrides):
    """The hashed fields of an audit event, as {name: value}, with the actor, address
    and request id from the audit context unless given. For the posting path, which
    has the database write and hash the event (see ledger migration 0005). A writer
    outside any transaction passes note=False and calls `note_event` once the event
    is written (the request's trail counts it when it commits)."""
    ctx = current()
    if obj is not None:
        object_type, object_id = _describe(obj)
        summary = summary or str(obj)[:500]
    if note:
        note_event()
    return {
        "occurred_at": timezone.now(),
        "actor_id": actor.pk if actor is not None else ctx.actor_id,
        "actor_username": actor.get_username() if actor is not None else ctx.actor_username,
        "role": context_overrides.get("role", (actor.role.value if actor is not None and actor.role else ctx.role)),
        "ip": context_overrides.get("ip", ctx.ip),
        "user_agent": context_overrides.get("user_agent", ctx.user_agent),
        "request_id": context_overrides.get("request_id", ctx.request_id),
        "channel": context_overrides.get("channel", ctx.channel),
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id)[:200],
        "summary": summary[:500],
        # Round-tripped through JSON so the hash is taken over what the database returns.
        "before": _json_roundtrip(before),
        "after": _json_roundtrip(after),
    }


def _json_roundtrip(value):
    if _is_plain_json(value):  # None included
        return value
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


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
    """The highest event id below which every transaction has finished."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL lock_timeout = '10s'")
        cursor.execute(f"LOCK TABLE {AuditEvent._meta.db_table} IN SHARE MODE")
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {AuditEvent._meta.db_table}")  # noqa: S608 model table
        return cursor.fetchone()[0]


def seal_events():
    """Chain every committed, unsealed event. Returns how many were sealed."""
    horizon = _safe_horizon()
    sealed = 0
    with transaction.atomic():
        one_at_a_time(Job.AUDIT_SEALER)
        last = AuditSeal.objects.order_by("-event_id").first()
        previous = last.chain_hash if last else GENESIS
        after_id = last.event_id if last else 0
        while True:
            events = list(
                AuditEvent.objects.filter(id__gt=after_id, id__lte=horizon)
                .order_by("id")
                .values_list("id", "content_hash")[:BATCH]
            )
            if not events:
                break
            seals = []
            for event_id, content_hash in events:
                previous = AuditSeal.link(previous, event_id, content_hash)
                seals.append(AuditSeal(event_id=event_id, content_hash=content_hash, chain_hash=previous))
            AuditSeal.objects.bulk_create(seals)
            sealed += len(seals)
            after_id = events[-1][0]
    return sealed


@dataclass
class Finding:
    event_id: int
    problem: str

    def __str__(self):
        return f"event #{self.event_id}: {self.problem}"


def verify_trail():
    """Walk events and seals in id order; return the first Finding, or None."""
    events = AuditEvent.objects.order_by("id").iterator(chunk_size=BATCH)
    seals = AuditSeal.objects.order_by("event_id").values_list("event_id", "content_hash", "chain_hash").iterator(
        chunk_size=BATCH
    )
    previous = GENESIS
    event = next(events, None)
    seal = next(seals, None)
    while seal is not None:
        seal_id, sealed_hash, chain_hash = seal
        if AuditSeal.link(previous, seal_id, sealed_hash) != chain_hash:
            return Finding(seal_id, "the seal chain is broken here (a seal was edited, removed or reordered)")
        previous = chain_hash
        if event is None or event.id > seal_id:
            return Finding(seal_id, "removed: the event was sealed but is no longer in the trail")
        if event.id < seal_id:
            return Finding(event.id, "inserted below the sealed horizon without a seal")
        if event.compute_hash() != sealed_hash or event.content_hash != sealed_hash:
            return Finding(event.id, "altered: its content no longer matches its seal")
        event = next(events, None)
        seal = next(seals, None)
    while event is not None:
        if event.compute_hash() != event.content_hash:
            return Finding(event.id, "altered: its content no longer matches its hash (not yet sealed)")
        event = next(events, None)
    return None
