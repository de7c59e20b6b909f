"""Partner actions: API keys through maker-checker, webhook endpoints and the signed
delivery of their events, and payout batches.

Design overview
- Keys. `issue_key` (a new partner and its first key), `rotate_key` and `revoke_key`
  are asked by one member of operations and approved by another (approval kinds
  partners.key_issue, partners.key_rotation, partners.key_revocation; checker needs
  partners.manage_partners). Issuing and rotating create the key at once, waiting,
  and return its secret the only time it exists in clear; approval activates it.
  Approving a rotation gives the old key `expires_at` = now + the grace period, so
  both work until then. `authenticate_key` checks a presented key: known prefix,
  matching hash (compared in constant time), active and unexpired, caller's address
  inside the allow-list.
- Webhooks. `create_webhook` returns the endpoint and its secret (shown once).
  `emit_event` writes one event with a unique id and one delivery for each endpoint
  of the partner that subscribes to its type, and defers a delivery job for each in
  the same transaction. `deliver_webhook` is the one function the worker calls: it
  POSTs `{"id", "type", "created_at", "data"}` signed `X-CBS-Signature:
  t=<unix>,v1=<hex HMAC-SHA256 of "t.body">` with the time of this attempt, records
  the attempt, and asks for a retry with waits that double from 30 seconds up to an
  hour until 24 hours after the event; a delivered event is never sent again except
  by an operator's `replay_delivery`.
- Payouts. `submit_payout` checks each item, stores the accepted ones and answers
  with the rejected references and their codes; the same Idempotency-Key with the same
  items returns the first answer. A batch whose accepted total is above the partner's
  authorisation threshold waits for the customer (`authorise_payout`); the others are
  paid by a job (`pay_payout_batch`), each item a payment through
  banking.payments.payouts, a refused item recorded with its code and announced as
  payout.item_failed.

Locks: the key row (revocation, rotation), the delivery row (each attempt records
under it), the batch row (authorising, paying). Errors: ValidationFailed,
NotPermitted, IdempotencyConflict, KeyRefused.
"""

import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from banking.approvals.actions import submit_request
from banking.audit.actions import record_event
from banking.core.errors import BankingError, IdempotencyConflict, NotPermitted, ValidationFailed
from banking.core.money import format_money
from banking.deposits.models import DepositAccount

from .models import (
    EVENT_TYPES,
    SCOPE_NAMES,
    ApiKey,
    BatchStatus,
    DeliveryAttempt,
    DeliveryStatus,
    ItemStatus,
    KeyStatus,
    Partner,
    PayoutBatch,
    PayoutItem,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)

ISSUE_KIND = "partners.key_issue"
ROTATE_KIND = "partners.key_rotation"
REVOKE_KIND = "partners.key_revocation"
CHECKER_PERMISSION = "partners.manage_partners"
KEY_PREFIX_LENGTH = 12
DEFAULT_GRACE_HOURS = 24
MAX_GRACE_HOURS = 24 * 30
DELIVERY_WINDOW = timezone.timedelta(hours=24)
FIRST_WAIT, LONGEST_WAIT = 30, 3600
DELIVERY_TIMEOUT = 10
MAX_PAYOUT_ITEMS = 1000
PAYOUT_KEY_PREFIX = "payout-"
CORPORATE_TYPES = ("proprietorship", "partnership", "company", "trust")


class KeyRefused(BankingError):
    """A presented API key that does not let its caller in; `code` says why."""

    def __init__(self, message, *, code):
        super().__init__(message, code=code)
        self.code = code


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    token: str  # "<prefix>.<secret>", shown once
    approval: object


def hash_secret(secret):
    return hashlib.sha256(secret.encode()).hexdigest()


