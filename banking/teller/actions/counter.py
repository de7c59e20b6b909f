"""The counter: cash deposits and withdrawals, transfers, account opening with cash,
work above a teller's cash limit that waits for a supervisor, and reversals.
"""


from django.db import IntegrityError, transaction
from django.utils import timezone

from banking.approvals.actions import submit_request
from banking.audit.actions import event_rider, record_event
from banking.core.db import insert_rider
from banking.core.errors import (
    IdempotencyConflict,
    InsufficientFunds,
    InvalidAmount,
    NotPermitted,
    ValidationFailed,
)
from banking.core.identifiers import is_valid_pan, normalise
from banking.core.money import format_money
from banking.customers.models import IdentityDocument
from banking.deposits import actions as deposits
from banking.deposits.actions import OPENING_KIND
from banking.deposits.models import DepositAccount
from banking.ledger.actions import Line, check_debit, post_entry, reverse_entry
from banking.ledger.models import Channel, EntryKind

from ..denominations import check_adds_up
from ..lookup import check_mobile, refuse
from ..models import (
    Cheque,
    ChequeStatus,
    CounterTransaction,
    Instrument,
    MovementKind,
    TransactionKind,
    TransactionStatus,
)
from .cash import CASH_OVER_LIMIT, COUNTER_REVERSAL, _lock_boxes, _move, _movement, _when, refuse_on_holiday, today
from .till import current_day, require_open_till

# -- the counter -------------------------------------------------------------------------------

# Income-tax rule 114B: a cash deposit of ₹50,000 or more needs the depositor's PAN.
PAN_THRESHOLD = 50_000_00
KIND_VERB = {
    TransactionKind.CASH_DEPOSIT: "Cash deposit",
    TransactionKind.CASH_WITHDRAWAL: "Cash withdrawal",
    TransactionKind.TRANSFER: "Transfer",
}


def _check_amount(amount, *, cash):
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise InvalidAmount("Enter an amount above zero.")
    if cash and amount % 100:
        raise InvalidAmount("Cash is handled in whole rupees: move the paise by transfer.")


def _holder_pan_on_file(customer):
    return IdentityDocument.objects.filter(customer=customer, doc_type="pan").exists()


def _check_pan(amount, account, depositor_name, pan):
    """The PAN to keep with the deposit ("" when none is needed or given)."""
    pan = normalise(pan)
    if pan and not is_valid_pan(pan):
        raise ValidationFailed("Enter a valid PAN: 5 letters, 4 digits and a letter, as ABCDE1234F.")
    # The holder's own PAN on file covers a deposit the holder brings; anyone else gives theirs.
    if amount >= PAN_THRESHOLD and not pan and (depositor_name or not _holder_pan_on_file(account.customer)):
        whose = "the depositor's" if depositor_name else "the account holder's"
        raise ValidationFailed(
            f"A cash deposit of {format_money(PAN_THRESHOLD)} or more needs {whose} PAN. Enter it, or take "
            "less than that amount."
        )
    return pan


def _existing_transaction(key, kind, account, amount, *, taken=False):
    """The transaction already taken under this form token; refuses the token reused
    for something else. `taken`: its id when the caller has looked it up (None when
    there is none)."""
    if not key:
        raise ValidationFailed("This form has no token; reload the page and enter it again.")
    if taken is None:
        return None
    found = CounterTransaction.objects.filter(pk=taken) if taken else CounterTransaction.objects.filter(
        idempotency_key=key)
    found = found.first()
    if found is None:
        return None
    if (found.kind, found.account_id, found.amount) != (kind, account.pk, amount):
        raise IdempotencyConflict("This form was already used for another transaction; nothing was posted again. "
                                  "Start a new one.")
    return found


