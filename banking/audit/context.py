"""Who is acting, from where, in which request: set once per request by
AuditContextMiddleware (or by a command for batch work) and read by record_event."""

import contextvars
from contextlib import contextmanager
from dataclasses import dataclass, replace

from banking.core.identifiers import new_token


@dataclass(frozen=True)
class AuditContext:
    actor_id: int | None = None
    actor_username: str = ""
    role: str = ""
    ip: str | None = None
    user_agent: str = ""
    request_id: str = ""
    channel: str = "system"


_current = contextvars.ContextVar("audit_context", default=AuditContext())  # noqa: B039 frozen, immutable


class RequestTrail:
    """Counts the audit events of one request that reached the database: counted on
    commit (at once outside a transaction), never for a transaction rolled back."""

    __slots__ = ("committed",)

    def __init__(self):
        self.committed = 0

    def _count(self):
        self.committed += 1

    def note_event(self):
        from django.db import transaction

        transaction.on_commit(self._count)


_trail = contextvars.ContextVar("audit_request_trail", default=None)


def note_event():
    trail = _trail.get()
    if trail is not None:
        trail.note_event()


def current():
    return _current.get()


@contextmanager
def audit_context(**values):
    token = _current.set(replace(_current.get(), **values))
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def new_request_id():
    return new_token()