def _new_key(*, partner, actor, scopes, networks, replaces=None):
    prefix = "pk_" + secrets.token_hex(KEY_PREFIX_LENGTH // 2 - 1)[: KEY_PREFIX_LENGTH - 3]
    secret = secrets.token_urlsafe(32)
    key = ApiKey.objects.create(partner=partner, prefix=prefix, secret_hash=hash_secret(secret), scopes=scopes,
                                allowed_networks=networks, created_by=actor, replaces=replaces)
    return key, f"{prefix}.{secret}"


def check_scopes(scopes):
    scopes = sorted(set(scopes or ()))
    unknown = [scope for scope in scopes if scope not in SCOPE_NAMES]
    if unknown:
        raise ValidationFailed(f"Unknown scope {unknown[0]!r}: choose from {', '.join(SCOPE_NAMES)}.")
    if not scopes:
        raise ValidationFailed("Give the key at least one scope.")
    return scopes


def check_networks(networks):
    """A list of networks ("203.0.113.0/24", "198.51.100.7") in canonical form."""
    if isinstance(networks, str):
        networks = networks.replace(",", "\n").split()
    checked = []
    for text in networks or ():
        try:
            checked.append(str(ipaddress.ip_network(str(text).strip(), strict=False)))
        except ValueError:
            raise ValidationFailed(f"{text} is not an IP address or network, as 203.0.113.0/24.") from None
    if not checked:
        raise ValidationFailed("Give at least one address or network the partner calls from.")
    return sorted(set(checked))


def _audit_key(action, key, actor, summary, **after):
    record_event(action=action, obj=key, actor=actor, summary=summary,
                 after={"prefix": key.prefix, "partner": key.partner.name, "status": key.status, **after})


@transaction.atomic
def issue_key(*, actor, customer, name, scopes, allowed_networks, payout_account=None, authorisation_threshold=0,
              idempotency_key=""):
    """Ask for a new partner of `customer` (a corporate customer) and its first key.
    Returns an IssuedKey whose token is shown once; the key works once approved."""
    if customer.customer_type not in CORPORATE_TYPES:
        raise ValidationFailed(f"{customer.display_name} is an individual; partner keys are for corporate customers.")
    name = " ".join(str(name or "").split())
    if not name:
        raise ValidationFailed("Name the partner, as the customer's ERP or the fintech's name.")
    if payout_account is not None and not DepositAccount.objects.for_customer(customer).filter(
            pk=payout_account.pk).exists():
        raise ValidationFailed("The payout account must be one of the customer's own accounts.")
    if isinstance(authorisation_threshold, bool) or not isinstance(authorisation_threshold, int) \
            or authorisation_threshold < 0:
        raise ValidationFailed("The authorisation threshold is an amount of zero or more.")
    scopes, networks = check_scopes(scopes), check_networks(allowed_networks)
    partner = Partner.objects.create(name=name[:100], customer=customer, payout_account=payout_account,
                                     authorisation_threshold=authorisation_threshold)
    key, token = _new_key(partner=partner, actor=actor, scopes=scopes, networks=networks)
    approval = submit_request(
        actor=actor, kind=ISSUE_KIND, payload={"key_id": key.pk, "prefix": key.prefix}, amount=None, branch=None,
        summary=f"API key {key.prefix} for {name} (CIF {customer.cif})", idempotency_key=idempotency_key)
    key.approval = approval
    key.save(update_fields=["approval"])
    _audit_key("partners.key_requested", key, actor, f"API key {key.prefix} asked for {name}", scopes=scopes,
               networks=networks)
    return IssuedKey(key, token, approval)


def _locked_key(key_id):
    return ApiKey.objects.select_for_update().select_related("partner").get(pk=key_id)


@transaction.atomic
def rotate_key(*, actor, key, grace_hours=DEFAULT_GRACE_HOURS):
    """Ask for a successor of `key` with the same scopes and networks. Returns an
    IssuedKey; once approved, `key` keeps working for `grace_hours`."""
    key = _locked_key(key.pk)
    if not key.is_usable():
        raise ValidationFailed(f"Key {key.prefix} is not active; issue a new key instead.")
    if isinstance(grace_hours, bool) or not isinstance(grace_hours, int) or not 0 <= grace_hours <= MAX_GRACE_HOURS:
        raise ValidationFailed(f"The grace period is 0 to {MAX_GRACE_HOURS} hours.")
    if key.successors.filter(status=KeyStatus.PENDING).exists():
        raise ValidationFailed(f"A rotation of key {key.prefix} is already waiting for approval.")
    successor, token = _new_key(partner=key.partner, actor=actor, scopes=key.scopes, networks=key.allowed_networks,
                                replaces=key)
    approval = submit_request(
        actor=actor, kind=ROTATE_KIND, amount=None, branch=None,
        payload={"key_id": successor.pk, "prefix": successor.prefix, "replaces": key.prefix,
                 "grace_hours": grace_hours},
        summary=f"Rotate API key {key.prefix} of {key.partner.name} ({grace_hours} h grace)")
    successor.approval = approval
    successor.save(update_fields=["approval"])
    _audit_key("partners.key_rotation_requested", successor, actor,
               f"API key {successor.prefix} asked for to replace {key.prefix}", grace_hours=grace_hours)
    return IssuedKey(successor, token, approval)


@transaction.atomic
def revoke_key(*, actor, key, reason):
    """Ask for `key` to stop working."""
    reason = " ".join(str(reason or "").split())
    if not reason:
        raise ValidationFailed("Give the reason for revoking the key.")
    key = _locked_key(key.pk)
    if key.status != KeyStatus.ACTIVE:
        raise ValidationFailed(f"Key {key.prefix} is {key.get_status_display().lower()}; only an active key can be "
                               "revoked.")
    approval = submit_request(actor=actor, kind=REVOKE_KIND, amount=None, branch=None,
                              payload={"key_id": key.pk, "prefix": key.prefix, "reason": reason[:200]},
                              summary=f"Revoke API key {key.prefix} of {key.partner.name}")
    _audit_key("partners.key_revocation_requested", key, actor, f"Revocation of API key {key.prefix} asked for",
               reason=reason)
    return approval


def activate_approved_key(approval, checker):
    """Approval handler of issue and rotation."""
    key = _locked_key(approval.payload["key_id"])
    if key.status != KeyStatus.PENDING:
        raise ValidationFailed(f"Key {key.prefix} is {key.get_status_display().lower()}.")
    now = timezone.now()
    key.status, key.activated_at = KeyStatus.ACTIVE, now
    key.save(update_fields=["status", "activated_at"])
    result = {"key_id": key.pk}
    if key.replaces_id:
        old = _locked_key(key.replaces_id)
        if old.status == KeyStatus.ACTIVE:
            grace = timezone.timedelta(hours=int(approval.payload.get("grace_hours", DEFAULT_GRACE_HOURS)))
            ends = now + grace
            old.expires_at = min(old.expires_at, ends) if old.expires_at else ends
            old.save(update_fields=["expires_at"])
            _audit_key("partners.key_retiring", old, checker, f"API key {old.prefix} works until "
                       f"{timezone.localtime(old.expires_at):%d %b %Y %H:%M}", expires_at=old.expires_at.isoformat())
    _audit_key("partners.key_activated", key, checker, f"API key {key.prefix} activated")
    return result


def revoke_approved_key(approval, checker):
    key = _locked_key(approval.payload["key_id"])
    if key.status != KeyStatus.ACTIVE:
        raise ValidationFailed(f"Key {key.prefix} is already {key.get_status_display().lower()}.")
    key.status, key.revoked_at = KeyStatus.REVOKED, timezone.now()
    key.save(update_fields=["status", "revoked_at"])
    _audit_key("partners.key_revoked", key, checker, f"API key {key.prefix} revoked: "
               f"{approval.payload.get('reason', '')}")
    return {"key_id": key.pk}


def drop_unapproved_key(approval, checker):
    """on_reject / on_lapse of issue and rotation: the waiting key never works."""
    key = _locked_key(approval.payload["key_id"])
    if key.status == KeyStatus.PENDING:
        key.status = KeyStatus.REJECTED
        key.save(update_fields=["status"])
        _audit_key("partners.key_rejected", key, checker, f"API key {key.prefix} not approved")


def authenticate_key(token, address):
    """The usable ApiKey that `token` ("<prefix>.<secret>") names, called from
    `address`; else KeyRefused with code invalid_api_key, api_key_revoked,
    api_key_expired or address_not_allowed."""
    prefix, _dot, secret = str(token or "").strip().partition(".")
    key = ApiKey.objects.select_related("partner", "partner__customer").filter(prefix=prefix).first() \
        if prefix and secret and len(prefix) <= 16 else None
    if key is None or not hmac.compare_digest(key.secret_hash, hash_secret(secret)):
        raise KeyRefused("The API key is not valid.", code="invalid_api_key")
    if key.status == KeyStatus.REVOKED:
        raise KeyRefused("This API key has been revoked.", code="api_key_revoked")
    if not key.is_usable():
        raise KeyRefused("This API key is not active or its grace period has ended.", code="api_key_expired")
    try:
        caller = ipaddress.ip_address(address)
    except ValueError:
        raise KeyRefused("The request's address could not be read.", code="address_not_allowed") from None
    if not any(caller in ipaddress.ip_network(net) for net in key.allowed_networks):
        raise KeyRefused(f"This API key may not be used from {address}.", code="address_not_allowed")
    return key


# Webhooks --------------------------------------------------------------------------

def _local_allowed():
    return bool(getattr(settings, "CBS_WEBHOOKS_ALLOW_LOCAL", settings.DEBUG))


def _private(host):
    """True when `host` is, or resolves to, an address that is not on the public internet."""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except (OSError, UnicodeError):
        return True
    for text in addresses:
        address = ipaddress.ip_address(text.split("%")[0])
        if not address.is_global:
            return True
    return False


def check_webhook_url(url):
    url = str(url or "").strip()
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError:  # an unbalanced "[" of an IPv6 address, say
        hostname = None
    if not hostname or parts.scheme not in ("https", "http") or len(url) > 500 or any(c.isspace() for c in url):
        raise ValidationFailed("Give the endpoint's full address, as https://erp.example.com/cbs/events.",
                               code="invalid_url")
    if _local_allowed():
        return url
    if parts.scheme != "https":
        raise ValidationFailed("A webhook endpoint must use https.", code="invalid_url")
    if _private(hostname):
        raise ValidationFailed("A webhook endpoint must be on the public internet, not a private address.",
                               code="invalid_url")
    return url


def check_events(events):
    if not isinstance(events, list | tuple) or not events:
        raise ValidationFailed(f"Choose at least one event: {', '.join(EVENT_TYPES)}.", code="invalid_events")
    unknown = [event for event in events if event not in EVENT_TYPES]
    if unknown:
        raise ValidationFailed(f"Unknown event {str(unknown[0])[:40]!r}: choose from {', '.join(EVENT_TYPES)}.",
                               code="invalid_events")
    return sorted(set(events))


@transaction.atomic
def create_webhook(*, actor, partner, url, events):
    """A new endpoint of `partner`; returns (endpoint, secret) — the secret is shown once."""
    url, events = check_webhook_url(url), check_events(events)
    secret = "whsec_" + secrets.token_hex(24)
    endpoint = WebhookEndpoint.objects.create(partner=partner, url=url, events=events, secret=secret)
    record_event(action="partners.webhook_created", obj=endpoint, actor=actor,
                 summary=f"Webhook endpoint {url} for {partner.name}", after={"url": url, "events": events})
    return endpoint, secret


@transaction.atomic
def delete_webhook(*, actor, endpoint):
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if endpoint.deleted_at is None:
        endpoint.deleted_at = timezone.now()
        endpoint.save(update_fields=["deleted_at"])
        record_event(action="partners.webhook_deleted", obj=endpoint, actor=actor,
                     summary=f"Webhook endpoint {endpoint.url} deleted", before={"url": endpoint.url})


def event_body(event):
    return {"id": event.public_id, "type": event.type,
            "created_at": timezone.localtime(event.created_at).replace(microsecond=0).isoformat(),
            "data": event.data}


def sign(secret, timestamp, body):
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def emit_event(*, partner, type, data):
    """Record an event for `partner` and queue one delivery per subscribed endpoint,
    in the caller's transaction."""
    from .tasks import deliver_webhook_job

    event = WebhookEvent.objects.create(partner=partner, type=type, data=data)
    for endpoint in partner.webhooks.filter(deleted_at__isnull=True):
        if type in endpoint.events:
            delivery = WebhookDelivery.objects.create(event=event, endpoint=endpoint, next_attempt_at=timezone.now())
            from banking.core import jobs

            jobs.defer(deliver_webhook_job, delivery_id=delivery.pk, lock=f"webhook-delivery:{delivery.pk}")
    return event


class DeliveryFailed(Exception):  # noqa: N818 - carries the moment of the next attempt
    def __init__(self, message, *, next_attempt_at):
        super().__init__(message)
        self.next_attempt_at = next_attempt_at


def _post(url, body, signature):
    headers = {"Content-Type": "application/json", "User-Agent": "CBS-Webhooks/1", "X-CBS-Signature": signature}
    # http(s) only: check_webhook_url refused any other scheme.
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=DELIVERY_TIMEOUT) as response:  # noqa: S310 - checked URL
            return response.status, ""
    except urllib.error.HTTPError as error:
        return error.code, f"HTTP {error.code}"
    except (urllib.error.URLError, OSError, ValueError) as error:
        return None, str(getattr(error, "reason", error))[:300]


