"""Ledger actions: the only way money moves.

Design overview
- `post_entry` is the one function every module calls to post money. It validates
  the lines (two or more, amounts above zero in minor units, debits equal credits,
  one currency), then in one transaction:
    1. locks every ledger account it touches with SELECT ... FOR UPDATE, in id order,
       so two entries over the same accounts queue instead of deadlocking;
    2. checks each account's rules: not a header, not closed, not frozen (a debit
       freeze refuses debits only), and, where the account enforces it, that the
       available balance (balance − held + overdraft) stays at or above its minimum;
    3. writes the entry, its postings with the balance after each, the accounts' new
       balances and versions, and an audit event.
  Any refusal raises a BankingError before anything is written; the transaction
  leaves nothing behind.
- On PostgreSQL the common case is one statement: `cbs_post_entry` (migrations
  0005 and 0008) does steps 1-3 in the database, in one round trip, and returns 'refused'
  without writing when any rule would refuse the entry. The entry then goes the
  step-by-step way above, which gives the reason in words (or releases expired
  holds and posts). The two are held to the same rules by test_post_function.py.
- Idempotency: every entry carries a key. The same key with the same content returns
  the first entry (a double-click posts once); the same key with other content raises
  IdempotencyConflict. A unique index on the key settles races.
- Deadlocks and serialization failures are retried inside the action (when it owns
  the transaction), never shown to the user. Inside a caller's transaction the
  caller retries the whole of it: `banking.core.db.retrying` is how (the approvals
  queue does).
- `reverse_entry` posts the mirror of an entry and links it through `reversal_of`,
  which is unique: an entry is reversed at most once, even under concurrency.
- Holds change `held` under the same account lock. A hold past its expiry stops
  counting when it is released, by `release_expired_holds` at end of day or at once
  when it is all that stands in the way of a debit.

Errors: UnbalancedEntry, InvalidAmount, CurrencyMismatch, AccountNotPostable,
AccountClosed, AccountFrozen, InsufficientFunds, IdempotencyConflict,
AlreadyReversed, ValidationFailed.
"""

import datetime
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from banking.audit.actions import event_fields, record_event
from banking.audit.models import PLACEHOLDER, hashed_content
from banking.core.db import execute_prepared, retrying
from banking.core.errors import (
    AccountClosed,
    AccountFrozen,
    AccountNotPostable,
    AlreadyReversed,
    CurrencyMismatch,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidAmount,
    UnbalancedEntry,
    ValidationFailed,
)
from banking.core.money import Money, format_money

from .models import (
    AccountStatus,
    BusinessDate,
    Channel,
    EntryKind,
    Hold,
    JournalEntry,
    LedgerAccount,
    Posting,
    Side,
)

ENTRY_KINDS = frozenset(EntryKind.values)


@dataclass(frozen=True)
class Line:
    """One side of an entry: `amount` in minor units (or a Money) on `side` of `account`."""

    account: int
    side: str
    amount: int

    @classmethod
    def debit(cls, account, amount):
        return cls(_account_id(account), Side.DEBIT, amount)

    @classmethod
    def credit(cls, account, amount):
        return cls(_account_id(account), Side.CREDIT, amount)


def _account_id(account):
    return account.pk if isinstance(account, LedgerAccount) else int(account)


def _minor(amount, currency):
    if isinstance(amount, Money):
        if amount.currency != currency:
            raise CurrencyMismatch()
        return amount.minor
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise InvalidAmount("Amounts are posted in whole minor units (paise).")
    return amount


def _normalise(lines, currency):
    if len(lines) < 2:
        raise UnbalancedEntry("An entry needs at least one debit and one credit.")
    normalised = []
    for line in lines:
        if line.side not in (Side.DEBIT, Side.CREDIT):
            raise ValidationFailed("Each line must be a debit or a credit.")
        amount = _minor(line.amount, currency)
        if amount <= 0:
            raise InvalidAmount("Every amount must be above zero.")
        account = _account_id(line.account)
        if account is line.account and amount is line.amount:
            normalised.append(line)  # already an id and paise: kept, not copied
        else:
            normalised.append(Line(account, line.side, amount))
    debits = sum(line.amount for line in normalised if line.side == Side.DEBIT)
    credits = sum(line.amount for line in normalised if line.side == Side.CREDIT)
    if debits != credits:
        raise UnbalancedEntry(
            f"Debits ({format_money(debits, currency)}) and credits ({format_money(credits, currency)}) "
            f"differ by {format_money(abs(debits - credits), currency)}."
        )
    return normalised, debits


