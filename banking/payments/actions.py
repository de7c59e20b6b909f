"""Payment actions: payees, payments on the five rails, returns, inbound credits,
NEFT batches and UPI collect requests.

Design overview
- Rail rules (DESIGN §5): RTGS ₹2,00,000 at least; IMPS ₹5,00,000 at most; UPI
  ₹1,00,000 at most; NEFT and transfers within the bank have no network limit. Each
  customer has a daily limit per rail, a parameter of the debited account's product
  (`ChannelLimit`). A payee added less than 24 hours ago can receive at most
  ₹50,000 in all (`CBS_PAYEE_COOLING_LIMIT`). The check constraints on Payment back
  the rail limits in the database.
- Money flow, always through the ledger's `post_entry`:
    sending        Dr customer            Cr outward clearing (rail)
    settlement     Dr outward clearing    Cr RBI settlement
    return         the mirror of the debit (before settlement) or
                   Dr RBI settlement      Cr customer (after it)
    inbound        Dr RBI settlement      Cr inward clearing, then
                   Dr inward clearing     Cr customer, or Cr RBI settlement when the
                   credit cannot be made (the payment goes back to the sender)
    within the bank Dr customer           Cr customer, settled at once.
- Locks, in this order: the remitting Customer row (so two payments of one customer
  check limits one after the other), the Payment row (for every later step), then
  the ledger accounts (post_entry). A returned or settled payment is changed only
  under its row lock and only from the status that allows it, so a return that
  arrives twice gives the money back once.
- Idempotency: each payment carries the key of the form or API request that made it.
  The same key with the same content returns the first payment; with other content
  it raises IdempotencyConflict. Every entry's key derives from the payment's id, so
  a retried step never posts twice.
- Every change of status is stamped on the payment, kept as a PaymentEvent and
  written to the audit trail in the same transaction.

Errors: ValidationFailed, InvalidAmount, LimitExceeded, InsufficientFunds,
AccountFrozen, AccountClosed, IdempotencyConflict, NotPermitted.
"""

import hashlib
import json
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, Subquery, Sum, Value
from django.db.models.signals import post_save
from django.utils import timezone

from banking.audit.actions import event_rider, record_event
from banking.core.db import Job, insert_rider, one_at_a_time
from banking.core.errors import (
    IdempotencyConflict,
    InvalidAmount,
    LimitExceeded,
    NotPermitted,
    ValidationFailed,
)
from banking.core.identifiers import is_valid_vpa, normalise, normalise_vpa
from banking.core.money import format_money
from banking.customers.models import Customer
from banking.deposits.models import DepositAccount, DepositStatus
from banking.ledger.actions import Line, post_entry, reverse_entry
from banking.ledger.chart import CLEARING, RBI_SETTLEMENT, SUNDRY_CREDITORS
from banking.ledger.models import BusinessDate, Channel, EntryKind, LedgerAccount
from banking.teller.lookup import check_number, refusal, refuse

from .directory import DEFAULT_DAILY_LIMITS, find_branch
from .models import (
    LIVE_STATUSES,
    ChannelLimit,
    CollectRequest,
    CollectStatus,
    Direction,
    Origin,
    Payee,
    PayeeKind,
    Payment,
    PaymentEvent,
    PaymentStatus,
    Rail,
    VirtualAddress,
)
from .network import network
from .references import next_in_series, next_in_series_with_id, next_reference

RTGS_MINIMUM = 2_00_000_00
IMPS_MAXIMUM = 5_00_000_00
UPI_MAXIMUM = 1_00_000_00
EXTERNAL_RAILS = (Rail.NEFT, Rail.RTGS, Rail.IMPS)
CHANNEL_OF_ORIGIN = {Origin.INTERNET: Channel.INTERNET, Origin.BRANCH: Channel.BRANCH,
                     Origin.STANDING_INSTRUCTION: Channel.SYSTEM, Origin.UPI_COLLECT: Channel.INTERNET,
                     Origin.NETWORK: Channel.SYSTEM}


def business_date():
    return BusinessDate.objects.current()


def own_handle():
    return settings.CBS_UPI_HANDLE


def gl(code):
    return LedgerAccount.objects.values_list("pk", flat=True).get(code=code)


# -- payees -----------------------------------------------------------------------


def _payee_name(name):
    name = " ".join(str(name or "").split())
    if len(name) < 2:
        raise ValidationFailed("Enter the beneficiary's name as it appears on their account.")
    if len(name) > 140:
        raise ValidationFailed("The beneficiary's name can be at most 140 characters.")
    return name


def check_other_bank_account(number):
    """An account number at another bank: 6 to 18 digits (banks number their own)."""
    if not number.isdigit() or not 6 <= len(number) <= 18:
        raise ValidationFailed("Enter the beneficiary's account number: 6 to 18 digits.")
    return number


def check_vpa(vpa):
    address = normalise_vpa(vpa)
    if not address:
        raise ValidationFailed("Enter the UPI ID, as name@bank.")
    if not is_valid_vpa(address):
        raise ValidationFailed(f"{vpa} is not a valid UPI ID: it reads name@bank, for example asha.rao@okaxis, "
                               "with letters, digits, dots, hyphens or underscores before the @.")
    return address