def _attempt(delivery, *, replay_by=None):
    """POST the event once, outside any transaction; returns (signed_at, status, error)."""
    endpoint, event = delivery.endpoint, delivery.event
    parts = urlsplit(endpoint.url)
    if not _local_allowed() and (parts.scheme != "https" or _private(parts.hostname or "")):
        return int(time.time()), None, "The endpoint is not a public https address."
    body = json.dumps(event_body(event), separators=(",", ":")).encode()
    signed_at = int(time.time())
    status, error = _post(endpoint.url, body, sign(endpoint.secret, signed_at, body))
    return signed_at, status, error


def deliver_webhook(*, delivery_id, now=None):
    """Try one delivery (the worker's job calls this). Returns the delivery's status;
    raises DeliveryFailed with the moment of the next attempt while the 24 hours last."""
    delivery = WebhookDelivery.objects.select_related("event", "endpoint").get(pk=delivery_id)
    if delivery.status != DeliveryStatus.PENDING:
        return delivery.status
    if delivery.endpoint.deleted_at is not None:
        return _finish(delivery.pk, DeliveryStatus.GAVE_UP, note="endpoint deleted")
    signed_at, status, error = _attempt(delivery)
    return _record(delivery.pk, signed_at=signed_at, status=status, error=error, now=now)


