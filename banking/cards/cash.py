"""An ATM's cash: registering a terminal and replenishing it from the branch's vault,
both through maker-checker.

Design overview
- `request_terminal_registration`: operations asks for a terminal (id, branch,
  location); nothing exists until a second person approves
  (`register_approved_terminal`, the kind `cards.register_terminal`), which calls
  `actions.register_terminal`: the HMAC key, the cash GL and empty cassettes. The
  key is never in the request, its result or any audit event: the person who asked
  sees it once (`reveal_terminal_key`), to load it into the terminal, and nobody
  sees it again (an UPDATE that sets `key_shown_at` only while it is empty decides a
  double click). A lost key means a new terminal id.
- `request_replenishment`: operations counts the notes found left in each cassette,
  and the notes to load from the branch's vault. The switch's counts at that moment
  are kept beside the count (`expected`); the difference (the count's value less the
  switch's) is flagged on the request for the supervisor who approves it.
- `replenish_approved_terminal` (kind `cards.replenish_terminal`), on approval.
  Locks, in order: the terminal's row (as the switch takes it, so no withdrawal runs
  meanwhile), the vault (banking.teller's `pay_out_of_vault`), then the ledger
  accounts (post_entry). It posts:
    1. Dr the ATM's cash GL, Cr the vault, for the notes loaded; the vault's count
       and movement, and the cassettes' new counts, ride with that entry;
    2. for a difference: a shortage Dr ATM cash shortage (1903), Cr the ATM's cash
       GL; an excess Dr the ATM's cash GL, Cr ATM cash excess (2905).
  Each cassette becomes count + (left − expected) + loaded: the switch may have
  dispensed between the count and the approval, and what it dispensed since is
  still subtracted. So the ATM's GL always equals its cassettes' value. Both entries
  carry the approval's id in their keys: an approval runs once, and a retry posts
  nothing again.
- A rejected or lapsed replenishment moves nothing; the terminal can be counted again.

Errors: ValidationFailed, InsufficientFunds (the vault does not hold the notes).
"""

from django.db import IntegrityError, transaction
from django.utils import timezone

from banking.approvals.actions import submit_request
from banking.approvals.models import ApprovalRequest
from banking.audit.actions import record_event
from banking.core.errors import InsufficientFunds, NotPermitted, ValidationFailed
from banking.core.money import format_money
from banking.ledger.actions import Line, post_entry
from banking.ledger.chart import ATM_EXCESS, ATM_SHORTAGE, ensure_standard_chart
from banking.ledger.models import Channel, EntryKind, LedgerAccount
from banking.users.models import Branch

from .actions import check_new_terminal, register_terminal
from .cash_models import Replenishment, ReplenishmentStatus, TerminalRegistration
from .models import DENOMINATIONS, Cassette, Terminal

REGISTER_KIND = "cards.register_terminal"
REPLENISH_KIND = "cards.replenish_terminal"
MAX_NOTES = 10_000  # a cassette holds about 2,500 notes: more is a typing slip


def notes_value(notes):
    """Paise of {"500": count, ...}."""
    return sum(int(d) * int(n) for d, n in notes.items()) * 100


def describe_notes(notes):
    shown = [f"{int(notes.get(str(d), 0))} × ₹{d}" for d in DENOMINATIONS]
    return ", ".join(shown)


def clean_notes(notes, what):
    """{"500": count, "200": count, "100": count} from counts by denomination (ints
    or their strings as keys), each a whole number from 0 to MAX_NOTES."""
    cleaned = {}
    for denomination in DENOMINATIONS:
        count = (notes or {}).get(denomination, (notes or {}).get(str(denomination), 0))
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValidationFailed(f"Enter the {what} of ₹{denomination} notes as a whole number of 0 or more.")
        if count > MAX_NOTES:
            raise ValidationFailed(f"Check the {what} of ₹{denomination} notes: a cassette holds far fewer than "
                                   f"{MAX_NOTES:,}.")
        cleaned[str(denomination)] = count
    return cleaned