def find_own_vpa(address):
    return VirtualAddress.objects.select_related("account", "customer").filter(address=address,
                                                                               is_active=True).first()


@transaction.atomic
def add_payee(*, actor, customer, kind, name="", account_number="", ifsc="", vpa="", nickname=""):
    """Add a payee for `customer`. The view has re-authenticated the customer with
    their authenticator code. A payee at this bank's own IFSC is kept as an account
    in this bank, so money to it never leaves the bank."""
    nickname = " ".join(str(nickname or "").split())[:40]
    fields = {"customer": customer, "nickname": nickname, "created_by": actor}
    if kind == PayeeKind.VPA:
        address = check_vpa(vpa)
        own = find_own_vpa(address) if address.endswith("@" + own_handle()) else None
        if address.endswith("@" + own_handle()) and own is None:
            raise ValidationFailed(f"{address} is not a UPI ID of this bank. Check it with the payee.")
        fields.update(kind=kind, vpa=address, name=_payee_name(name or (own.customer.display_name if own else "")))
        duplicate = Payee.objects.active().filter(customer=customer, kind=PayeeKind.VPA, vpa=address)
    elif kind in (PayeeKind.INTERNAL, PayeeKind.EXTERNAL):
        number = str(account_number or "").replace(" ", "")
        if not number:
            raise ValidationFailed("Enter the beneficiary's account number.")
        code = normalise(ifsc)
        if kind == PayeeKind.EXTERNAL:
            branch = find_branch(ifsc)
            if branch.is_own_bank:
                kind, code = PayeeKind.INTERNAL, ""
        if kind == PayeeKind.EXTERNAL:
            check_other_bank_account(number)
            fields.update(kind=kind, account_number=number, ifsc=code, name=_payee_name(name))
        else:
            number = check_number(number)
            target = DepositAccount.objects.select_related("customer").filter(number=number).first()
            if target is None or target.status in (DepositStatus.PENDING, DepositStatus.CLOSED):
                raise ValidationFailed(f"There is no open account {number} at this bank.")
            fields.update(kind=PayeeKind.INTERNAL, account_number=number, ifsc="",
                          name=_payee_name(name or target.customer.display_name))
        duplicate = Payee.objects.active().filter(customer=customer, account_number=number,
                                                  ifsc=fields["ifsc"]).exclude(kind=PayeeKind.VPA)
    else:
        raise ValidationFailed("Choose what kind of payee this is.")
    if duplicate.exists():
        raise ValidationFailed(f"{duplicate.first().label} is already one of your payees.")
    payee = Payee.objects.create(**fields)
    record_event(action="payments.payee_added", obj=payee, actor=actor,
                 summary=f"Payee {payee.label} ({payee.destination}) added for customer {customer.cif}",
                 after={"kind": payee.kind, "destination": payee.destination, "name": payee.name})
    return payee


@transaction.atomic
def remove_payee(*, actor, payee):
    if payee.deleted_at:
        return payee
    payee.deleted_at = timezone.now()
    payee.save(update_fields=["deleted_at"])
    record_event(action="payments.payee_removed", obj=payee, actor=actor,
                 summary=f"Payee {payee.label} ({payee.destination}) removed")
    return payee


# -- UPI IDs ----------------------------------------------------------------------


@transaction.atomic
def create_vpa(*, actor, customer, account, name):
    """Give `customer` the UPI ID name@<bank handle>, paying into and out of `account`."""
    local = str(name or "").strip().lower()
    address = f"{local}@{own_handle()}"
    if not is_valid_vpa(address):
        raise ValidationFailed("Choose a UPI ID of 2 to 50 letters, digits, dots, hyphens or underscores, "
                               "starting with a letter or digit.")
    if not DepositAccount.objects.for_customer(customer).filter(pk=account.pk).exists():
        raise NotPermitted("That account is not yours.")
    problem = refusal(account, debit=True)
    if problem:
        raise ValidationFailed(problem)
    try:
        # Its own savepoint: two customers choosing the same ID at the same moment
        # meet at its unique index, and the second is told it is taken.
        with transaction.atomic():
            vpa = VirtualAddress.objects.create(address=address, customer=customer, account=account)
    except IntegrityError:
        raise ValidationFailed(f"{address} is taken. Try another, such as your name with a number.") from None
    record_event(action="payments.vpa_created", obj=vpa, actor=actor,
                 summary=f"UPI ID {address} linked to account {account.number}")
    return vpa


# -- payments -----------------------------------------------------------------------


@dataclass(frozen=True)
class Destination:
    """Where a payment goes, resolved and checked."""

    rail: str
    name: str
    account: str = ""
    ifsc: str = ""
    vpa: str = ""
    credit_account: DepositAccount | None = None  # when it stays in the bank
    payee: Payee | None = None

    @property
    def stays_in_bank(self):
        return self.credit_account is not None


def check_amount(amount):
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise InvalidAmount("Enter the amount in rupees and paise, as 1500.50.")
    if amount <= 0:
        raise InvalidAmount("Enter an amount above zero.")
    return amount


