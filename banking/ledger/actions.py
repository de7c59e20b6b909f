"""Ledger actions: the only way money moves.

Design overview
- `post_entry` is the one function every module calls to post money. The ledger's
  rules live in one place, the database function `cbs_post_entry`
  (banking/ledger/sql/post_entry.sql), which in one statement:
    1. locks every ledger account the entry touches, FOR UPDATE, in id order, so two
       entries over the same accounts queue instead of deadlocking;
    2. refuses an account that does not exist, is a header, is kept in another
       currency, is closed or frozen (a debit freeze refuses debits only), or, where
       the account enforces it, whose available balance (balance − held +
       overdraft) a debit would take below its minimum;
    3. refuses an entry whose debits differ from its credits;
    4. writes the entry, its postings with the balance after each, the accounts'
       new balances and versions, and the entry's audit event.
  A refusal writes nothing and comes back as a code; `post_entry` turns it into the
  BankingError with the words for the teller or customer, and decides nothing
  itself. Before the call it only reads its arguments: lines of a debit or credit
  of a whole number of paise above zero, in the entry's currency, a known kind, a
  narration and a key.
- `post_batch` posts many entries at once for end of day, set-based, through the
  database function `cbs_post_batch` (banking/ledger/sql/post_batch.sql). It applies
  the same rules, written once in `cbs_account_refusal` (sql/account_rules.sql),
  which both functions call; each entry is posted or refused on its own, and a
  refusal comes back in the same words.
- Idempotency: every entry carries a key. The same key with the same content returns
  the first entry (a double-click posts once), even when the money has gone since;
  the same key with other content raises IdempotencyConflict. The function decides
  both; a unique index on the key settles races.
- Deadlocks and serialization failures are retried inside the action (when it owns
  the transaction), never shown to the user. Inside a caller's transaction the
  caller retries the whole of it: `banking.core.db.retrying` is how (the approvals
  queue does).
- `reverse_entry` posts the mirror of an entry through `post_entry` and links it
  through `reversal_of`, which is unique: an entry is reversed at most once, even
  under concurrency.
- Holds change `held` under the same account lock. A hold past its expiry no longer
  counts in the available balance as soon as it expires (LedgerAccount.available),
  but stays in `held` until it is released: by `release_expired_holds` at end of
  day, by closing the account, or at once when the function finds expired holds all
  that stand in the way of a debit: the action releases them (each release audited)
  and posts, so a debit may take exactly the available balance shown.

Errors: UnbalancedEntry, InvalidAmount, CurrencyMismatch, AccountNotPostable,
AccountClosed, AccountFrozen, InsufficientFunds, IdempotencyConflict,
AlreadyReversed, ValidationFailed.
"""

import datetime
import hashlib
import json
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from banking.audit.actions import event_context, record_event
from banking.core.db import execute_prepared, retrying, ride
from banking.core.errors import (
    AccountClosed,
    AccountFrozen,
    AccountNotPostable,
    AlreadyReversed,
    BankingError,
    CurrencyMismatch,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidAmount,
    UnbalancedEntry,
    ValidationFailed,
)
from banking.core.money import Money, format_money