def _presented_cheque(account, number):
    """The leaf presented against `account`, locked; refuses a leaf that is not this
    account's, or that is stopped, paid, cancelled or already presented."""
    text = str(number or "").strip()
    if not text.isdigit() or not 0 < int(text) < 1_000_000:
        raise ValidationFailed("Enter the cheque number: the six digits printed on the leaf.")
    number = int(text)
    cheque = (Cheque.objects.select_for_update(of=("self",)).select_related("account")
              .filter(branch=account.branch_id, number=number).first())
    if cheque is None:
        raise ValidationFailed(f"Cheque {number:06d} was not issued to account {account.number}.")
    if cheque.account_id != account.pk:
        raise ValidationFailed(f"Cheque {cheque.leaf} is from another account's cheque book "
                               f"({cheque.account.masked_number}), not from account {account.number}.")
    if cheque.status == ChequeStatus.STOPPED:
        raise ValidationFailed(f"Payment of cheque {cheque.leaf} is stopped: {cheque.reason}")
    if cheque.status == ChequeStatus.PAID:
        raise ValidationFailed(f"Cheque {cheque.leaf} has already been paid.")
    if cheque.status == ChequeStatus.CANCELLED:
        raise ValidationFailed(f"Cheque {cheque.leaf} was cancelled: {cheque.reason}")
    if CounterTransaction.objects.filter(cheque=cheque, status=TransactionStatus.PENDING,
                                         approval__status="pending").exists():
        raise ValidationFailed(f"Cheque {cheque.leaf} is already presented and waiting for approval.")
    return cheque


def _note_customer_activity(account, date):
    """Cash and transfers at the counter are customer-induced: they keep the account
    from becoming inoperative. Written before posting, so the deposit account row is
    locked before its ledger account, as the deposits module's actions do."""
    if account.last_customer_activity_on == date:
        return
    DepositAccount.objects.filter(pk=account.pk).exclude(last_customer_activity_on=date).update(
        last_customer_activity_on=date)


def _narration(txn):
    if txn.narration:
        return txn.narration
    if txn.kind == TransactionKind.CASH_DEPOSIT:
        return f"Cash deposit by {txn.depositor_name}" if txn.depositor_name else "Cash deposit at the branch"
    if txn.kind == TransactionKind.CASH_WITHDRAWAL:
        return f"Cash withdrawal by cheque {txn.cheque.leaf}" if txn.cheque_id else "Cash withdrawal at the branch"
    return f"Transfer from {txn.account.number} to {txn.to_account.number}"


def _post(txn, *, checker, till):
    """Post a transaction whose till (if cash) is locked; mark it posted."""
    amount = txn.amount
    customer_gl = txn.account.ledger_account_id
    if txn.kind == TransactionKind.CASH_DEPOSIT:
        lines, kind = [Line.debit(till.ledger_account_id, amount), Line.credit(customer_gl, amount)], \
            EntryKind.CASH_DEPOSIT
    elif txn.kind == TransactionKind.CASH_WITHDRAWAL:
        lines, kind = [Line.debit(customer_gl, amount), Line.credit(till.ledger_account_id, amount)], \
            EntryKind.CASH_WITHDRAWAL
    else:
        lines, kind = [Line.debit(customer_gl, amount), Line.credit(txn.to_account.ledger_account_id, amount)], \
            EntryKind.TRANSFER
    _note_customer_activity(txn.account, txn.business_date)
    # The till's count, the transaction and its audit event ride with the entry: one
    # statement, written only if the entry posts.
    riders, delta = [], None
    if txn.is_cash:
        delta = txn.counts if txn.is_deposit else -txn.counts
        riders += _movement(till, delta, kind=MovementKind.DEPOSIT if txn.is_deposit else MovementKind.WITHDRAWAL,
                            actor=txn.teller)
    txn.status, txn.posted_at = TransactionStatus.POSTED, timezone.now()
    if txn._state.adding:  # written once, posted (its id was reserved for the entry's reference)
        riders.append(insert_rider(txn, entry_id="posted.entry_id"))
    else:
        riders.append(("UPDATE teller_countertransaction SET status = %s, posted_at = %s::timestamptz, "
                       "entry_id = posted.entry_id FROM posted WHERE teller_countertransaction.id = %s RETURNING 1",
                       [txn.status, txn.posted_at, txn.pk]))
    riders.append(event_rider(
        action=f"teller.{txn.kind}", obj=txn, actor=checker or txn.teller,
        summary=f"{KIND_VERB[txn.kind]} {txn.number}: {format_money(amount)}, account {txn.account.number}",
        after={"amount": amount, "counts": txn.counts.as_dict() if txn.is_cash else None,
               "checker": checker.pk if checker else None},
        after_from_posted={"entry": "posted.entry_id"}))
    entry = post_entry(actor=txn.teller, checker=checker, lines=lines, kind=kind, narration=_narration(txn),
                       idempotency_key=f"counter-{txn.idempotency_key}", channel=Channel.BRANCH,
                       reference=txn.number, riders=riders, names=txn.account.ledger_names)
    txn.entry = entry
    txn._state.adding, txn._state.db = False, "default"
    if delta is not None:
        till.set_counts(till.counts + delta)
    if txn.cheque_id:
        Cheque.objects.filter(pk=txn.cheque_id).update(status=ChequeStatus.PAID, changed_by=txn.teller,
                                                       changed_at=timezone.now())
    return txn