def check_rail(rail, amount):
    """Refuse an amount the rail does not carry (DESIGN §5)."""
    if rail == Rail.RTGS and amount < RTGS_MINIMUM:
        raise LimitExceeded(f"RTGS is for {format_money(RTGS_MINIMUM)} or more. Send "
                            f"{format_money(amount)} by NEFT or IMPS.")
    if rail == Rail.IMPS and amount > IMPS_MAXIMUM:
        raise LimitExceeded(f"IMPS carries at most {format_money(IMPS_MAXIMUM)} a payment. Send "
                            f"{format_money(amount)} by NEFT or RTGS.")
    if rail == Rail.UPI and amount > UPI_MAXIMUM:
        raise LimitExceeded(f"UPI carries at most {format_money(UPI_MAXIMUM)} a payment.")


def _credit_refusal(account):
    """Why `account` cannot be credited by a payment, or None."""
    if account.status in (DepositStatus.PENDING, DepositStatus.CLOSED, DepositStatus.FROZEN):
        return refusal(account, debit=False)
    if not account.is_operative:
        return f"Account {account.number} is a {account.product.name.lower()} and takes no transfers."
    return None


def _internal_destination(account, rail, name="", payee=None):
    problem = _credit_refusal(account)
    if problem:
        raise ValidationFailed(problem)
    return Destination(rail=rail, name=name or account.customer.display_name, account=account.number,
                       ifsc=account.branch.ifsc, credit_account=account, payee=payee)


def resolve_destination(*, rail, payee=None, credit_account=None, vpa=""):
    """The checked destination of a payment to a payee, one of the customer's own
    accounts, or a UPI ID typed in."""
    if credit_account is not None:
        return _internal_destination(credit_account, Rail.INTERNAL)
    if payee is not None:
        if payee.deleted_at:
            raise ValidationFailed(f"{payee.label} is no longer one of your payees.")
        if payee.kind == PayeeKind.INTERNAL:
            account = DepositAccount.objects.select_related("customer", "product", "branch").filter(
                number=payee.account_number).first()
            if account is None:
                raise ValidationFailed(f"Account {payee.account_number} no longer exists at this bank.")
            return _internal_destination(account, Rail.INTERNAL, payee.name, payee)
        if payee.kind == PayeeKind.VPA:
            vpa = payee.vpa
        else:
            if rail not in EXTERNAL_RAILS:
                raise ValidationFailed("Choose NEFT, RTGS or IMPS for a payee at another bank.")
            branch = find_branch(payee.ifsc)
            if not branch.accepts(rail):
                raise ValidationFailed(f"{branch.bank_name}, {branch.branch_name} does not take {rail} payments.")
            return Destination(rail=rail, name=payee.name, account=payee.account_number, ifsc=payee.ifsc,
                               payee=payee)
    address = check_vpa(vpa)
    if address.endswith("@" + own_handle()):
        own = find_own_vpa(address)
        if own is None:
            raise ValidationFailed(f"{address} is not a UPI ID of this bank. Check it with the payee.")
        destination = _internal_destination(own.account, Rail.UPI, own.customer.display_name, payee)
        return Destination(**{**destination.__dict__, "vpa": address})
    return Destination(rail=Rail.UPI, name=payee.name if payee else "", vpa=address, payee=payee)


def _content(**fields):
    return hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()[:32]


def _existing_payment(key, content):
    payment = Payment.objects.filter(idempotency_key=key).first()
    if payment is None:
        return None
    if payment.content_hash != content:
        raise IdempotencyConflict("This payment form was already used for another payment; nothing was sent "
                                  "again. Start a new payment.")
    return payment


def daily_limit(account, rail):
    return _or_default(_limits_of(account, rail).values_list("daily_limit", flat=True).first(), rail)


def used_today(customer, rail, date):
    return _live_today(customer, rail, date).aggregate(total=Sum("amount"))["total"] or 0


def _limits_of(account, rail):
    return ChannelLimit.objects.filter(product_id=account.product_id, rail=rail).order_by("pk")


def _or_default(limit, rail):
    return limit if limit is not None else DEFAULT_DAILY_LIMITS[rail]


def _live_today(customer, rail, date):
    return Payment.objects.filter(customer=customer, rail=rail, business_date=date, status__in=LIVE_STATUSES,
                                  direction__in=(Direction.OUTWARD, Direction.INTERNAL))


def _limit_and_used(customer, account, rail, date):
    """`daily_limit` and `used_today`, in one query."""
    limit, used = Customer.objects.filter(pk=customer.pk).values_list(
        Subquery(_limits_of(account, rail).values("daily_limit")[:1]),
        Subquery(_live_today(customer, rail, date).order_by().values("customer").annotate(
            total=Sum("amount")).values("total"))).get()
    return _or_default(limit, rail), used or 0


def cooling_room(payee, now=None):
    """What a payee still in its first 24 hours may receive now, or None when it is not cooling."""
    if payee is None or not payee.is_cooling(now):
        return None
    sent = Payment.objects.filter(payee=payee, status__in=LIVE_STATUSES).aggregate(total=Sum("amount"))["total"]
    return max(settings.CBS_PAYEE_COOLING_LIMIT - (sent or 0), 0)