def _content_hash(lines, kind, currency, reversal_of_id):
    content = {
        "lines": sorted((line.account, line.side, line.amount) for line in lines),
        "kind": kind,
        "currency": currency,
        "reversal_of": reversal_of_id,
    }
    return hashlib.sha256(_SORTED_JSON.encode(content).encode()).hexdigest()


_SORTED_JSON = json.JSONEncoder(sort_keys=True)  # json.dumps(..., sort_keys=True), without a new encoder per call


def _existing(idempotency_key, content_hash, found=None):
    """The entry already posted under this key, if any; refuses a key reused for other content.

    `found` is (id, content_hash) when the caller has already looked the key up."""
    if found is None:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, content_hash FROM {JournalEntry._meta.db_table} WHERE idempotency_key = %s",  # noqa: S608
                [idempotency_key],
            )
            found = cursor.fetchone()
    if found is None or found[0] is None:
        return None
    if found[1] != content_hash:
        raise IdempotencyConflict(
            "This request was already made with different details, so it was not posted again."
        )
    return JournalEntry.objects.get(pk=found[0])


def _prepare(lines, kind, narration, idempotency_key, currency, reversal_of):
    """An entry's lines checked and normalised, its total, narration and content hash,
    or the refusal of an entry no account state could make postable."""
    if kind not in ENTRY_KINDS:
        raise ValidationFailed(f"Unknown entry kind {kind!r}.")
    if not idempotency_key:
        raise ValidationFailed("Every posting needs an idempotency key.")
    narration = (narration or "").strip()
    if not narration:
        raise ValidationFailed("Enter a narration for the entry.")
    lines, total = _normalise(list(lines), currency)
    reversal_of_id = reversal_of.pk if reversal_of is not None else None
    return lines, total, narration, _content_hash(lines, kind, currency, reversal_of_id)


def post_entry(
    *,
    actor,
    lines,
    kind,
    narration,
    idempotency_key,
    channel=Channel.SYSTEM,
    currency="INR",
    checker=None,
    reference="",
    reversal_of=None,
):
    """Post one balanced journal entry and return it.

    Locks: every LedgerAccount in `lines`, FOR UPDATE, in ascending id order.
    `actor` is the maker (None only for the bank's own scheduled jobs). Outside a
    transaction on PostgreSQL the entry is one statement, its own transaction.
    """
    lines, total, narration, content_hash = _prepare(lines, kind, narration, idempotency_key, currency, reversal_of)

    def operation():
        accounts, business_date = _lock_accounts({line.account for line in lines})
        existing = _existing(idempotency_key, content_hash)
        if existing is not None:
            return existing
        _check_rules(accounts, lines, currency, actor)
        return _write(accounts, lines, total, business_date=business_date, actor=actor, kind=kind,
                      narration=narration, channel=channel, currency=currency, checker=checker,
                      reference=reference, reversal_of=reversal_of, idempotency_key=idempotency_key,
                      content_hash=content_hash)

    def in_one_call():
        return _post_in_one_call(lines, total, actor=actor, kind=kind, narration=narration, channel=channel,
                                 currency=currency, checker=checker, reference=reference, reversal_of=reversal_of,
                                 idempotency_key=idempotency_key, content_hash=content_hash)

    try:
        if connection.vendor == "postgresql":
            # cbs_post_entry settles a duplicate key itself; only a reversal's
            # uniqueness can raise, and AlreadyReversed is reported from a savepoint.
            entry = retrying(in_one_call, own_transaction=False, savepoint=reversal_of is not None)
            if entry is not None:
                return entry
            # Refused: the step-by-step path says why (or releases expired holds and posts).
        return retrying(operation)
    except IntegrityError:
        existing = _existing(idempotency_key, content_hash)
        if existing is not None:
            return existing
        if reversal_of is not None and JournalEntry.objects.filter(reversal_of=reversal_of).exists():
            raise AlreadyReversed(f"Entry {reversal_of.number} has already been reversed.") from None
        raise


def _lock_accounts(ids):
    """Lock the accounts in id order (FOR UPDATE; SQLite's IMMEDIATE transactions
    lock the whole database instead) and return ({id: LedgerAccount}, the business
    date)."""
    locked = LedgerAccount.objects.filter(pk__in=ids).order_by("pk")
    if connection.features.has_select_for_update:
        locked = locked.select_for_update()
    accounts = {account.pk: account for account in locked}
    missing = set(ids) - accounts.keys()
    if missing:
        raise AccountNotPostable(f"There is no ledger account with id {min(missing)}.")
    return accounts, BusinessDate.objects.current()