def _finish(delivery_id, status, *, note=""):
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery_id)
        delivery.status = status
        delivery.save(update_fields=["status"])
        record_event(action=f"partners.webhook_{status}", obj=delivery, summary=f"Webhook delivery {delivery.pk}: "
                     f"{note or status}", after={"status": status})
    return status


def _record(delivery_id, *, signed_at, status, error, now=None, replay_by=None):
    now = now or timezone.now()
    succeeded = status is not None and 200 <= status < 300
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().select_related("event").get(pk=delivery_id)
        delivery.attempts += 1
        DeliveryAttempt.objects.create(delivery=delivery, number=delivery.attempts, at=now, signed_at=signed_at,
                                       response_status=status, error=error or "", succeeded=succeeded,
                                       replay_by=replay_by)
        fields = ["attempts", "status", "next_attempt_at", "delivered_at"]
        if succeeded:
            if delivery.status == DeliveryStatus.PENDING or replay_by is not None:
                delivery.delivered_at = delivery.delivered_at or now
            delivery.status, delivery.next_attempt_at = DeliveryStatus.DELIVERED, None
            delivery.save(update_fields=fields)
            record_event(action="partners.webhook_delivered", obj=delivery, actor=replay_by,
                         summary=f"Webhook {delivery.event.type} {delivery.event.public_id} delivered "
                                 f"(attempt {delivery.attempts})", after={"status": status})
            return delivery.status
        if replay_by is not None:
            delivery.save(update_fields=["attempts"])
            record_event(action="partners.webhook_replay_failed", obj=delivery, actor=replay_by,
                         summary=f"Replay of webhook delivery {delivery.pk} failed: {error}"[:200])
            return delivery.status
        wait = min(FIRST_WAIT * 2 ** (delivery.attempts - 1), LONGEST_WAIT)
        next_at = now + timezone.timedelta(seconds=wait)
        if next_at > delivery.event.created_at + DELIVERY_WINDOW:
            delivery.status, delivery.next_attempt_at = DeliveryStatus.GAVE_UP, None
            delivery.save(update_fields=fields)
            record_event(action="partners.webhook_gave_up", obj=delivery,
                         summary=f"Webhook delivery {delivery.pk} given up after {delivery.attempts} attempts")
            return delivery.status
        delivery.next_attempt_at = next_at
        delivery.save(update_fields=fields)
    raise DeliveryFailed(f"The endpoint answered {error or status}", next_attempt_at=next_at)