def check_limits(customer, account, destination, amount, date):
    """Refuse an amount over the customer's daily limit on the rail or a new payee's
    first-day room. Also used by internet banking's review step, before confirming."""
    rail = destination.rail
    own_transfer = destination.stays_in_bank and destination.payee is None and rail == Rail.INTERNAL
    if not own_transfer:
        limit, used = _limit_and_used(customer, account, rail, date)
        if used + amount > limit:
            left = max(limit - used, 0)
            raise LimitExceeded(f"Your daily limit for {Rail(rail).label.lower() if rail == Rail.INTERNAL else rail} "
                                f"payments is {format_money(limit)}; {format_money(left)} of it is left today.")
    room = cooling_room(destination.payee)
    if room is not None and amount > room:
        ends = timezone.localtime(destination.payee.cooling_ends_at())
        raise LimitExceeded(
            f"{destination.payee.label} was added less than 24 hours ago: a new payee can receive at most "
            f"{format_money(settings.CBS_PAYEE_COOLING_LIMIT)} in its first day ({format_money(room)} left). "
            f"Send the rest after {ends:%d %b %Y, %H:%M}.", code="payee_cooling_period")


def _step(payment, status, note="", *, actor=None, at=None, fields=()):
    """Move `payment` (locked) to `status` (Payment.move_to: stamped, saved, in its
    timeline) and audit the step."""
    before = payment.move_to(status, note=note, at=at, fields=fields)
    record_event(**_step_event(payment, status, before, note, actor=actor))


def _step_event(payment, status, before, note, *, actor):
    """The audit event of a payment's step, as record_event's or event_rider's arguments."""
    return {"action": f"payments.{status}", "obj": payment, "actor": actor,
            "summary": f"Payment {payment.number} ({payment.rail} {format_money(payment.amount)}): "
                       f"{PaymentStatus(status).label.lower()}" + (f", {note}" if note else ""),
            "before": {"status": before}, "after": {"status": status, "reference": payment.reference}}


def _initiated_event(payment, *, actor):
    """The audit event of a new payment, as record_event's or event_rider's arguments."""
    return {"action": "payments.initiated", "obj": payment, "actor": actor,
            "summary": f"Payment {payment.number}: {payment.rail} {format_money(payment.amount)} to "
                       f"{payment.counterparty} ({payment.counterparty_detail})",
            "after": {"amount": payment.amount, "rail": payment.rail, "reference": payment.reference,
                      "debit_account": payment.remitter_account}}


def _number(date, sequence=None):
    return f"PAY{date:%y%m%d}{next_in_series('PAY', date) if sequence is None else sequence:06d}"


def _create(*, actor, **fields):
    """A new payment, written with its first step and audit event."""
    payment = _new_payment(actor=actor, **fields)
    payment.save(force_insert=True)
    PaymentEvent.objects.create(payment=payment, status=PaymentStatus.INITIATED, at=payment.initiated_at)
    record_event(**_initiated_event(payment, actor=actor))
    return payment


def _new_payment(*, actor, customer, debit_account, destination, amount, key, content, origin, narration, date,
                 remitter=None, paid_in_cash=False, reserve_id=False):
    """A new payment, not yet written, with its number (and, with `reserve_id`, its id)
    taken now: the day's payments queue on that number until they commit."""
    remitter = remitter or {}
    if reserve_id:
        sequence, pk = next_in_series_with_id("PAY", date, Payment)
    else:
        sequence, pk = next_in_series("PAY", date), None
    return Payment(
        id=pk, number=_number(date, sequence),
        direction=Direction.INTERNAL if destination.stays_in_bank else Direction.OUTWARD,
        rail=destination.rail, origin=origin, amount=amount, idempotency_key=key, business_date=date,
        narration=narration, content_hash=content, customer=customer, debit_account=debit_account,
        credit_account=destination.credit_account, payee=destination.payee,
        beneficiary_name=destination.name, beneficiary_account=destination.account,
        beneficiary_ifsc=destination.ifsc, beneficiary_vpa=destination.vpa,
        remitter_name=remitter.get("name") or (customer.display_name if customer else ""),
        remitter_account=debit_account.number if debit_account else "",
        remitter_ifsc=debit_account.branch.ifsc if debit_account else remitter.get("ifsc", ""),
        remitter_mobile=remitter.get("mobile", ""), remitter_address=remitter.get("address", ""),
        paid_in_cash=paid_in_cash,
        reference=next_reference(destination.rail, date) if not (destination.stays_in_bank
                                                                  and destination.rail == Rail.INTERNAL) else None,
        initiated_by=actor,
    )