def _check_rules(accounts, lines, currency, actor):
    delta = defaultdict(int)
    debited = set()
    for line in lines:
        account = accounts[line.account]
        delta[account.pk] += account.signed(line.side, line.amount)
        if line.side == Side.DEBIT:
            debited.add(account.pk)
    for account in accounts.values():
        if account.is_header:
            raise AccountNotPostable(f"{account} is a header account; post to one of its detail accounts.")
        if account.currency != currency:
            raise CurrencyMismatch(f"{account} is kept in {account.currency}, not {currency}.")
        if account.status == AccountStatus.CLOSED:
            raise AccountClosed(f"{account.name} ({account.code}) is closed.")
        if account.status == AccountStatus.FROZEN:
            raise AccountFrozen(f"{account.name} ({account.code}) is frozen: no debits or credits.")
        if account.status == AccountStatus.DEBIT_FROZEN and account.pk in debited:
            raise AccountFrozen(f"{account.name} ({account.code}) has a debit freeze: only credits are allowed.")
        change = delta[account.pk]
        if account.enforce_balance and change < 0 and account.available + change < account.min_balance:
            if _release_expired(account, actor) and account.available + change >= account.min_balance:
                continue
            raise InsufficientFunds(
                f"{account.name} ({account.code}) has {format_money(account.available, currency)} available; "
                f"{format_money(-change, currency)} would take it below its "
                f"{'minimum balance' if account.min_balance else 'limit'}."
            )


def _write(accounts, lines, total, *, business_date, actor, kind, narration, channel, currency, checker,
           reference, reversal_of, idempotency_key, content_hash):
    """The entry, its postings, the balances and the audit event, statement by
    statement: the path of SQLite, and of PostgreSQL when cbs_post_entry refused."""
    entry = JournalEntry.objects.create(
        business_date=business_date, booked_at=timezone.now(), kind=kind, narration=narration[:200],
        channel=channel, reference=reference[:40], maker=actor, checker=checker, idempotency_key=idempotency_key,
        content_hash=content_hash, reversal_of=reversal_of, total=total, currency=currency,
    )
    postings = []
    for line in lines:
        account = accounts[line.account]
        account.balance += account.signed(line.side, line.amount)
        postings.append(Posting(entry=entry, account_id=account.pk, side=line.side, amount=line.amount,
                                balance_after=account.balance, business_date=business_date))
    Posting.objects.bulk_create(postings)
    for account in accounts.values():
        account.version += 1
    LedgerAccount.objects.bulk_update(accounts.values(), ["balance", "version"])
    record_event(**_entry_event(str(entry.pk), lines, total, actor=actor, kind=kind, narration=narration,
                                currency=currency, checker=checker, reversal_of=reversal_of))
    return entry


def _entry_event(entry_id, lines, total, *, actor, kind, narration, currency, checker, reversal_of):
    """The audit event of a posted entry, as the arguments of record_event (or
    event_fields, when the database writes it)."""
    return {
        "action": "ledger.entry_posted",
        "object_type": "ledger.journalentry",
        "object_id": entry_id,
        "summary": f"{EntryKind(kind).label}: {narration[:120]} ({format_money(total, currency)})",
        "after": {
            "kind": kind,
            "total": total,
            "lines": [[line.account, line.side, line.amount] for line in lines],
            "reversal_of": reversal_of.pk if reversal_of else None,
            "checker": checker.pk if checker else None,
        },
        "actor": actor,
    }


# Its arguments' placeholders, with casts: `_arguments` gives their values in this order.
POST_ARGUMENTS = (
    "%s::text, %s::text, %s::text, %s::text, %s::text, %s::text, %s::bigint, %s::bigint, %s::bigint, %s::bigint,"
    " %s::text, %s::timestamptz, %s::date, %s::bigint[], %s::text[], %s::bigint[],"
    " %s::timestamptz, %s::bigint, %s::text, %s::text, %s::inet, %s::text, %s::text, %s::text, %s::text,"
    " %s::text, %s::text"
)
_POST_SQL = f"SELECT outcome, entry_id, entry_date, detail FROM cbs_post_entry({POST_ARGUMENTS})"  # noqa: S608 constant