def replay_delivery(*, actor, delivery):
    """Send a delivery's event once more now, at an operator's request (whatever its
    status); the attempt is recorded with who asked. Returns the delivery's status."""
    if actor is None or not actor.has_perm(CHECKER_PERMISSION):
        raise NotPermitted("Only operations staff who manage partners can replay a webhook.")
    delivery = WebhookDelivery.objects.select_related("event", "endpoint").get(pk=delivery.pk)
    signed_at, status, error = _attempt(delivery)
    return _record(delivery.pk, signed_at=signed_at, status=status, error=error, replay_by=actor)


# Payouts ---------------------------------------------------------------------------

def _request_hash(items):
    return hashlib.sha256(json.dumps(items, sort_keys=True, default=str).encode()).hexdigest()


def error_code(error):
    """A refusal's stable code: the one the action gave, else its class in snake_case
    (InsufficientFunds → insufficient_funds), as the API's problem details say it."""
    code = getattr(error, "details", {}).get("code")
    if code:
        return code
    name = type(error).__name__
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def _item_problem(item, seen):
    """The code refusing one item before any money moves, or None."""
    from banking.payments.actions import check_rail
    from banking.payments.payouts import payout_destination

    if item["reference"] in seen:
        return "duplicate_reference"
    try:
        destination = payout_destination(rail=item["rail"], account_number=item["to_account"], ifsc=item["ifsc"],
                                         name=item["name"])
        check_rail(destination.rail, item["amount"])
    except BankingError as error:
        return error_code(error)
    return None