def _debit(payment, *, actor, checker=None, source_gl=None, riders_for=None):
    """Post the payment's debit: to the beneficiary's account when it stays in the
    bank (and settle it), else to the rail's outward clearing.

    A payment not yet written (`_new_payment`) is written with its debit: its row,
    its first two steps and their audit events ride with the entry (banking.core.db),
    in one statement, written only if the entry posts; so does what `riders_for`
    (given the payment as made) returns, when the debit settles the payment."""
    amount = payment.amount
    source = source_gl or payment.debit_account.ledger_account_id
    if payment.credit_account_id:
        target = payment.credit_account.ledger_account_id
    else:
        target = gl(CLEARING[payment.rail][0])
    channel = CHANNEL_OF_ORIGIN[payment.origin]
    narration = (f"{payment.rail} {payment.reference or payment.number} to {payment.counterparty}"
                 + (f": {payment.narration}" if payment.narration else ""))[:200]
    status = PaymentStatus.SETTLED if payment.credit_account_id else PaymentStatus.DEBITED
    if payment.credit_account_id:
        note = "credited to the beneficiary's account"
    elif payment.debit_account_id:
        note = f"debited from account {payment.remitter_account}"
    else:
        note = "paid in cash at the branch"
    new, riders, steps = payment._state.adding, [], []
    if new:
        if payment.pk is None:
            raise AssertionError("a payment written with its debit needs its id reserved (_new_payment)")
        steps.append(PaymentEvent(payment=payment, status=PaymentStatus.INITIATED, at=payment.initiated_at))
        initiated = _initiated_event(payment, actor=actor)
        before, step = payment.advance(status, note=note)
        steps.append(step)
        riders = [insert_rider(payment, debit_entry_id="posted.entry_id"), *(insert_rider(s) for s in steps),
                  event_rider(**initiated), event_rider(**_step_event(payment, status, before, note, actor=actor))]
        if riders_for is not None and status == PaymentStatus.SETTLED:
            riders += riders_for(payment)
    entry = post_entry(actor=actor, checker=checker, lines=[Line.debit(source, amount), Line.credit(target, amount)],
                       kind=EntryKind.PAYMENT, narration=narration, idempotency_key=f"payment-{payment.pk}-debit",
                       channel=channel, reference=payment.reference or payment.number,
                       names=payment.debit_account.ledger_names if payment.debit_account_id else None,
                       riders=riders)
    payment.debit_entry = entry
    if new:
        # Written by the statement: what saving them would have told their listeners
        # (the partners follow a payment's steps), it tells now.
        for instance in (payment, *steps):
            instance._state.adding, instance._state.db = False, "default"
        for step in steps:
            post_save.send(sender=PaymentEvent, instance=step, created=True, raw=False, using="default",
                           update_fields=None)
        return entry
    _note_activity(payment.debit_account if payment.debit_account_id else None, payment.origin, entry.business_date)
    _step(payment, status, note, actor=actor, fields=["debit_entry"])
    return entry


def _note_activity(account, origin, date):
    """A payment the customer makes from `account` keeps it from becoming inoperative
    (a standing instruction's does not: the bank makes it)."""
    if account is None or origin == Origin.STANDING_INSTRUCTION or account.last_customer_activity_on == date:
        return
    DepositAccount.objects.filter(pk=account.pk).exclude(last_customer_activity_on=date).update(
        last_customer_activity_on=date)
    account.last_customer_activity_on = date


def _settle(payment, *, actor=None, note=""):
    """Outward clearing to RBI settlement for one payment, and mark it settled."""
    entry = post_entry(actor=actor, lines=[Line.debit(gl(CLEARING[payment.rail][0]), payment.amount),
                                           Line.credit(gl(RBI_SETTLEMENT), payment.amount)],
                       kind=EntryKind.PAYMENT, narration=f"{payment.rail} {payment.reference} settled",
                       idempotency_key=f"payment-{payment.pk}-settle", reference=payment.reference)
    payment.settle_entry = entry
    _step(payment, PaymentStatus.SETTLED, note or "settled by the network", actor=actor, fields=["settle_entry"])


def _give_back(payment, *, code, reason, actor=None, failed=False):
    """The money of a payment that did not reach the beneficiary goes back to where
    it came from, once. `payment` is locked and has been debited."""
    payment.return_code, payment.return_reason = code, reason[:200]
    _step(payment, PaymentStatus.FAILED if failed else PaymentStatus.RETURNED, f"{code} {reason}".strip(),
          actor=actor, fields=["return_code", "return_reason"])
    # Cash paid in at the counter and refused at once goes back across the counter
    # (the remittance takes its notes out of the till again); cash that comes back
    # later waits for the remitter in sundry creditors, since no notes move.
    held_for_remitter = payment.debit_account_id is None and not failed
    if payment.settle_entry_id is None and not held_for_remitter:
        entry = reverse_entry(actor=actor, entry=payment.debit_entry, idempotency_key=f"payment-{payment.pk}-return",
                              narration=f"{payment.rail} {payment.reference} returned: {code} {reason}"[:200],
                              channel=Channel.SYSTEM)
    else:
        source = gl(RBI_SETTLEMENT) if payment.settle_entry_id else gl(CLEARING[payment.rail][0])
        target = gl(SUNDRY_CREDITORS) if held_for_remitter else payment.debit_account.ledger_account_id
        after = " after settlement" if payment.settle_entry_id else ""
        entry = post_entry(actor=actor, lines=[Line.debit(source, payment.amount), Line.credit(target, payment.amount)],
                           kind=EntryKind.PAYMENT, narration=f"{payment.rail} {payment.reference} returned{after}: "
                                                             f"{code} {reason}"[:200],
                           idempotency_key=f"payment-{payment.pk}-return", reference=payment.reference)
    payment.return_entry = entry
    if payment.debit_account_id:
        note = f"money returned to account {payment.remitter_account}"
    elif held_for_remitter:
        note = "money held at the branch for the remitter to collect"
    else:
        note = "cash handed back to the remitter at the counter"
    _step(payment, PaymentStatus.REVERSED, note, actor=actor, fields=["return_entry"])