from .holidays import check_holiday_removal, check_new_holiday
from .models import (
    AccountStatus,
    BusinessDate,
    Channel,
    EntryKind,
    Hold,
    Holiday,
    JournalEntry,
    LedgerAccount,
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
    """The lines as (account id, side, paise), and the entry's total (its debits).
    Whether they balance is the posting function's to decide."""
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
    return normalised, sum(line.amount for line in normalised if line.side == Side.DEBIT)


def _content_hash(lines, kind, currency, reversal_of_id):
    content = {
        "lines": sorted((line.account, line.side, line.amount) for line in lines),
        "kind": kind,
        "currency": currency,
        "reversal_of": reversal_of_id,
    }
    return hashlib.sha256(_SORTED_JSON.encode(content).encode()).hexdigest()


_SORTED_JSON = json.JSONEncoder(sort_keys=True)  # json.dumps(..., sort_keys=True), without a new encoder per call


def _prepare(lines, kind, narration, idempotency_key, currency, reversal_of):
    """An entry's lines read as paise, its total, narration and content hash, or the
    refusal of arguments that do not make an entry (an unknown kind or side, an
    amount that is not whole paise above zero, no narration or no key)."""
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
    riders=(),
    names=None,
):
    """Post one balanced journal entry and return it.

    Locks: every LedgerAccount in `lines`, FOR UPDATE, in ascending id order (in
    `cbs_post_entry`). `actor` is the maker (None only for the bank's own scheduled
    jobs). Outside a transaction the entry is one statement, its own transaction.

    `riders` (banking.core.db): the caller's own writes that go with the entry, sent
    in the same statement and written only if the entry is posted now: not when it is
    refused, nor when its key finds an entry posted before.

    `names`: how the person at the screen knows some of the ledger accounts, by id
    (a customer's sub-ledger is "Account 900714100000016"), for a refusal's words.
    """
    lines, total, narration, content_hash = _prepare(lines, kind, narration, idempotency_key, currency, reversal_of)
    booked_at = timezone.now()
    params = _arguments(lines, total, actor=actor, kind=kind, narration=narration, channel=channel,
                        currency=currency, checker=checker, reference=reference, reversal_of=reversal_of,
                        idempotency_key=idempotency_key, content_hash=content_hash, booked_at=booked_at)
    sql = _POST_SQL
    if riders:
        with_sql, ran, rider_params = ride(f"e AS MATERIALIZED ({_POST_SQL}), posted AS "  # noqa: S608 constant
                                           "(SELECT entry_id, entry_date FROM e WHERE outcome = 'posted')", riders)
        sql, params = f"{with_sql} SELECT e.*, {ran} FROM e", [*params, *rider_params]  # noqa: S608 constant
    # Expired holds released, each pass, on at most one account per account the entry names.
    for _ in range(len({line.account for line in lines}) + 1):
        try:
            # Only a reversal's uniqueness can raise; AlreadyReversed is reported from a savepoint.
            outcome, entry_id, business_date, _hash, account_id, available, change = retrying(
                lambda: execute_prepared(sql, params)[0][:7], own_transaction=False,
                savepoint=reversal_of is not None)
        except IntegrityError:
            if reversal_of is not None and JournalEntry.objects.filter(reversal_of=reversal_of).exists():
                raise AlreadyReversed(f"Entry {reversal_of.number} has already been reversed.") from None
            raise
        if outcome == "posted":
            return JournalEntry(
                id=entry_id, business_date=business_date, booked_at=booked_at, kind=kind, narration=narration[:200],
                channel=channel, reference=reference[:40], maker=actor, checker=checker,
                idempotency_key=idempotency_key, content_hash=content_hash, reversal_of=reversal_of, total=total,
                currency=currency,
            )
        if outcome == "exists":
            return JournalEntry.objects.get(pk=entry_id)
        if outcome != "held_expired":
            raise _refusal(outcome, account_id=account_id, available=available, change=change, lines=lines,
                           currency=currency, names=names)
        with transaction.atomic():
            account = LedgerAccount.objects.select_for_update().get(pk=account_id)
            _release_expired(account, actor)
    raise AssertionError("expired holds released on every account, and still refused for them")


def _refusal(outcome, *, account_id, available, change, lines, currency, names=None):
    """The BankingError, in words, for a refusal code of cbs_post_entry."""
    if outcome == "key_reused":
        return IdempotencyConflict("This request was already made with different details, so it was not posted again.")
    if outcome == "unbalanced":
        debits = sum(line.amount for line in lines if line.side == Side.DEBIT)
        credits = sum(line.amount for line in lines if line.side == Side.CREDIT)
        if not debits or not credits:
            return UnbalancedEntry("An entry needs at least one debit and one credit.")
        return UnbalancedEntry(
            f"Debits ({format_money(debits, currency)}) and credits ({format_money(credits, currency)}) "
            f"differ by {format_money(abs(debits - credits), currency)}."
        )
    if outcome == "no_account":
        return AccountNotPostable(f"There is no ledger account with id {account_id}.")
    account = LedgerAccount.objects.get(pk=account_id)
    named = (names or {}).get(account_id) or f"{account.name} ({account.code})"
    if outcome == "header":
        return AccountNotPostable(f"{account} is a header account; post to one of its detail accounts.")
    if outcome == "currency":
        return CurrencyMismatch(f"{account} is kept in {account.currency}, not {currency}.")
    if outcome == "closed":
        return AccountClosed(f"{named} is closed.")
    if outcome == "frozen":
        return AccountFrozen(f"{named} is frozen: no debits or credits.")
    if outcome == "debit_frozen":
        return AccountFrozen(f"{named} has a debit freeze: only credits are allowed.")
    if outcome == "insufficient":
        if account.min_balance:
            return InsufficientFunds(
                f"{named} has {format_money(available, currency)} available; {format_money(-change, currency)} "
                f"would take it below its minimum balance of {format_money(account.min_balance, currency)}.")
        return InsufficientFunds(f"{named} has {format_money(available, currency)} available, less than "
                                 f"{format_money(-change, currency)}.")
    raise AssertionError(f"cbs_post_entry answered {outcome!r}")