@transaction.atomic
def submit_payout(*, partner, key, idempotency_key, items):
    """Accept a payout batch of `partner` sent with `key`. `items` are dicts of
    reference, to_account, ifsc, name, amount (paise) and rail (NEFT, RTGS, IMPS or
    INTERNAL). Returns (batch, replayed). The same key with other items raises
    IdempotencyConflict (code idempotency_key_reused).

    Locks: the unique (partner, key) index, so a second identical request waits for
    the first and then replays its answer."""
    if not 1 <= len(items) <= MAX_PAYOUT_ITEMS:
        raise ValidationFailed(f"A batch has 1 to {MAX_PAYOUT_ITEMS:,} items.", code="invalid_items")
    if partner.payout_account_id is None:
        raise NotPermitted("This partner has no payout account; ask the bank to set one.")
    request_hash = _request_hash(items)
    first = PayoutBatch.objects.filter(partner=partner, idempotency_key=idempotency_key).first()
    if first is None:
        try:
            with transaction.atomic():
                batch = PayoutBatch.objects.create(partner=partner, idempotency_key=idempotency_key,
                                                   request_hash=request_hash, status=BatchStatus.PROCESSING, total=0)
        except IntegrityError:
            first = PayoutBatch.objects.get(partner=partner, idempotency_key=idempotency_key)
    if first is not None:
        if first.request_hash != request_hash:
            raise IdempotencyConflict("This Idempotency-Key was used for another batch.",
                                      code="idempotency_key_reused")
        return first, True
    rejected, seen, accepted = [], set(), []
    for item in items:
        code = _item_problem(item, seen)
        seen.add(item["reference"])
        if code:
            rejected.append({"reference": item["reference"], "code": code})
        else:
            accepted.append(PayoutItem(batch=batch, **item))
    PayoutItem.objects.bulk_create(accepted)
    batch.total = sum(item.amount for item in accepted)
    waits = batch.total > partner.authorisation_threshold
    batch.status = BatchStatus.AWAITING_AUTHORISATION if waits else BatchStatus.PROCESSING
    if not accepted:
        batch.status = BatchStatus.COMPLETED
    batch.response = {"batch_id": str(batch.public_id), "accepted": len(accepted), "rejected": rejected}
    batch.save(update_fields=["total", "status", "response"])
    record_event(action="partners.payout_received", obj=batch, summary=f"Payout batch of {partner.name}: "
                 f"{len(accepted)} accepted ({format_money(batch.total)}), {len(rejected)} rejected",
                 after={"key": key.prefix, "status": batch.status, "total": batch.total})
    if batch.status == BatchStatus.PROCESSING:
        _defer_paying(batch)
    return batch, False