def _counts(terminal):
    return {str(c.denomination): c.count for c in Cassette.objects.filter(terminal=terminal)}


# -- registration ---------------------------------------------------------------------


@transaction.atomic
def request_terminal_registration(*, actor, branch, terminal_id, location, idempotency_key=""):
    """Ask a second person to register a terminal; returns the ApprovalRequest.
    Locks nothing (the terminal id's unique index settles two approvals at once)."""
    if branch is None:
        raise ValidationFailed("Choose the branch that looks after the terminal.")
    terminal_id, location = check_new_terminal(terminal_id, location)
    waiting = ApprovalRequest.objects.pending().filter(kind=REGISTER_KIND, payload__terminal_id=terminal_id)
    if waiting.exclude(idempotency_key=idempotency_key or None).exists():
        raise ValidationFailed(f"Terminal {terminal_id} is already waiting for approval.")
    return submit_request(
        actor=actor, kind=REGISTER_KIND, amount=None, branch=branch, idempotency_key=idempotency_key,
        payload={"terminal_id": terminal_id, "branch_id": branch.pk, "location": location},
        summary=f"Register ATM {terminal_id} at {location} ({branch.name})")


def register_approved_terminal(approval, checker):
    """The approval handler of REGISTER_KIND. Its result names the terminal, never its key."""
    payload = approval.payload
    branch = Branch.objects.filter(pk=payload.get("branch_id")).first()
    if branch is None:
        raise ValidationFailed("The branch named in this request no longer exists.")
    try:
        with transaction.atomic():
            terminal = register_terminal(actor=checker, branch=branch, terminal_id=payload.get("terminal_id"),
                                         location=payload.get("location"))
    except IntegrityError:
        raise ValidationFailed(f"Terminal {payload.get('terminal_id')} was registered meanwhile.") from None
    TerminalRegistration.objects.create(terminal=terminal, approval=approval, requested_by=approval.maker,
                                        approved_by=checker)
    return {"terminal_id": terminal.terminal_id, "ledger_account": terminal.ledger_account.code}


def describe_registration(payload):
    branch = Branch.objects.filter(pk=payload.get("branch_id")).first()
    return [("Terminal id", payload.get("terminal_id", "")), ("Location", payload.get("location", "")),
            ("Branch", branch.name if branch else f"#{payload.get('branch_id')} (not found)"),
            ("On approval", "The terminal is registered with its own cash GL and empty cassettes; its key is "
                            "shown once, to the person who asked, to load into the terminal.")]


@transaction.atomic
def reveal_terminal_key(*, actor, registration):
    """The terminal's HMAC key, shown once, to the person who asked for the terminal.
    The UPDATE that marks it shown decides two clicks at once."""
    if registration.requested_by_id != actor.pk:
        raise NotPermitted(f"Only {registration.requested_by.display_name}, who asked for terminal "
                           f"{registration.terminal.terminal_id}, can see its key.")
    now = timezone.now()
    shown = TerminalRegistration.objects.filter(pk=registration.pk, key_shown_at__isnull=True).update(
        key_shown_at=now)
    if not shown:
        registration.refresh_from_db()
        when = timezone.localtime(registration.key_shown_at)
        raise ValidationFailed(f"The key of terminal {registration.terminal.terminal_id} was shown on "
                               f"{when:%d %b %Y} at {when:%H:%M}; it is shown once only. If it was not loaded, "
                               "register the terminal again under a new id.")
    terminal = registration.terminal
    record_event(action="cards.terminal_key_shown", obj=terminal, actor=actor,
                 summary=f"Key of ATM {terminal.terminal_id} shown to {actor.display_name}")
    return terminal.key


# -- replenishment --------------------------------------------------------------------


