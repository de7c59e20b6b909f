"""Who is acting, from where, in which request: set once per request by
AuditContextMiddleware (or by a command for batch work) and read by record_event."""

import contextvars
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, replace


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
    return uuid.uuid4().hex