def _post_or_queue(txn, actor, till):
    """Post at once within the teller's cash limit; above it, queue for a supervisor.
    `till` is the teller's locked till (`require_open_till`), None for a transfer."""
    limit = getattr(till, "teller_cash_limit", None)
    if till is not None:
        # The locked till serialises its teller's requests: the same form's second
        # press found the first one's transaction before it got here. Within the
        # limit the transaction, its id reserved, is written once, posted.
        if txn.pk is not None and limit is not None and txn.amount <= limit:
            return _post(txn, checker=None, till=till)
        txn.save(force_insert=True)
    else:
        with transaction.atomic():
            try:
                txn.save()
            except IntegrityError:
                txn = None
        if txn is None:  # the same form, posted a moment ago by a second press of Enter
            raise ValidationFailed("This form was just submitted; see the transaction in the branch feed.")
    if limit is None:
        profile = getattr(actor, "staff_profile", None)
        limit = profile.cash_limit if profile else 0
    if txn.amount <= limit:
        return _post(txn, checker=None, till=till)
    direction = "into" if txn.is_deposit else "from"
    txn.approval = submit_request(
        actor=actor, kind=CASH_OVER_LIMIT, amount=txn.amount, branch=txn.branch,
        payload={"transaction_id": txn.pk, "till_id": txn.till_id},
        summary=f"{KIND_VERB[txn.kind]} of {format_money(txn.amount)} {direction} {txn.account.number} "
                f"({txn.account.customer.display_name}), above {actor.display_name}'s limit of "
                f"{format_money(limit)}",
    )
    txn.save(update_fields=["approval"])
    record_event(action="teller.transaction_queued", obj=txn, actor=actor,
                 summary=f"{KIND_VERB[txn.kind]} {txn.number} of {format_money(txn.amount)} waits for approval",
                 after={"request": txn.approval_id, "limit": limit})
    return txn


def _locked_till_for(actor, idempotency_key):
    """The teller's open till, locked, and its day: the first lock of every cash
    action at the counter, taken before the form's token is looked up, so that a
    double-pressed Enter waits here and then finds the first press's work."""
    if not idempotency_key:
        raise ValidationFailed("This form has no token; reload the page and enter it again.")
    return require_open_till(actor, lock=True, token=idempotency_key)