@transaction.atomic
def request_replenishment(*, actor, terminal, left, loaded, idempotency_key=""):
    """Operations' count of the notes left in `terminal` and the notes to load from its
    branch's vault ({denomination: count} each); returns the Replenishment, waiting for
    a supervisor. Locks the terminal's row, so the switch's counts read beside the
    count are the ones no withdrawal is changing."""
    left, loaded = clean_notes(left, "count left"), clean_notes(loaded, "notes to load")
    amount = notes_value(loaded)
    if not amount:
        raise ValidationFailed("Enter the notes to load from the vault.")
    terminal = Terminal.objects.select_for_update().select_related("branch").get(pk=terminal.pk)
    first = Replenishment.objects.filter(approval__idempotency_key=idempotency_key, approval__maker=actor).first() \
        if idempotency_key else None
    if first is not None:
        return first
    if Replenishment.objects.filter(terminal=terminal, status=ReplenishmentStatus.PENDING).exists():
        raise ValidationFailed(f"A replenishment of {terminal.terminal_id} is already waiting for approval.")
    from banking.teller.actions import ensure_vault
    from banking.teller.denominations import Denominations

    vault = ensure_vault(terminal.branch)
    wanted = Denominations(n500=loaded["500"], n200=loaded["200"], n100=loaded["100"])
    if not vault.counts.covers(wanted):
        raise InsufficientFunds(f"The vault does not hold {', '.join(vault.counts.shortfall(wanted))}.")
    expected = _counts(terminal)
    difference = notes_value(left) - notes_value(expected)
    summary = f"Replenish ATM {terminal.terminal_id} with {format_money(amount)} from the vault"
    if difference:
        summary += f"; count {'short' if difference < 0 else 'excess'} by {format_money(abs(difference))}"
    approval = submit_request(
        actor=actor, kind=REPLENISH_KIND, amount=amount, branch=terminal.branch, idempotency_key=idempotency_key,
        payload={"terminal_id": terminal.terminal_id, "left": left, "expected": expected, "loaded": loaded},
        summary=summary)
    replenishment = Replenishment.objects.create(
        terminal=terminal, approval=approval, requested_by=actor, left=left, expected=expected, loaded=loaded,
        loaded_amount=amount, difference=difference)
    record_event(action="cards.replenishment_requested", obj=replenishment, actor=actor, summary=summary,
                 after={"left": left, "expected": expected, "loaded": loaded, "difference": difference,
                        "approval": approval.pk})
    return replenishment


def _cassette_rider(terminal, change):
    """A rider moving the cassettes' counts by `change` ({"500": n, ...}) with the entry."""
    ids = {c.denomination: c.pk for c in Cassette.objects.filter(terminal=terminal)}
    cases = " ".join(f"WHEN {int(ids[int(d)])} THEN {int(n)}" for d, n in change.items())
    return (f"UPDATE cards_cassette SET count = count + CASE id {cases} ELSE 0 END "  # noqa: S608 integers only
            "WHERE terminal_id = %s AND EXISTS (SELECT FROM posted) RETURNING 1", [terminal.pk])