def _defer_paying(batch):
    from banking.core import jobs

    from .tasks import pay_payout_batch_job

    jobs.defer(pay_payout_batch_job, batch_id=batch.pk, lock=f"payout-batch:{batch.pk}")


@transaction.atomic
def authorise_payout(*, actor, customer, batch_id, approve):
    """The customer's authoriser approves or declines a batch that waits for them.
    Refuses another customer's batch as not found (NotPermitted)."""
    if actor is None or getattr(customer, "user_id", None) != actor.pk:
        raise NotPermitted("Only the customer's own authoriser can decide a payout batch.")
    batch = PayoutBatch.objects.select_for_update().filter(partner__customer=customer, pk=batch_id).first()
    if batch is None:
        raise NotPermitted("There is no such payout batch.")
    if batch.status != BatchStatus.AWAITING_AUTHORISATION:
        raise ValidationFailed(f"This batch is already {batch.get_status_display().lower()}.")
    batch.status = BatchStatus.PROCESSING if approve else BatchStatus.DECLINED
    batch.decided_by, batch.decided_at = actor, timezone.now()
    batch.save(update_fields=["status", "decided_by", "decided_at"])
    if not approve:
        batch.items.filter(status=ItemStatus.QUEUED).update(status=ItemStatus.DECLINED, code="declined_by_customer")
    record_event(action="partners.payout_authorised" if approve else "partners.payout_declined", obj=batch,
                 actor=actor, summary=f"Payout batch of {format_money(batch.total)} "
                                      f"{'authorised' if approve else 'declined'} by the customer",
                 after={"status": batch.status})
    if approve:
        _defer_paying(batch)
    return batch