def _send(payment, *, actor=None):
    """Hand a debited payment to the network and act on an immediate answer."""
    answer = network().submit(payment)
    _step(payment, PaymentStatus.SENT, f"sent by {payment.rail}, reference {payment.reference}", actor=actor)
    if answer is None:
        return payment
    if answer.settled:
        _settle(payment, actor=actor)
    else:
        _give_back(payment, code=answer.code, reason=answer.reason, actor=actor, failed=True)
    return payment


@transaction.atomic
def make_payment(*, actor, customer, debit_account, amount, idempotency_key, rail=Rail.INTERNAL, payee=None,
                 credit_account=None, vpa="", narration="", origin=Origin.INTERNET, riders_for=None):
    """Make a payment from `debit_account` of `customer`: to one of their own accounts
    (`credit_account`), to a payee, or to a UPI ID typed in (`vpa`). Returns the
    payment, which is settled, sent (NEFT: waiting for its batch) or, when the
    network answers at once that it cannot credit, reversed with the reason.

    A payment that stays in the bank is made in one posting, written with it (see
    `_debit`); `riders_for`, given the payment as made, returns the caller's own
    writes to go in that statement (the API's kept answer). Called only then: a
    caller whose riders it did not take writes them itself.

    Locks: the Customer row, the day's payment numbers (until the transaction ends),
    then (through post_entry) the ledger accounts."""
    if not idempotency_key:
        raise ValidationFailed("This form has no token; reload the page and enter the payment again.")
    amount = check_amount(amount)
    narration = " ".join(str(narration or "").split())[:140]
    owned = DepositAccount.objects.for_customer(customer)
    # The lock and whose accounts these are, in one statement.
    owns_debit, owns_credit = Customer.objects.select_for_update(of=("self",)).filter(pk=customer.pk).values_list(
        Exists(owned.filter(pk=debit_account.pk)),
        Exists(owned.filter(pk=credit_account.pk)) if credit_account is not None else Value(True)).get()
    if not owns_debit:
        raise NotPermitted("You can pay only from your own accounts.")
    if not owns_credit:
        raise NotPermitted("You can transfer only to your own accounts or to your payees.")
    if payee is not None and payee.customer_id != customer.pk:
        raise NotPermitted("That payee is not yours.")
    content = _content(account=debit_account.pk, amount=amount, rail=rail, payee=payee.pk if payee else None,
                       to=credit_account.pk if credit_account else None, vpa=normalise_vpa(vpa))
    existing = _existing_payment(idempotency_key, content)
    if existing is not None:
        return existing
    destination = resolve_destination(rail=rail, payee=payee, credit_account=credit_account, vpa=vpa)
    if destination.credit_account is not None and destination.credit_account.pk == debit_account.pk:
        raise ValidationFailed("Choose a different account to pay into: money cannot go to the account it comes from.")
    refuse(debit_account, debit=True)
    check_rail(destination.rail, amount)
    date = business_date()
    check_limits(customer, debit_account, destination, amount, date)
    fields = {"actor": actor, "customer": customer, "debit_account": debit_account, "destination": destination,
              "amount": amount, "key": idempotency_key, "content": content, "origin": origin,
              "narration": narration, "date": date}
    if destination.stays_in_bank:
        # Its account's activity first (the deposit account's row before its ledger
        # account's, as at the counter), then its number, as late as can be.
        _note_activity(debit_account, origin, date)
        payment = _new_payment(**fields, reserve_id=True)
        _debit(payment, actor=actor, riders_for=riders_for)
        return payment
    payment = _create(**fields)
    _debit(payment, actor=actor)
    if payment.status == PaymentStatus.DEBITED:
        _send(payment, actor=actor)
    return payment


def _locked(payment_id):
    return Payment.objects.select_for_update(of=("self",)).select_related(
        "debit_account", "debit_entry").get(pk=payment_id)


@transaction.atomic
def record_return(*, payment, code, reason, actor=None):
    """The network returns an outward payment: the money goes back to the customer,
    exactly once. A second return of the same payment changes nothing.

    Locks: the Payment row, then the ledger accounts."""
    payment = _locked(payment.pk)
    if payment.status in (PaymentStatus.RETURNED, PaymentStatus.REVERSED, PaymentStatus.FAILED):
        return payment
    if payment.direction != Direction.OUTWARD or payment.status not in (PaymentStatus.SENT, PaymentStatus.SETTLED):
        raise ValidationFailed(f"Payment {payment.number} is {payment.get_status_display().lower()}; only a sent or "
                               "settled outward payment can come back.")
    _give_back(payment, code=code, reason=reason, actor=actor)
    return payment