@transaction.atomic
def take_cash_deposit(*, actor, account, amount, counts, idempotency_key, depositor_name="", depositor_mobile="",
                      pan="", narration=""):
    """Take cash into the teller's till and credit `account` (a DepositAccount).

    Refuses before writing anything: a closed, pending or totally frozen account
    (a debit-frozen or inoperative one takes credits), denominations that do not add
    up, no PAN at ₹50,000 or more. Within the teller's cash limit it counts the notes
    into the till, posts the entry (`post_entry`), records the transaction and its
    audit event, all in this transaction; above the limit the deposit waits for a
    supervisor and posts when approved. Idempotent by the form's token.

    Locks: the teller's till (FOR UPDATE), then the deposit account's row (its
    activity note), then the ledger accounts through post_entry, in id order."""
    till, day = _locked_till_for(actor, idempotency_key)
    existing = _existing_transaction(idempotency_key, TransactionKind.CASH_DEPOSIT, account, amount, taken=day.taken)
    if existing is not None:
        return existing
    _check_amount(amount, cash=True)
    check_adds_up(counts, amount)
    refuse(account, debit=False)
    name = " ".join(str(depositor_name or "").split())[:120]
    txn = CounterTransaction(
        pk=day.next_id, kind=TransactionKind.CASH_DEPOSIT, teller=actor, till=till, branch_id=till.branch_id,
        business_date=day.business_date, account=account, amount=amount, depositor_name=name,
        depositor_mobile=check_mobile(depositor_mobile), pan=_check_pan(amount, account, name, pan),
        narration=narration[:120], idempotency_key=idempotency_key, **counts.as_dict(),
    )
    return _post_or_queue(txn, actor, till)


@transaction.atomic
def pay_cash_withdrawal(*, actor, account, amount, counts, idempotency_key, cheque_number="", narration=""):
    """Pay cash out of the teller's till and debit `account`, by withdrawal slip or
    (with `cheque_number`) by one of the account's own cheques.

    Refuses before writing anything: an account that cannot be debited, an amount
    over the till's cash, notes the till does not hold, a cheque that is not this
    account's or is stopped, paid or cancelled, and more than the available balance.
    Above the teller's cash limit it waits for a supervisor. Idempotent by the form's
    token.

    Locks: the teller's till (FOR UPDATE), the cheque, the deposit account's row,
    then the ledger accounts through post_entry, in id order."""
    till, day = _locked_till_for(actor, idempotency_key)
    existing = _existing_transaction(idempotency_key, TransactionKind.CASH_WITHDRAWAL, account, amount, taken=day.taken)
    if existing is not None:
        return existing
    _check_amount(amount, cash=True)
    check_adds_up(counts, amount)
    refuse(account, debit=True)
    if amount > till.cash_value:
        raise InsufficientFunds(f"Your till holds {format_money(till.cash_value)}, less than the "
                                f"{format_money(amount)} to pay. Ask the vault for cash first.")
    if not till.counts.covers(counts):
        raise InsufficientFunds(f"Your till does not hold {', '.join(till.counts.shortfall(counts))}. "
                                "Pay with other notes.")
    cheque = _presented_cheque(account, cheque_number) if str(cheque_number or "").strip() else None
    check_debit(account.ledger_account_id, amount, names=account.ledger_names)
    txn = CounterTransaction(
        pk=day.next_id, kind=TransactionKind.CASH_WITHDRAWAL, teller=actor, till=till, branch_id=till.branch_id,
        business_date=day.business_date, account=account, amount=amount, narration=narration[:120],
        instrument=Instrument.CHEQUE if cheque else Instrument.SLIP, cheque=cheque,
        idempotency_key=idempotency_key, **counts.as_dict(),
    )
    return _post_or_queue(txn, actor, till)


# -- account opening with cash ----------------------------------------------------------------