ITEM_STATUS_OF_PAYMENT = {"settled": ItemStatus.SETTLED, "sent": ItemStatus.SENT, "debited": ItemStatus.SENT,
                          "returned": ItemStatus.RETURNED, "reversed": ItemStatus.RETURNED,
                          "failed": ItemStatus.FAILED}


def pay_payout_batch(*, batch_id):
    """Pay each queued item of a batch, one payment per item, each in its own
    transaction; a refused item keeps its code and raises payout.item_failed."""
    from banking.payments.payouts import make_payout_payment

    batch = PayoutBatch.objects.select_related("partner__customer", "partner__payout_account").get(pk=batch_id)
    if batch.status != BatchStatus.PROCESSING:
        return 0
    paid = 0
    for item_id in batch.items.filter(status=ItemStatus.QUEUED).values_list("pk", flat=True):
        with transaction.atomic():
            item = PayoutItem.objects.select_for_update().get(pk=item_id)
            if item.status != ItemStatus.QUEUED:
                continue
            try:
                with transaction.atomic():
                    payment = make_payout_payment(
                        actor=None, customer=batch.partner.customer, debit_account=batch.partner.payout_account,
                        amount=item.amount, idempotency_key=f"{PAYOUT_KEY_PREFIX}{batch.public_id.hex}-{item.pk}",
                        rail=item.rail, account_number=item.to_account, ifsc=item.ifsc, name=item.name,
                        narration=f"Payout {item.reference}")
            except BankingError as error:
                item.status, item.code, item.reason = ItemStatus.FAILED, error_code(error), str(error)[:200]
                item.save(update_fields=["status", "code", "reason"])
                emit_event(partner=batch.partner, type="payout.item_failed", data={
                    "batch_id": str(batch.public_id), "reference": item.reference, "code": item.code,
                    "detail": item.reason})
                continue
            item.payment = payment
            item.status = ITEM_STATUS_OF_PAYMENT.get(payment.status, item.status)
            item.save(update_fields=["payment", "status"])
            paid += 1
    with transaction.atomic():
        PayoutBatch.objects.filter(pk=batch.pk, status=BatchStatus.PROCESSING).update(status=BatchStatus.COMPLETED)
    return paid


def follow_payment(payment, status):
    """A payment moved to `status`: move its payout item, and tell every partner of
    the customer who listens (payment.settled, payment.returned)."""
    # Only a payout's payments are payout items, and their keys say so: any other
    # payment's step asks nothing here unless a partner listens.
    is_payout = (payment.idempotency_key or "").startswith(PAYOUT_KEY_PREFIX)
    item = PayoutItem.objects.filter(payment_id=payment.pk).select_related("batch").first() if is_payout else None
    if item is None and is_payout:
        # Paid within the bank, a payout settles before its item is linked to it.
        _prefix, batch_hex, item_id = payment.idempotency_key.split("-", 2)
        item = PayoutItem.objects.filter(pk=int(item_id), batch__public_id=batch_hex).select_related("batch").first()
    if item is not None and status in ITEM_STATUS_OF_PAYMENT:
        PayoutItem.objects.filter(pk=item.pk).update(status=ITEM_STATUS_OF_PAYMENT[status])
    event_type = {"settled": "payment.settled", "returned": "payment.returned", "failed": "payment.returned"}.get(
        status)
    if event_type is None or payment.customer_id is None:
        return
    for partner in Partner.objects.filter(customer_id=payment.customer_id, webhooks__deleted_at__isnull=True,
                                          webhooks__events__contains=[event_type]).distinct():
        data = {"payment_id": payment.pk, "status": status, "rail": payment.rail.lower(),
                "amount": f"{payment.amount // 100}.{payment.amount % 100:02d}",
                "utr": payment.reference or None, "return_code": payment.return_code or None}
        if item is not None and item.batch.partner_id == partner.pk:
            data.update(batch_id=str(item.batch.public_id), reference=item.reference)
        emit_event(partner=partner, type=event_type, data=data)