def _post_in_one_call(lines, total, *, actor, kind, narration, channel, currency, checker, reference,
                      reversal_of, idempotency_key, content_hash):
    """PostgreSQL: lock, check, write and audit in one call of `cbs_post_entry`
    (migrations 0005 and 0008), which is one statement and one round trip. Returns
    the entry, or None when a rule refused it; nothing is written then."""
    booked_at = timezone.now()
    params = _arguments(lines, total, actor=actor, kind=kind, narration=narration, channel=channel,
                        currency=currency, checker=checker, reference=reference, reversal_of=reversal_of,
                        idempotency_key=idempotency_key, content_hash=content_hash, booked_at=booked_at)
    outcome, entry_id, business_date, detail = execute_prepared(_POST_SQL, params)[0]
    if outcome == "exists":
        return _existing(idempotency_key, content_hash, (entry_id, detail))
    if outcome == "refused":
        return None
    return JournalEntry(
        id=entry_id, business_date=business_date, booked_at=booked_at, kind=kind, narration=narration[:200],
        channel=channel, reference=reference[:40], maker=actor, checker=checker, idempotency_key=idempotency_key,
        content_hash=content_hash, reversal_of=reversal_of, total=total, currency=currency,
    )


def _arguments(lines, total, *, actor, kind, narration, channel, currency, checker, reference, reversal_of,
               idempotency_key, content_hash, booked_at, note=True):
    """cbs_post_entry's arguments, in its order (POST_ARGUMENTS)."""
    event = event_fields(**_entry_event(PLACEHOLDER, lines, total, actor=actor, kind=kind,
                                        narration=narration, currency=currency, checker=checker,
                                        reversal_of=reversal_of), note=note)
    return [
        idempotency_key, content_hash, kind, narration[:200], channel, reference[:40],
        actor.pk if actor is not None else None, checker.pk if checker is not None else None,
        reversal_of.pk if reversal_of is not None else None,
        total, currency, booked_at, timezone.localdate(booked_at, timezone.get_default_timezone()),
        _array(line.account for line in lines), _array(line.side for line in lines),
        _array(line.amount for line in lines),
        event["occurred_at"], event["actor_id"], event["actor_username"], event["role"], event["ip"],
        event["user_agent"], event["request_id"], event["channel"], event["summary"], json.dumps(event["after"]),
        hashed_content(event),
    ]


def entry_arguments(*, actor, lines, kind, narration, idempotency_key, channel):
    """cbs_post_entry's arguments for an entry in rupees, checked and normalised as
    post_entry does, for a database function that posts the entry inside its own
    statement (the counter's cbs_counter_cash). Its reference is that function's to
    fill in; its audit event is that function's to note (`note_event`) once written."""
    lines, total, narration, content_hash = _prepare(lines, kind, narration, idempotency_key, "INR", None)
    return _arguments(lines, total, actor=actor, kind=kind, narration=narration, channel=channel, currency="INR",
                      checker=None, reference="", reversal_of=None, idempotency_key=idempotency_key,
                      content_hash=content_hash, booked_at=timezone.now(), note=False)


def _array(values):
    """A PostgreSQL array literal of integers or side codes ("D", "C"), for a
    parameter the statement casts (`%s::bigint[]`): cheaper for psycopg to send than
    a Python list, whose element type it would work out on every call."""
    return "{" + ",".join(str(value) for value in values) + "}"


def reverse_entry(*, actor, entry, idempotency_key, narration="", checker=None, channel=Channel.OPERATIONS):
    """Post the mirror of `entry` and link it. Locks as post_entry."""
    if entry.kind == EntryKind.REVERSAL or entry.reversal_of_id:
        raise AlreadyReversed(f"{entry.number} is itself a reversal; post a new entry instead.")
    if JournalEntry.objects.filter(reversal_of=entry).exclude(idempotency_key=idempotency_key).exists():
        raise AlreadyReversed(f"Entry {entry.number} has already been reversed.")
    mirror = [
        Line(p.account_id, Side.CREDIT if p.side == Side.DEBIT else Side.DEBIT, p.amount)
        for p in entry.postings.all()
    ]
    return post_entry(
        actor=actor, lines=mirror, kind=EntryKind.REVERSAL,
        narration=narration or f"Reversal of {entry.number}: {entry.narration}"[:200],
        idempotency_key=idempotency_key, channel=channel, currency=entry.currency, checker=checker,
        reference=entry.number, reversal_of=entry,
    )


# -- holds ------------------------------------------------------------------------