def replenish_approved_terminal(approval, checker):
    """The approval handler of REPLENISH_KIND (see the design overview)."""
    from banking.teller.actions import pay_out_of_vault
    from banking.teller.denominations import Denominations

    replenishment = Replenishment.objects.select_for_update(of=("self",)).filter(approval=approval).first()
    if replenishment is None:
        raise ValidationFailed("The replenishment of this request no longer exists.")
    if replenishment.status != ReplenishmentStatus.PENDING:
        raise ValidationFailed(f"This replenishment is already {replenishment.get_status_display().lower()}.")
    terminal = Terminal.objects.select_for_update().select_related("branch").get(pk=replenishment.terminal_id)
    now_counts = _counts(terminal)
    left, expected, loaded = replenishment.left, replenishment.expected, replenishment.loaded
    change = {d: left[d] - expected[d] + loaded[d] for d in left}
    for d, n in change.items():
        if now_counts[d] + n < 0:
            raise ValidationFailed(f"The switch has dispensed more ₹{d} notes since the count than the count left: "
                                   "count the terminal again.")
    tid = terminal.terminal_id
    entry = pay_out_of_vault(
        actor=approval.maker, checker=checker, branch=terminal.branch,
        counts=Denominations(n500=loaded["500"], n200=loaded["200"], n100=loaded["100"]),
        to_account=terminal.ledger_account_id, narration=f"ATM {tid} replenished from the vault",
        idempotency_key=f"approval-{approval.pk}", reference=tid, riders=[_cassette_rider(terminal, change)])
    difference_entry = None
    difference = replenishment.difference
    if difference:
        ensure_standard_chart()
        atm = terminal.ledger_account_id
        if difference < 0:
            suspense = LedgerAccount.objects.get(code=ATM_SHORTAGE)
            lines = [Line.debit(suspense, -difference), Line.credit(atm, -difference)]
            narration = f"ATM {tid} short by {format_money(-difference)} at replenishment"
        else:
            suspense = LedgerAccount.objects.get(code=ATM_EXCESS)
            lines = [Line.debit(atm, difference), Line.credit(suspense, difference)]
            narration = f"ATM {tid} excess of {format_money(difference)} at replenishment"
        difference_entry = post_entry(actor=approval.maker, checker=checker, lines=lines,
                                      kind=EntryKind.CASH_MOVEMENT, narration=narration,
                                      idempotency_key=f"approval-{approval.pk}-difference",
                                      channel=Channel.OPERATIONS, reference=tid)
    replenishment.status, replenishment.decided_at = ReplenishmentStatus.DONE, timezone.now()
    replenishment.entry, replenishment.difference_entry = entry, difference_entry
    replenishment.save(update_fields=["status", "decided_at", "entry", "difference_entry"])
    record_event(action="cards.replenished", obj=terminal, actor=checker,
                 summary=f"ATM {tid} replenished with {format_money(replenishment.loaded_amount)} from the vault"
                         + (f"; {replenishment.difference_label.lower()}" if difference else ""),
                 before={"cassettes": now_counts},
                 after={"cassettes": {d: now_counts[d] + n for d, n in change.items()}, "entry": entry.pk,
                        "difference": difference, "request": approval.pk})
    result = {"entry_id": entry.pk, "entry_number": entry.number}
    if difference_entry is not None:
        result["difference_entry_id"] = difference_entry.pk
    return result


def close_unapproved_replenishment(approval, checker):
    Replenishment.objects.filter(approval=approval, status=ReplenishmentStatus.PENDING).update(
        status=ReplenishmentStatus.REJECTED, decided_at=timezone.now())


def describe_replenishment(payload):
    left, expected, loaded = (payload.get(name) or {} for name in ("left", "expected", "loaded"))
    terminal = Terminal.objects.select_related("branch").filter(terminal_id=payload.get("terminal_id")).first()
    rows = [("Terminal", str(terminal) if terminal else f"{payload.get('terminal_id')} (not found)"),
            ("Load from the vault", f"{format_money(notes_value(loaded))}: {describe_notes(loaded)}"),
            ("Counted left in the cassettes", f"{format_money(notes_value(left))}: {describe_notes(left)}"),
            ("The switch expected", f"{format_money(notes_value(expected))}: {describe_notes(expected)}")]
    difference = notes_value(left) - notes_value(expected)
    if difference < 0:
        rows.append(("Difference", f"Short by {format_money(-difference)}: flagged, posted to ATM cash shortage "
                                   f"suspense ({ATM_SHORTAGE})"))
    elif difference > 0:
        rows.append(("Difference", f"Excess of {format_money(difference)}: flagged, posted to ATM cash excess "
                                   f"suspense ({ATM_EXCESS})"))
    else:
        rows.append(("Difference", "None: the count agrees with the switch"))
    rows.append(("On approval", "The notes move from the vault to the ATM's cash GL and its cassettes."))
    return rows