_CHECK_DEBIT_SQL = (
    "SELECT cbs_refusal_reason(id, currency, true, CASE WHEN normal_side = 'C' THEN -%s ELSE %s END, %s) "
    "FROM ledger_ledgeraccount WHERE id = %s"
)


def check_debit(account_id, amount, *, names=None, currency="INR"):
    """Refuse now, in the posting's own words, a debit of `amount` from ledger
    account `account_id` that posting would refuse: for work that is previewed or
    queued for approval before it posts. The question goes to the ledger's rules
    themselves (cbs_refusal_reason, account_rules.sql), so the answer cannot differ
    from the posting's; holds that have expired do not refuse it, as posting releases
    them. Reads without locking: posting decides, under its locks."""
    outcome = execute_prepared(_CHECK_DEBIT_SQL, [amount, amount, timezone.now(), account_id])[0][0]
    if outcome not in (None, "held_expired"):
        available = LedgerAccount.objects.get(pk=account_id).available
        raise _refusal(outcome, account_id=account_id, available=available, change=-amount, lines=(),
                       currency=currency, names=names)


def _entry_event(lines, total, *, kind, narration, currency, checker, reversal_of):
    """The summary and `after` of a posted entry's audit event, whose other fields
    come from the audit context: the posting function records it (through the audit
    trail's cbs_record_event) with the entry's id, in the entry's statement."""
    summary = f"{EntryKind(kind).label}: {narration[:120]} ({format_money(total, currency)})"
    after = {
        "kind": kind,
        "total": total,
        "lines": [[line.account, line.side, line.amount] for line in lines],
        "reversal_of": reversal_of.pk if reversal_of else None,
        "checker": checker.pk if checker else None,
    }
    return summary, json.dumps(after)


# Its arguments' placeholders, with casts: `_arguments` gives their values in this order.
POST_ARGUMENTS = (
    "%s::text, %s::text, %s::text, %s::text, %s::text, %s::text, %s::bigint, %s::bigint, %s::bigint, %s::bigint,"
    " %s::text, %s::timestamptz, %s::date, %s::bigint[], %s::text[], %s::bigint[],"
    " %s::timestamptz, %s::bigint, %s::text, %s::text, %s::inet, %s::text, %s::text, %s::text, %s::text,"
    " %s::jsonb"
)
_POST_SQL = (
    "SELECT outcome, entry_id, entry_date, detail, account_id, available, change"  # noqa: S608 constant
    f" FROM cbs_post_entry({POST_ARGUMENTS})"
)


def _arguments(lines, total, *, actor, kind, narration, channel, currency, checker, reference, reversal_of,
               idempotency_key, content_hash, booked_at):
    """cbs_post_entry's arguments, in its order (POST_ARGUMENTS)."""
    event = event_context(actor=actor)
    summary, after = _entry_event(lines, total, kind=kind, narration=narration, currency=currency, checker=checker,
                                  reversal_of=reversal_of)
    return [
        idempotency_key, content_hash, kind, narration[:200], channel, reference[:40],
        actor.pk if actor is not None else None, checker.pk if checker is not None else None,
        reversal_of.pk if reversal_of is not None else None,
        total, currency, booked_at, timezone.localdate(booked_at, timezone.get_default_timezone()),
        _array(line.account for line in lines), _array(line.side for line in lines),
        _array(line.amount for line in lines),
        event["occurred_at"], event["actor_id"], event["actor_username"], event["role"], event["ip"],
        event["user_agent"], event["request_id"], event["channel"], summary, after,
    ]


def _array(values):
    """A PostgreSQL array literal of integers or side codes ("D", "C"), for a
    parameter the statement casts (`%s::bigint[]`): cheaper for psycopg to send than
    a Python list, whose element type it would work out on every call."""
    return "{" + ",".join(str(value) for value in values) + "}"