@transaction.atomic
def request_opening_with_cash(*, actor, customer, product, counts, idempotency_key, **opening):
    """Queue the opening of a savings or current account (the deposits module's
    `request_account_opening`, with its other arguments in `opening`) whose initial
    deposit is cash, counted on the opening form like any cash deposit.

    The cash waits beside the teller's till as a counter transaction pending on the
    opening's approval, as cash above a teller's limit waits: when the checker
    approves, the account opens and the notes are counted into the till that took
    them (`open_approved_account_at_counter`); until then neither the till nor the
    branch can close. From ₹50,000 the customer's PAN must be on file (income-tax
    rule 114B). Idempotent by the form's token.

    Locks: the teller's till (FOR UPDATE), then what `request_account_opening` locks."""
    if not idempotency_key:
        raise ValidationFailed("This form has no token; reload the page and enter it again.")
    till, day = require_open_till(actor, lock=True)
    key = f"open-{idempotency_key}"
    taken = (CounterTransaction.objects.select_related("account")
             .filter(idempotency_key=key, approval__kind=OPENING_KIND).first())
    if taken is not None:
        return taken.account
    amount = counts.value
    if counts.is_zero():
        raise ValidationFailed("Count the notes and coins of the initial deposit.")
    _check_amount(amount, cash=True)
    if amount >= PAN_THRESHOLD and not _holder_pan_on_file(customer):
        raise ValidationFailed(f"An initial cash deposit of {format_money(PAN_THRESHOLD)} or more needs the "
                               "customer's PAN on file. Add it to the customer's documents, or take less cash.")
    account = deposits.request_account_opening(actor=actor, customer=customer, product=product,
                                               initial_deposit=amount, idempotency_key=key, **opening)
    CounterTransaction.objects.create(
        kind=TransactionKind.CASH_DEPOSIT, teller=actor, till=till, branch_id=till.branch_id,
        business_date=day.business_date, account=account, amount=amount, approval=account.opening_request,
        narration=f"Initial cash deposit, account {account.number}", idempotency_key=key, **counts.as_dict(),
    )
    return account


def open_approved_account_at_counter(approval, checker):
    """The approval handler for account opening (deposits.account_opening): opens the
    account, then posts its initial cash deposit into the till that counted it, as
    an approved cash deposit. Locks the till, then what the opening and the posting
    lock. An initial deposit that no till counted (a request made before the counter
    took them) is refused, and the opening with it."""
    txn = (CounterTransaction.objects.filter(approval=approval, status=TransactionStatus.PENDING)
           .values_list("pk", "till_id").first())
    deposit = int(approval.payload.get("initial_deposit") or 0)
    if txn is None:
        if deposit:
            raise ValidationFailed("This request's initial deposit was not counted into a till. Reject it and open "
                                   "the account again at the counter, with the cash counted.")
        return deposits.open_approved_account(approval, checker)
    txn_id, till_id = txn
    (till,) = _lock_boxes(till_id)
    day = current_day(till)
    if day is None or not day.is_open:
        raise ValidationFailed(f"{till.name} is not open for {_when(today())}; the notes of the initial deposit "
                               "go into an open till, so the teller opens the account again.")
    result = deposits.open_approved_account(approval, checker)
    txn = _locked_transaction(txn_id)
    if txn.amount != deposit:
        raise ValidationFailed("The counted cash no longer matches the initial deposit of the request.")
    _post(txn, checker=checker, till=till)
    return {**result, "entry_id": txn.entry_id, "transaction_id": txn.pk}


@transaction.atomic
def transfer_at_counter(*, actor, account, to_account, amount, idempotency_key, cheque_number="", narration=""):
    """Move money between two accounts of the bank at the customer's request, by
    transfer slip or cheque. No cash moves, so no till is needed; above the teller's
    limit it waits for a supervisor. Locks the cheque, then the accounts."""
    if actor.branch is None:
        raise NotPermitted("Transfers are taken at a branch; your profile has none.")
    refuse_on_holiday()
    existing = _existing_transaction(idempotency_key, TransactionKind.TRANSFER, account, amount)
    if existing is not None:
        return existing
    _check_amount(amount, cash=False)
    if account.pk == to_account.pk:
        raise ValidationFailed("The two accounts are the same; a transfer needs two different accounts.")
    refuse(account, debit=True)
    refuse(to_account, debit=False)
    cheque = _presented_cheque(account, cheque_number) if str(cheque_number or "").strip() else None
    check_debit(account.ledger_account_id, amount, names=account.ledger_names)
    txn = CounterTransaction(
        kind=TransactionKind.TRANSFER, branch=actor.branch, teller=actor, till=None, business_date=today(),
        account=account, to_account=to_account, amount=amount, narration=narration[:120],
        instrument=Instrument.CHEQUE if cheque else Instrument.SLIP, cheque=cheque, idempotency_key=idempotency_key,
    )
    return _post_or_queue(txn, actor, None)


