"""The kinds of work that go through maker-checker.

A kind is owned by the module that knows how to do the work. It tells the queue:
- `label`: what supervisors call it ("Manual journal");
- `handler(approval, checker) -> dict | None`: does the work once a checker approves.
  It runs inside the approval's transaction; it refuses by raising a BankingError,
  and then nothing it wrote survives. What it returns (ids of what it created) is
  kept on the request as its result and must be JSON: ids, strings, integers;
- `describe(payload) -> [(label, text), ...]`: the payload in words a supervisor
  reads, never raw JSON;
- `checker_permission`: who may check it ("users.approve_requests" by default);
- `expires_after`: how long a request waits before it lapses;
- `on_reject(approval, checker)`, optional: runs inside the rejection's
  transaction, after the request is marked rejected, so the owning app can let
  its own records follow (a customer's KYC goes back to the maker with the
  reason). It must not refuse: whatever it raises rolls the rejection back.
- `on_lapse(approval, checker)`, optional: the same for a request that ends
  without its work done, because it expired (checker None) or because the
  handler refused when it was approved (status failed, the refusal in
  `decision_reason`).

Registering is one call, from the owning app's `AppConfig.ready()`:

    registry.register("deposits.account_opening", label="Account opening",
                      handler=open_approved_account, describe=describe_opening)

An app that must not import this one (the ledger imports no other domain app) puts
a list of the same keyword arguments in `<app>/approval_kinds.py`:

    KINDS = [{"kind": "ledger.manual_journal", "label": "Manual journal",
              "handler": post_approved_journal, "describe": describe_journal}]

and `autodiscover()`, run when this app is ready, registers them.
"""

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import autodiscover_modules
from django.utils.text import capfirst

from banking.core.errors import ValidationFailed

KIND_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
KIND_MAX_LENGTH = 64
DEFAULT_CHECKER_PERMISSION = "users.approve_requests"
DEFAULT_EXPIRY = datetime.timedelta(hours=24)


def describe_plainly(payload):
    """The fallback description: each payload key as a label, each value as text."""
    if not isinstance(payload, dict):
        return [("Details", str(payload))]
    rows = []
    for key, value in payload.items():
        if isinstance(value, list | tuple):
            text = ", ".join(str(item) for item in value)
        elif isinstance(value, bool):
            text = "Yes" if value else "No"
        else:
            text = str(value)
        rows.append((capfirst(str(key).replace("_", " ")), text))
    return rows


@dataclass(frozen=True)
class Kind:
    name: str
    label: str
    handler: Callable
    describe: Callable = describe_plainly
    checker_permission: str = DEFAULT_CHECKER_PERMISSION
    expires_after: datetime.timedelta = DEFAULT_EXPIRY
    on_reject: Callable | None = None
    on_lapse: Callable | None = None

    def __str__(self):
        return self.label


_kinds: dict[str, Kind] = {}


def register(kind, *, label, handler, describe=None, checker_permission=DEFAULT_CHECKER_PERMISSION,
             expires_after=DEFAULT_EXPIRY, on_reject=None, on_lapse=None):
    """Register a kind of request. Registering the same kind again with the same
    handler is harmless; with another handler it is a configuration error."""
    if not isinstance(kind, str) or len(kind) > KIND_MAX_LENGTH or not KIND_RE.match(kind):
        raise ImproperlyConfigured(f"Approval kind {kind!r} must be a dotted lower-case name, as 'app.thing'.")
    if not label:
        raise ImproperlyConfigured(f"Approval kind {kind!r} needs a label.")
    hooks = (describe, on_reject, on_lapse)
    if not callable(handler) or any(hook is not None and not callable(hook) for hook in hooks):
        raise ImproperlyConfigured(f"Approval kind {kind!r}: handler and its hooks must be callables.")
    if checker_permission.count(".") != 1:
        raise ImproperlyConfigured(f"Approval kind {kind!r}: checker_permission is 'app_label.codename'.")
    if expires_after <= datetime.timedelta(0):
        raise ImproperlyConfigured(f"Approval kind {kind!r}: expires_after must be above zero.")
    entry = Kind(
        name=kind, label=str(label), handler=handler, describe=describe or describe_plainly,
        checker_permission=checker_permission, expires_after=expires_after, on_reject=on_reject,
        on_lapse=on_lapse,
    )
    existing = _kinds.get(kind)
    if existing is not None and existing != entry:
        raise ImproperlyConfigured(f"Approval kind {kind!r} is already registered differently.")
    _kinds[kind] = entry
    return entry


def unregister(kind):
    """Forget a kind (tests register their own and clean up after)."""
    _kinds.pop(kind, None)


def get(kind):
    """The registered Kind, or ValidationFailed for a kind nobody registered."""
    try:
        return _kinds[kind]
    except KeyError:
        raise ValidationFailed(f"The bank does not know requests of kind {kind!r}.") from None


def find(kind):
    """The registered Kind, or None."""
    return _kinds.get(kind)


def kinds():
    return sorted(_kinds.values(), key=lambda entry: entry.label)


def label_for(kind):
    entry = _kinds.get(kind)
    return entry.label if entry else capfirst(kind.rsplit(".", 1)[-1].replace("_", " "))


def kinds_checkable_by(user):
    """Names of the kinds whose checker permission `user` holds."""
    return [entry.name for entry in _kinds.values() if user.has_perm(entry.checker_permission)]


def autodiscover():
    """Import `approval_kinds` from every installed app and register its KINDS."""
    from django.apps import apps

    autodiscover_modules("approval_kinds")
    for config in apps.get_app_configs():
        module = getattr(config.module, "approval_kinds", None)
        for spec in getattr(module, "KINDS", ()):
            spec = dict(spec)
            register(spec.pop("kind"), **spec)