def _text_array(values):
    """A PostgreSQL array literal of texts, each quoted (for a `%s::text[]` parameter):
    cheaper for psycopg to send than a list of ten thousand strings."""
    return "{" + ",".join('"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"' for value in values) + "}"


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


# -- batches ----------------------------------------------------------------------


@dataclass(frozen=True)
class BatchEntry:
    """One entry of a batch (`post_batch`): its key, narration, lines and reference."""

    idempotency_key: str
    narration: str
    lines: tuple
    reference: str = ""


@dataclass(frozen=True)
class BatchOutcome:
    """What became of one entry of a batch: `entry_id` when it is posted, now
    (`posted_now`) or before under its key; else `error`, the refusal in words."""

    entry_id: int | None = None
    posted_now: bool = False
    error: BankingError | None = None

    @property
    def posted(self):
        return self.error is None


def post_batch(*, actor, entries, kind, channel=Channel.SYSTEM, currency="INR"):
    """Post many balanced journal entries at once, set-based, and return a
    BatchOutcome for each of `entries` (BatchEntry), in their order.

    The database function `cbs_post_batch` (sql/post_batch.sql) applies to each entry
    the rules a single entry gets (the same SQL: `cbs_account_refusal`), and writes
    every accepted entry in one statement; one entry's refusal stops no other, and
    comes back as the BankingError `post_entry` would raise, in the same words. Each
    entry's key is its own: an entry whose key was used for the same content comes
    back posted (not posted now), for other content refused with IdempotencyConflict.
    An account that enforces its balance, or a key, named by more than one entry is
    judged in order: the later entries go in a next call of the function, against the
    balances the first left, so the result is that of posting the entries one by one
    in order. Expired holds that alone stand in the way of a debit are released (each
    release audited) and the entry sent again, as `post_entry` does.

    Audit: one `ledger.batch_posted` event per call of the function that posts
    anything, with a digest of the entries it wrote (why not one per entry: see the
    SQL file). `actor` is the maker (None for the bank's own end of day, inside an
    `audit_context` naming the step).

    Locks: every LedgerAccount the batch names, FOR UPDATE, in ascending id order, in
    one statement. All of it is one transaction (a savepoint inside the caller's),
    retried from the top on a deadlock or serialization failure when it is its own.
    """
    if kind not in ENTRY_KINDS:
        raise ValidationFailed(f"Unknown entry kind {kind!r}.")
    entries = list(entries)
    outcomes, prepared = [None] * len(entries), {}
    for i, entry in enumerate(entries):
        try:
            prepared[i] = _prepare(entry.lines, kind, entry.narration, entry.idempotency_key, currency, None)
        except (ValidationFailed, InvalidAmount, CurrencyMismatch) as error:
            outcomes[i] = BatchOutcome(error=error)
    if not prepared:
        return outcomes
    booked_at = timezone.now()
    return retrying(lambda: _post_batch_rounds(actor, entries, prepared, list(outcomes), kind=kind, channel=channel,
                                               currency=currency, booked_at=booked_at))


def _post_batch_rounds(actor, entries, prepared, outcomes, *, kind, channel, currency, booked_at):
    """Call cbs_post_batch until every entry is judged: each call judges the entries
    it did not send back as `repeated` or `held_expired`."""
    pending = sorted(prepared)
    rounds_left = len(pending) + len({line.account for i in pending for line in prepared[i][0]}) + 1
    while pending:
        rounds_left -= 1
        if rounds_left < 0:
            raise AssertionError("cbs_post_batch sent entries back without end")
        rows = execute_prepared(_POST_BATCH_SQL, _batch_arguments(actor, entries, prepared, pending, kind=kind,
                                                                  channel=channel, currency=currency,
                                                                  booked_at=booked_at))
        again, expired = [], set()
        for entry_no, outcome, entry_id, account_id, available, change in rows:
            i = pending[entry_no - 1]
            if outcome in ("posted", "exists"):
                outcomes[i] = BatchOutcome(entry_id=entry_id, posted_now=outcome == "posted")
            elif outcome == "repeated":
                again.append(i)
            elif outcome == "held_expired":
                again.append(i)
                expired.add(account_id)
            else:
                outcomes[i] = BatchOutcome(error=_refusal(outcome, account_id=account_id, available=available,
                                                          change=change, lines=prepared[i][0], currency=currency))
        for account_id in sorted(expired):  # already locked, by the call above
            _release_expired(LedgerAccount.objects.select_for_update().get(pk=account_id), actor)
        pending = sorted(again)
    return outcomes