@transaction.atomic
def settle_payment(*, payment, actor=None, note=""):
    """The network confirms that a sent payment settled (one at a time: NEFT batches
    settle through `settle_neft_batch`). Idempotent."""
    payment = _locked(payment.pk)
    if payment.status == PaymentStatus.SETTLED:
        return payment
    if payment.status != PaymentStatus.SENT:
        raise ValidationFailed(f"Payment {payment.number} is {payment.get_status_display().lower()}; only a sent "
                               "payment can settle.")
    _settle(payment, actor=actor, note=note)
    return payment


# -- inbound ------------------------------------------------------------------------

INBOUND_RETURNS = {
    "unknown": ("AC01", "Account does not exist at the beneficiary bank"),
    DepositStatus.CLOSED: ("AC04", "Account closed"),
    DepositStatus.FROZEN: ("AC06", "Account frozen: credits are not allowed"),
    DepositStatus.PENDING: ("AC01", "Account not yet open"),
    "not_operative": ("AC03", "Account does not take transfers"),
}


@transaction.atomic
def receive_inbound_payment(*, rail, amount, reference, remitter_name, remitter_account="", remitter_ifsc="",
                            remitter_vpa="", beneficiary_account="", beneficiary_vpa="", narration="", actor=None):
    """The network credits one of our customers. Received money is never lost: it
    lands in the rail's inward clearing, then either in the customer's account or,
    when the account is unknown, closed or totally frozen, back to the sender through
    RBI settlement with the reason. Idempotent by the network's reference, even
    when the network delivers the same message twice at once.

    Locks: the message's reference (an advisory lock), then the ledger accounts
    (post_entry)."""
    if rail not in (Rail.NEFT, Rail.RTGS, Rail.IMPS, Rail.UPI):
        raise ValidationFailed("Inbound payments arrive by NEFT, RTGS, IMPS or UPI.")
    amount = check_amount(amount)
    if rail != Rail.RTGS:  # RTGS's minimum binds the sender, not the receiving bank
        check_rail(rail, amount)
    if not reference:
        raise ValidationFailed("An inbound payment needs the network's reference.")
    key = f"inward-{rail}-{reference}"
    one_at_a_time(Job.INBOUND_MESSAGE, key)
    existing = Payment.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing
    account, problem = None, None
    if beneficiary_vpa:
        own = find_own_vpa(normalise_vpa(beneficiary_vpa))
        account = own.account if own else None
    elif beneficiary_account:
        account = DepositAccount.objects.select_related("customer", "product").filter(
            number=str(beneficiary_account).strip()).first()
    if account is None:
        problem = INBOUND_RETURNS["unknown"]
    elif account.status in INBOUND_RETURNS:
        problem = INBOUND_RETURNS[account.status]
    elif not account.is_operative:
        problem = INBOUND_RETURNS["not_operative"]
    date = business_date()
    payment = Payment.objects.create(
        number=_number(date), direction=Direction.INWARD, rail=rail, origin=Origin.NETWORK, amount=amount,
        reference=reference, idempotency_key=key, business_date=date, narration=" ".join(narration.split())[:140],
        customer=account.customer if account else None, credit_account=account if problem is None else None,
        beneficiary_name=account.customer.display_name if account else "",
        beneficiary_account=account.number if account else str(beneficiary_account)[:20],
        beneficiary_vpa=normalise_vpa(beneficiary_vpa)[:80], remitter_name=remitter_name[:140],
        remitter_account=remitter_account[:20], remitter_ifsc=remitter_ifsc[:11],
        remitter_vpa=normalise_vpa(remitter_vpa)[:80], status=PaymentStatus.INITIATED,
    )
    PaymentEvent.objects.create(payment=payment, status=PaymentStatus.INITIATED, note=f"received by {rail}")
    record_event(action="payments.inbound_received", obj=payment, actor=actor,
                 summary=f"Inbound {rail} {reference}: {format_money(amount)} from {remitter_name}",
                 after={"amount": amount, "beneficiary": payment.beneficiary_account or payment.beneficiary_vpa})
    inward = gl(CLEARING[rail][1])
    post_entry(actor=actor, lines=[Line.debit(gl(RBI_SETTLEMENT), amount), Line.credit(inward, amount)],
               kind=EntryKind.PAYMENT, narration=f"Inbound {rail} {reference} from {remitter_name}"[:200],
               idempotency_key=f"payment-{payment.pk}-receive", reference=reference)
    if problem is None:
        entry = post_entry(actor=actor, lines=[Line.debit(inward, amount),
                                               Line.credit(account.ledger_account_id, amount)],
                           kind=EntryKind.PAYMENT, narration=f"{rail} {reference} from {remitter_name}"
                                                             + (f": {payment.narration}" if payment.narration else ""),
                           idempotency_key=f"payment-{payment.pk}-credit", reference=reference)
        payment.settle_entry = entry
        _step(payment, PaymentStatus.SETTLED, f"credited to account {account.number}", actor=actor,
              fields=["settle_entry"])
    else:
        code, reason = problem
        entry = post_entry(actor=actor, lines=[Line.debit(inward, amount), Line.credit(gl(RBI_SETTLEMENT), amount)],
                           kind=EntryKind.PAYMENT, narration=f"Inbound {rail} {reference} returned: {code} {reason}",
                           idempotency_key=f"payment-{payment.pk}-return", reference=reference)
        payment.return_entry, payment.return_code, payment.return_reason = entry, code, reason
        _step(payment, PaymentStatus.RETURNED, f"returned to the sender: {code} {reason}", actor=actor,
              at=timezone.now(), fields=["return_entry", "return_code", "return_reason"])
    return payment


