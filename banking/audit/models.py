"""The audit trail: append-only and tamper-evident.

Design overview
- Every state change writes one `AuditEvent` in the same transaction as the change
  (`actions.record_event`). Writers only INSERT; they share no lock, so the trail
  adds nothing that serialises the posting path.
- Each event carries `content_hash`, a SHA-256 over its own content, computed by
  the database when it is written. The rule is written once, in SQL
  (sql/record_event.sql): `cbs_record_event` writes an event and hashes it with
  `cbs_event_hash`, and the verifier recomputes through the same function
  (`AuditEvent.objects.with_recomputed_hash()`). Every writer goes through
  `cbs_record_event`: `actions.record_event` in Python, and other apps' database
  functions (the ledger's posting function), which never write this app's tables
  themselves.
- Events written before audit migration 0006 were hashed by an earlier rule (a JSON
  made in Python), which no longer exists: `verify_audit` reports the first of them
  as altered. No trail had been deployed when the rule changed, so nothing is
  recomputed; a database holding such events (a demo seeded before that migration)
  is seeded again (`make clean`, then `make run`, for the embedded one).
- Each event also records `writer_xid`, the id of the transaction that wrote it
  (a database default, so every writer, SQL functions included, fills it in).
- A sealer (`actions.seal_events`, run by `manage.py seal_audit`, by
  `verify_audit` and by end of day) later chains the committed events in the order
  (writer_xid, id): one `AuditSeal` per event, with `chain_hash = H(previous
  chain_hash, id, content_hash)`. It takes no lock a writer waits on; sealers wait
  only for each other.
- `verify_audit` recomputes both: an edited event no longer matches its
  content hash, a deleted event leaves a seal without an event, and an edited or
  reordered seal breaks the chain.
- Triggers reject UPDATE and DELETE on both tables.
"""

import hashlib

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

GENESIS = "0" * 64


class CurrentTransactionId(models.Func):
    """The writing transaction's id (PostgreSQL's 64-bit xid8, which never wraps
    around), as a bigint."""

    template = "(pg_current_xact_id()::text::bigint)"
    output_field = models.BigIntegerField()


class AuditEventQuerySet(models.QuerySet):
    def with_recomputed_hash(self):
        """Each event with `recomputed_hash`: its content hash worked out again, in the
        database, from the row as it stands (by cbs_event_hash, the rule it was
        written with)."""
        # The whole row, by its table's name, as the function takes it; constant text.
        row = f'cbs_event_hash("{AuditEvent._meta.db_table}")'
        return self.annotate(recomputed_hash=models.expressions.RawSQL(row, (), output_field=models.CharField()))  # noqa: S611


class AuditEvent(models.Model):
    occurred_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False,
        related_name="+",
    )
    actor_username = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=32, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    channel = models.CharField(max_length=16, default="system")
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=200, blank=True)
    summary = models.CharField(max_length=500, blank=True)
    before = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    content_hash = models.CharField(max_length=64)
    # Not hashed: where the event stands in the chain, which the seals protect.
    writer_xid = models.BigIntegerField(db_default=CurrentTransactionId(), editable=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        # Plain indexes, not db_index: that would add a pattern-matching index per
        # column too, which no search uses and every write (each posting) pays for.
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            models.Index(fields=["action"], name="audit_event_action"),
            models.Index(fields=["request_id"], name="audit_event_request_id"),
            # The sealer's walk; both keys only grow, so inserts land on the index's last page.
            models.Index(fields=["writer_xid", "id"], name="audit_event_seal_order"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.action} by {self.actor_username or 'system'}"


class AuditSeal(models.Model):
    """One link of the hash chain, written by the sealer for one event."""

    event_id = models.BigIntegerField(primary_key=True)
    event_xid = models.BigIntegerField()  # the event's writer_xid: the chain runs in (event_xid, event_id) order
    content_hash = models.CharField(max_length=64)
    chain_hash = models.CharField(max_length=64)
    sealed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["event_xid", "event_id"]
        indexes = [models.Index(fields=["event_xid", "event_id"], name="audit_seal_chain_order")]

    def __str__(self):
        return f"seal of event #{self.event_id}"

    @staticmethod
    def link(previous_chain_hash, event_id, content_hash):
        return hashlib.sha256(f"{previous_chain_hash}:{event_id}:{content_hash}".encode()).hexdigest()