def _locked_transaction(pk):
    return (CounterTransaction.objects.select_for_update(of=("self",))
            .select_related("account__customer", "account__branch", "to_account", "teller", "cheque", "entry")
            .filter(pk=pk).first())


def post_approved_transaction(approval, checker):
    """The approval handler for CASH_OVER_LIMIT: checks again what may have changed
    while it waited (the till, the notes, the cheque, the account) and posts."""
    txn = CounterTransaction.objects.filter(pk=approval.payload.get("transaction_id")).first()
    if txn is None:
        raise ValidationFailed("The transaction named in this request no longer exists.")
    till = None
    if txn.till_id:
        (till,) = _lock_boxes(txn.till_id)
        day = current_day(till)
        if day is None or not day.is_open or day.business_date != txn.business_date:
            raise ValidationFailed(f"{till.name} is no longer open for {_when(txn.business_date)}; the teller must "
                                   "take the transaction again.")
    txn = _locked_transaction(txn.pk)
    if txn.status != TransactionStatus.PENDING:
        raise ValidationFailed(f"Transaction {txn.number} is already {txn.get_status_display().lower()}.")
    refuse(txn.account, debit=not txn.is_deposit)
    if txn.to_account_id:
        refuse(txn.to_account, debit=False)
    if txn.is_withdrawal and not till.counts.covers(txn.counts):
        raise InsufficientFunds(f"{till.name} no longer holds {', '.join(till.counts.shortfall(txn.counts))}.")
    if txn.cheque_id:
        cheque = Cheque.objects.select_for_update().get(pk=txn.cheque_id)
        if cheque.status != ChequeStatus.UNUSED:
            raise ValidationFailed(f"Cheque {cheque.leaf} is {cheque.get_status_display().lower()} now.")
    _post(txn, checker=checker, till=till)
    return {"transaction_id": txn.pk, "entry_id": txn.entry_id, "entry_number": txn.entry.number}


# -- reversal -----------------------------------------------------------------------------------


def may_ask_reversal(txn, user):
    """Cash moves in the till that took it: only its teller, or a supervisor, asks
    for its reversal. A transfer moved no cash, so any teller of the branch may."""
    return not txn.till_id or txn.teller_id == user.pk or user.has_perm("users.approve_requests")