_POST_BATCH_SQL = (
    "SELECT entry_no, outcome, entry_id, account_id, available, change FROM cbs_post_batch("  # noqa: S608 constant
    "%s::text[], %s::text[], %s::text[], %s::text[], %s::integer[], %s::bigint[], %s::text[], %s::bigint[],"
    " %s::text, %s::text, %s::bigint, %s::text, %s::timestamptz, %s::date,"
    " %s::timestamptz, %s::bigint, %s::text, %s::text, %s::inet, %s::text, %s::text, %s::text, %s::text)"
)


def _batch_arguments(actor, entries, prepared, pending, *, kind, channel, currency, booked_at):
    """cbs_post_batch's arguments for the entries `pending` (indexes into `entries`),
    in its order: entry n of the call is pending[n - 1]."""
    line_entries, accounts, sides, amounts = [], [], [], []
    for n, i in enumerate(pending, start=1):
        for line in prepared[i][0]:
            line_entries.append(n)
            accounts.append(line.account)
            sides.append(line.side)
            amounts.append(line.amount)
    event = event_context(actor=actor)
    summary = f"{EntryKind(kind).label}: a batch of {len(pending)} entries sent to the ledger"
    return [
        _text_array(entries[i].idempotency_key for i in pending), _text_array(prepared[i][3] for i in pending),
        _text_array(prepared[i][2][:200] for i in pending), _text_array((entries[i].reference or "")[:40]
                                                                        for i in pending),
        _array(line_entries), _array(accounts), _array(sides), _array(amounts),
        kind, channel, actor.pk if actor is not None else None, currency, booked_at,
        timezone.localdate(booked_at, timezone.get_default_timezone()),
        event["occurred_at"], event["actor_id"], event["actor_username"], event["role"], event["ip"],
        event["user_agent"], event["request_id"], event["channel"], summary,
    ]


# -- holds ------------------------------------------------------------------------


@transaction.atomic
def place_hold(*, actor, account, amount, reason, expires_at=None, reference=""):
    """Mark a lien of `amount` on `account`. Locks the account. A lien is an amount,
    not a block: it lowers the available balance by `amount` until it is released or
    expires. It may exceed what is available (a court order's may); the account then
    takes credits, and a debit passes once they leave available money above the lien."""
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
    zero balance and no hold standing: holds past their expiry are released first."""
    locked = LedgerAccount.objects.select_for_update().get(pk=_account_id(account))
    if status not in AccountStatus.values:
        raise ValidationFailed(f"Unknown status {status!r}.")
    if status == AccountStatus.CLOSED and locked.held and locked.status != AccountStatus.CLOSED:
        _release_expired(locked, actor)
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


# -- the holiday calendar ------------------------------------------------------------


def _locked_business_date():
    """The business date, its row locked so that the date cannot roll while a holiday
    is checked against it."""
    row = BusinessDate.objects.select_for_update().filter(pk=1).first()
    return row.date if row else timezone.localdate()


@transaction.atomic
def add_holiday(*, actor, checker, date, name):
    """Make `date` a bank holiday, once a second person (`checker`) approved it.
    Refused for a date that is not after the business date or is a holiday already
    (holidays.check_new_holiday). Locks the BusinessDate row."""
    name = check_new_holiday(date, name, today=_locked_business_date())
    holiday = Holiday.objects.create(date=date, name=name, added_by=actor, approved_by=checker)
    record_event(action="ledger.holiday_added", obj=holiday, actor=checker,
                 summary=f"Bank holiday {name} on {date:%d %b %Y}, asked by {actor.get_username()}",
                 after={"date": date.isoformat(), "name": name, "maker": actor.pk})
    return holiday


@transaction.atomic
def remove_holiday(*, actor, checker, date):
    """Make `date` a working day again, once `checker` approved it. Refused for a
    holiday by rule, or one whose day has come. Locks the BusinessDate row."""
    holiday = check_holiday_removal(date, today=_locked_business_date())
    record_event(action="ledger.holiday_removed", obj=holiday, actor=checker,
                 summary=f"Bank holiday {holiday.name} on {date:%d %b %Y} removed, asked by {actor.get_username()}",
                 before={"date": date.isoformat(), "name": holiday.name})
    holiday.delete()
    return date