# -- UPI collect requests -------------------------------------------------------------------


@transaction.atomic
def receive_collect_request(*, payer_vpa, merchant_vpa, merchant_name, amount, is_merchant, reference, note="",
                            expires_at=None):
    """A UPI collect request arrives for one of our customers. Only merchants may
    collect (NPCI's rule against person-to-person collect fraud); the request waits
    for the customer until it expires."""
    if not is_merchant:
        raise NotPermitted("Collect requests from persons are refused: only merchants may ask for money by UPI.")
    merchant = check_vpa(merchant_vpa)
    amount = check_amount(amount)
    check_rail(Rail.UPI, amount)
    payer = find_own_vpa(normalise_vpa(payer_vpa))
    if payer is None:
        raise ValidationFailed(f"{payer_vpa} is not a UPI ID of this bank.")
    one_at_a_time(Job.INBOUND_MESSAGE, f"collect-{reference}")
    existing = CollectRequest.objects.filter(reference=reference).first()
    if existing is not None:
        return existing
    request = CollectRequest.objects.create(
        payer=payer, merchant_vpa=merchant, merchant_name=" ".join(merchant_name.split())[:140] or merchant,
        amount=amount, note=" ".join(note.split())[:140], reference=reference,
        expires_at=expires_at or timezone.now() + settings.CBS_COLLECT_REQUEST_TTL)
    record_event(action="payments.collect_received", obj=request, actor=None,
                 summary=f"UPI collect request {reference}: {request.merchant_name} asks {format_money(amount)} "
                         f"of {payer.address}")
    return request


def _locked_collect(customer, request_id):
    request = (CollectRequest.objects.select_for_update(of=("self",)).select_related("payer", "payer__account")
               .filter(pk=request_id, payer__customer=customer).first())
    if request is None:
        raise NotPermitted("That collect request is not yours.")
    if request.status != CollectStatus.PENDING:
        raise ValidationFailed(f"This request is already {request.get_status_display().lower()}.")
    if request.is_expired():
        request.status, request.decided_at = CollectStatus.EXPIRED, timezone.now()
        request.save(update_fields=["status", "decided_at"])
        return request
    return request


@transaction.atomic
def approve_collect_request(*, actor, customer, request_id, idempotency_key):
    """Pay a merchant's collect request from the account behind the UPI ID. The view
    has checked the customer's authenticator code."""
    request = _locked_collect(customer, request_id)
    if request.status == CollectStatus.EXPIRED:
        raise ValidationFailed("This request has expired; ask the merchant to send a new one.")
    payment = make_payment(actor=actor, customer=customer, debit_account=request.payer.account, amount=request.amount,
                           idempotency_key=idempotency_key, rail=Rail.UPI, vpa=request.merchant_vpa,
                           narration=request.note or f"Collect request {request.reference}", origin=Origin.UPI_COLLECT)
    if payment.beneficiary_name == "":
        Payment.objects.filter(pk=payment.pk).update(beneficiary_name=request.merchant_name)
        payment.beneficiary_name = request.merchant_name
    request.status, request.decided_at, request.payment = CollectStatus.APPROVED, timezone.now(), payment
    request.save(update_fields=["status", "decided_at", "payment"])
    record_event(action="payments.collect_approved", obj=request, actor=actor,
                 summary=f"UPI collect request {request.reference} paid: {format_money(request.amount)} to "
                         f"{request.merchant_name}")
    return request


@transaction.atomic
def decline_collect_request(*, actor, customer, request_id):
    request = _locked_collect(customer, request_id)
    if request.status == CollectStatus.PENDING:
        request.status, request.decided_at = CollectStatus.DECLINED, timezone.now()
        request.save(update_fields=["status", "decided_at"])
        record_event(action="payments.collect_declined", obj=request, actor=actor,
                     summary=f"UPI collect request {request.reference} from {request.merchant_name} declined")
    return request


def expire_collect_requests(now=None):
    now = now or timezone.now()
    return CollectRequest.objects.filter(status=CollectStatus.PENDING, expires_at__lte=now).update(
        status=CollectStatus.EXPIRED, decided_at=now)


def cycle_at(moment):
    """The NEFT cycle (1–48) that settles at or after `moment`: one each half hour."""
    local = timezone.localtime(moment)
    return min(local.hour * 2 + local.minute // 30 + 1, 48)