@transaction.atomic
def request_reversal(*, actor, transaction_id, reason):
    """Ask a supervisor to reverse a posted counter transaction of today (for
    example, credited to the wrong account). Cash must still be in an open till,
    since the reversal gives the notes back or takes them in again."""
    txn = _locked_transaction(transaction_id)
    if txn is None or txn.branch_id != getattr(actor.branch, "pk", None):
        raise NotPermitted("There is no such transaction at your branch.")
    if not may_ask_reversal(txn, actor):
        raise NotPermitted(f"{txn.number} was taken at {txn.till.name}: its teller or a supervisor asks for its "
                           "reversal.")
    reason = " ".join(str(reason or "").split())
    if not reason:
        raise ValidationFailed("Give the reason for the reversal; the supervisor and the audit trail will show it.")
    if txn.status == TransactionStatus.REVERSED:
        raise ValidationFailed(f"Transaction {txn.number} has already been reversed.")
    if txn.status != TransactionStatus.POSTED:
        raise ValidationFailed(f"Transaction {txn.number} was never posted, so there is nothing to reverse.")
    if txn.business_date != today():
        raise ValidationFailed("Only today's transactions are reversed at the counter; operations reverse older "
                               "ones.")
    if txn.reversal_request_id and txn.reversal_request.is_pending:
        raise ValidationFailed(f"The reversal of {txn.number} is already waiting for approval.")
    if txn.till_id:
        day = current_day(txn.till)
        if day is None or not day.is_open:
            raise ValidationFailed(f"{txn.till.name} is closed, so the cash cannot be reversed at the counter.")
    txn.reversal_request = submit_request(
        actor=actor, kind=COUNTER_REVERSAL, amount=txn.amount, branch=txn.branch,
        payload={"transaction_id": txn.pk, "till_id": txn.till_id, "reason": reason[:300]},
        summary=f"Reverse {txn.number}, {KIND_VERB[txn.kind].lower()} of {format_money(txn.amount)} on "
                f"{txn.account.number}: {reason}",
    )
    txn.save(update_fields=["reversal_request"])
    record_event(action="teller.reversal_requested", obj=txn, actor=actor, summary=f"Reversal of {txn.number} "
                 f"requested: {reason}", after={"request": txn.reversal_request_id})
    return txn.reversal_request


def reverse_approved_transaction(approval, checker):
    """The approval handler for COUNTER_REVERSAL: posts the mirror entry and puts the
    till's notes back as they were (a deposit's notes go back to the customer, a
    withdrawal's come back into the till)."""
    txn = CounterTransaction.objects.filter(pk=approval.payload.get("transaction_id")).first()
    if txn is None:
        raise ValidationFailed("The transaction named in this request no longer exists.")
    till = None
    if txn.till_id:
        (till,) = _lock_boxes(txn.till_id)
        day = current_day(till)
        if day is None or not day.is_open:
            raise ValidationFailed(f"{till.name} is closed, so the cash cannot be reversed at the counter.")
    txn = _locked_transaction(txn.pk)
    if txn.status != TransactionStatus.POSTED:
        raise ValidationFailed(f"Transaction {txn.number} is {txn.get_status_display().lower()}; it cannot be "
                               "reversed.")
    if txn.is_deposit and not till.counts.covers(txn.counts):
        raise InsufficientFunds(f"{till.name} no longer holds the notes of the deposit "
                                f"({', '.join(till.counts.shortfall(txn.counts))}).")
    reason = approval.payload.get("reason", "")
    try:
        reversal = reverse_entry(actor=approval.maker, checker=checker, entry=txn.entry,
                                 idempotency_key=f"approval-{approval.pk}", channel=Channel.BRANCH,
                                 narration=f"Reversal of {txn.number}: {reason}"[:200])
    except InsufficientFunds:
        # The reversal takes the money back from whichever account received it.
        debited = txn.to_account if txn.to_account_id else txn.account
        raise InsufficientFunds(f"Account {debited.number} no longer has {format_money(txn.amount)} available "
                                "to take back.") from None
    if txn.is_cash:
        delta = -txn.counts if txn.is_deposit else txn.counts
        _move(till, delta, kind=MovementKind.REVERSAL, entry=reversal, actor=approval.maker,
              date=reversal.business_date)
    if txn.cheque_id:
        Cheque.objects.filter(pk=txn.cheque_id).update(status=ChequeStatus.UNUSED, changed_by=checker,
                                                       changed_at=timezone.now())
    txn.status, txn.reversal_entry = TransactionStatus.REVERSED, reversal
    txn.save(update_fields=["status", "reversal_entry"])
    record_event(action="teller.transaction_reversed", obj=txn, actor=checker,
                 summary=f"{txn.number} reversed by {reversal.number}: {reason}",
                 after={"reversal_entry": reversal.pk, "counts": txn.counts.as_dict() if txn.is_cash else None})
    return {"transaction_id": txn.pk, "entry_id": reversal.pk, "entry_number": reversal.number}