@transaction.atomic
def place_hold(*, actor, account, amount, reason, expires_at=None, reference=""):
    """Mark a lien on `account`. Locks the account. A lien may exceed what is
    available (a court order does); it then blocks every debit until released."""
    amount = _minor(amount, "INR" if not isinstance(amount, Money) else amount.currency)
    if amount <= 0:
        raise InvalidAmount("A hold must be above zero.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Give the reason for the hold.")
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationFailed("The hold's expiry must be in the future.")
    locked = LedgerAccount.objects.select_for_update().get(pk=_account_id(account))
    if locked.is_header or locked.status == AccountStatus.CLOSED:
        raise AccountNotPostable(f"A hold cannot be placed on {locked}.")
    hold = Hold.objects.create(account=locked, amount=amount, reason=reason[:200], reference=reference[:40],
                               placed_by=actor, expires_at=expires_at)
    before = locked.held
    locked.held += amount
    locked.version += 1
    locked.save(update_fields=["held", "version"])
    record_event(action="ledger.hold_placed", obj=hold, actor=actor, before={"held": before},
                 after={"held": locked.held, "amount": amount, "reason": hold.reason,
                        "expires_at": expires_at.isoformat() if expires_at else None})
    return hold


@transaction.atomic
def release_hold(*, actor, hold, reason="Released"):
    """Release a hold. Locks the account, then the hold."""
    locked = LedgerAccount.objects.select_for_update().get(pk=hold.account_id)
    hold = Hold.objects.select_for_update().get(pk=hold.pk)
    if hold.released_at is not None:
        raise ValidationFailed("This hold has already been released.")
    _release(locked, hold, actor, reason)
    return hold


def _release(account, hold, actor, reason):
    before = account.held
    hold.released_at = timezone.now()
    hold.released_by = actor
    hold.release_reason = reason[:200]
    hold.save(update_fields=["released_at", "released_by", "release_reason"])
    account.held -= hold.amount
    account.version += 1
    account.save(update_fields=["held", "version"])
    record_event(action="ledger.hold_released", obj=hold, actor=actor, before={"held": before},
                 after={"held": account.held, "reason": hold.release_reason})


def _release_expired(account, actor):
    """Release `account`'s expired holds (the account is already locked)."""
    expired = list(Hold.objects.expired_unreleased().filter(account=account).select_for_update())
    for hold in expired:
        _release(account, hold, actor, "Expired")
    return bool(expired)


def release_expired_holds(*, actor, now=None):
    """End of day: release every hold past its expiry. Returns how many."""
    count = 0
    account_ids = Hold.objects.expired_unreleased(now).values_list("account_id", flat=True).distinct()
    for account_id in list(account_ids):
        with transaction.atomic():
            account = LedgerAccount.objects.select_for_update().get(pk=account_id)
            for hold in Hold.objects.expired_unreleased(now).filter(account=account).select_for_update():
                _release(account, hold, actor, "Expired")
                count += 1
    return count


# -- the account's own lifecycle -------------------------------------------------


@transaction.atomic
def set_account_status(*, actor, account, status, reason):
    """Freeze, unfreeze or close a ledger account. Locks the account. Closing needs a
    zero balance and no holds."""
    locked = LedgerAccount.objects.select_for_update().get(pk=_account_id(account))
    if status not in AccountStatus.values:
        raise ValidationFailed(f"Unknown status {status!r}.")
    if status == AccountStatus.CLOSED and (locked.balance != 0 or locked.held != 0):
        raise ValidationFailed(
            f"{locked.name} still holds {format_money(locked.balance, locked.currency)}"
            f"{' and a lien' if locked.held else ''}; pay it out before closing."
        )
    if locked.status == AccountStatus.CLOSED:
        raise AccountClosed(f"{locked.name} is closed.")
    before = locked.status
    locked.status = status
    locked.version += 1
    locked.save(update_fields=["status", "version"])
    record_event(action="ledger.account_status", obj=locked, actor=actor, before={"status": before},
                 after={"status": status, "reason": reason})
    return locked


# -- the bank's date ---------------------------------------------------------------


@transaction.atomic
def advance_business_date(*, actor, to=None):
    """Advance the business date; locks the BusinessDate row so two end-of-day runs
    cannot both move it. It never moves backwards."""
    row = BusinessDate.objects.select_for_update().filter(pk=1).first()
    if row is None:
        row = BusinessDate.objects.create(pk=1, date=timezone.localdate())
    before = row.date
    target = to or before + datetime.timedelta(days=1)
    if target <= before:
        raise ValidationFailed(f"The business date can only move forward from {before:%d %b %Y}.")
    row.date = target
    row.save(update_fields=["date", "changed_at"])
    record_event(
        action="ledger.business_date_advanced", obj=row, actor=actor,
        before={"date": before.isoformat()}, after={"date": target.isoformat()},
        summary=f"Business date {before:%d %b %Y} → {target:%d %b %Y}",
    )
    return row
