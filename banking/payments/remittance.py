"""NEFT and RTGS at the counter for a walk-in customer, from an account or against cash.

Design overview
- The teller fills in the remitter (name, mobile, address) and the beneficiary
  (name, account number, IFSC checked against the directory). The money comes
  either from a deposit account of this bank (debited as an internet payment would
  be) or in cash counted by denomination into the teller's open till:
      from an account   Dr the account           Cr the rail's outward clearing
      against cash      Dr the till's cash GL    Cr the rail's outward clearing
  and the till's count moves by the same notes (a deposit movement), so the till
  stays worth its GL. Settlement and returns then follow the payment's usual life
  (actions.py).
- Rules: NEFT or RTGS only; RTGS from ₹2,00,000 (DESIGN §5); cash in whole rupees
  whose notes add up to the amount; the remitter's PAN for cash of ₹50,000 or more
  (income-tax rule 114B, as for cash deposits); a beneficiary at this bank is
  refused (that is a transfer, not a remittance). The branch channel's daily limits
  for internet banking do not apply: the customer signs the remittance form at the
  counter.
- Above the teller's cash limit (StaffProfile.cash_limit) the remittance waits as
  AWAITING_APPROVAL with an approval request of kind `payments.remittance`; nothing
  moves until a supervisor approves, and then `send_approved_remittance` debits and
  sends it in the approval's transaction. A rejection marks the payment rejected.
- A remittance the network refuses at once (RTGS answers immediately) is reversed;
  for cash, the notes go back out of the till to the remitter.
- Locks: the teller's till (cash) or the debit account's customer, then the ledger
  accounts (post_entry). The form's idempotency key, checked under that first lock,
  makes a double-pressed Enter send once, even when both presses arrive together.

Errors: ValidationFailed, InvalidAmount, LimitExceeded, InsufficientFunds,
AccountFrozen, AccountClosed, IdempotencyConflict.
"""

from django.db import transaction

from banking.approvals.actions import submit_request
from banking.core.errors import (
    InvalidAmount,
    NotPermitted,
    ValidationFailed,
)
from banking.core.identifiers import is_valid_pan, normalise
from banking.core.money import format_money
from banking.customers.models import Customer
from banking.teller.actions import PAN_THRESHOLD, record_till_cash, require_open_till
from banking.teller.denominations import Denominations, check_adds_up
from banking.teller.lookup import check_mobile, refuse
from banking.users.models import StaffProfile

from .actions import (
    Destination,
    _content,
    _create,
    _debit,
    _existing_payment,
    _locked,
    _payee_name,
    _send,
    _step,
    business_date,
    check_amount,
    check_other_bank_account,
    check_rail,
)
from .directory import find_branch
from .models import Origin, PaymentStatus, Rail

REMITTANCE = "payments.remittance"
RAILS = (Rail.NEFT, Rail.RTGS)


def check_beneficiary(*, rail, name, account, ifsc):
    """The checked beneficiary as a Destination, or a refusal in the teller's words."""
    name = _payee_name(name)
    number = check_other_bank_account(str(account or "").replace(" ", ""))
    branch = find_branch(ifsc)
    if branch.is_own_bank:
        raise ValidationFailed(f"{branch.ifsc} is a branch of this bank: make a transfer at the counter instead of "
                               "a remittance.")
    if not branch.accepts(rail):
        raise ValidationFailed(f"{branch.bank_name}, {branch.branch_name} does not take {rail} payments.")
    return Destination(rail=rail, name=name, account=number, ifsc=branch.ifsc)


def _remitter(name, mobile, address, *, cash):
    name = " ".join(str(name or "").split())
    if len(name) < 2:
        raise ValidationFailed("Enter the remitter's name.")
    mobile = check_mobile(mobile)
    address = " ".join(str(address or "").split())
    if cash and not mobile:
        raise ValidationFailed("Enter the remitter's mobile number: the bank sends the UTR there.")
    if cash and len(address) < 5:
        raise ValidationFailed("Enter the remitter's address, as the remittance form has it.")
    return {"name": name[:140], "mobile": mobile, "address": address[:200]}


def _pan(amount, pan, *, cash):
    pan = normalise(pan)
    if pan and not is_valid_pan(pan):
        raise ValidationFailed("Enter a valid PAN: 5 letters, 4 digits and a letter, as ABCDE1234F.")
    if cash and amount >= PAN_THRESHOLD and not pan:
        raise ValidationFailed(f"A cash remittance of {format_money(PAN_THRESHOLD)} or more needs the remitter's "
                               "PAN. Enter it, or take less than that amount.")
    return pan


def _cash_limit(actor):
    return StaffProfile.objects.filter(user=actor).values_list("cash_limit", flat=True).first() or 0


def _take_cash(payment, *, actor, checker, till, counts):
    """Debit the till's GL for a cash remittance and count the notes in."""
    entry = _debit(payment, actor=actor, checker=checker, source_gl=till.ledger_account_id)
    record_till_cash(till=till, counts=counts, entry=entry, actor=actor)
    return entry


def _send_and_settle_cash(payment, *, actor, till, counts):
    """Send; if the network refuses at once, the notes go back to the remitter."""
    _send(payment, actor=actor)
    if payment.paid_in_cash and payment.status == PaymentStatus.REVERSED:
        record_till_cash(till=till, counts=-counts, entry=payment.return_entry, actor=actor)


@transaction.atomic
def send_remittance(*, actor, rail, amount, idempotency_key, beneficiary_name, beneficiary_account,
                    beneficiary_ifsc, remitter_name, remitter_mobile, remitter_address, debit_account=None,
                    counts=None, pan="", narration=""):
    """Send NEFT or RTGS for a walk-in customer from `debit_account` or against cash
    (`counts`, a Denominations). Returns the payment: sent or settled, reversed when
    the network refused it at once, or awaiting approval above the teller's cash
    limit. Refuses before anything is written. Locks the teller's till (cash), then
    the ledger accounts."""
    if actor is None or not actor.is_authenticated:
        raise NotPermitted("Only a signed-in teller can send a remittance.")
    if not idempotency_key:
        raise ValidationFailed("This form has no token; reload the page and enter the remittance again.")
    if rail not in RAILS:
        raise ValidationFailed("Choose NEFT or RTGS.")
    amount = check_amount(amount)
    cash = debit_account is None
    if cash and counts is None:
        raise ValidationFailed("Enter the customer's account number, or take the money in cash.")
    if not cash and counts is not None and not counts.is_zero():
        raise ValidationFailed("Take the money either from an account or in cash, not both.")
    # Serialises the same form sent twice at once, so that the second finds the first.
    if cash:
        till, day = require_open_till(actor, lock=True)
    else:
        till = day = None
        Customer.objects.select_for_update().filter(pk=debit_account.customer_id).first()
    narration = " ".join(str(narration or "").split())[:140]
    content = _content(account=debit_account.pk if debit_account else None, amount=amount, rail=rail,
                       beneficiary=[normalise(beneficiary_ifsc), str(beneficiary_account or "").replace(" ", "")],
                       cash=counts.as_dict() if cash else None)
    existing = _existing_payment(idempotency_key, content)
    if existing is not None:
        return existing
    check_rail(rail, amount)
    destination = check_beneficiary(rail=rail, name=beneficiary_name, account=beneficiary_account,
                                    ifsc=beneficiary_ifsc)
    if cash:
        if amount % 100:
            raise InvalidAmount("Cash is handled in whole rupees: send the paise from an account.")
        if not counts.is_nonnegative():
            raise ValidationFailed("A count cannot be negative.")
        check_adds_up(counts, amount)
    else:
        refuse(debit_account, debit=True)
    remitter = _remitter(remitter_name or (debit_account.customer.display_name if debit_account else ""),
                         remitter_mobile, remitter_address, cash=cash)
    remitter["ifsc"] = actor.branch.ifsc if actor.branch else ""
    pan = _pan(amount, pan, cash=cash)
    payment = _create(actor=actor, customer=debit_account.customer if debit_account else None,
                      debit_account=debit_account, destination=destination, amount=amount, key=idempotency_key,
                      content=content, origin=Origin.BRANCH, narration=narration,
                      date=day.business_date if day else business_date(), remitter=remitter, paid_in_cash=cash)
    if pan:
        payment.remitter_pan = pan
        payment.save(update_fields=["remitter_pan"])
    limit = till.teller_cash_limit if till is not None else _cash_limit(actor)
    if amount > limit:
        source = "in cash" if cash else f"from account {debit_account.number}"
        payment.approval = submit_request(
            actor=actor, kind=REMITTANCE, amount=amount, branch=actor.branch,
            payload={"payment_id": payment.pk, "till_id": till.pk if till else None,
                     "counts": counts.as_dict() if cash else None},
            summary=f"{rail} of {format_money(amount)} {source} to {destination.name} ({destination.account}, "
                    f"{destination.ifsc}) for {remitter['name']}, above {actor.display_name}'s limit of "
                    f"{format_money(limit)}",
        )
        _step(payment, PaymentStatus.AWAITING_APPROVAL, "above the teller's cash limit: waiting for a supervisor",
              actor=actor, fields=["approval"])
        return payment
    if cash:
        _take_cash(payment, actor=actor, checker=None, till=till, counts=counts)
        _send_and_settle_cash(payment, actor=actor, till=till, counts=counts)
    else:
        _debit(payment, actor=actor)
        _send(payment, actor=actor)
    return payment


def send_approved_remittance(approval, checker):
    """The approval handler for `payments.remittance`: checks again what may have
    changed while it waited (the till, the account), then debits and sends."""
    payment = _locked(approval.payload.get("payment_id"))
    if payment.status != PaymentStatus.AWAITING_APPROVAL:
        raise ValidationFailed(f"Remittance {payment.number} is already {payment.get_status_display().lower()}.")
    maker = approval.maker
    if payment.paid_in_cash:
        till, day = require_open_till(maker, lock=True)
        if till.pk != approval.payload.get("till_id") or day.business_date != payment.business_date:
            raise ValidationFailed(f"{maker.display_name}'s till is no longer open for "
                                   f"{payment.business_date:%d %b %Y}; the teller must take the remittance again.")
        counts = Denominations.of(approval.payload.get("counts"))
        _take_cash(payment, actor=maker, checker=checker, till=till, counts=counts)
        _send_and_settle_cash(payment, actor=checker, till=till, counts=counts)
    else:
        refuse(payment.debit_account, debit=True)
        _debit(payment, actor=maker, checker=checker)
        _send(payment, actor=checker)
    return {"payment_id": payment.pk, "reference": payment.reference, "status": payment.status}


def reject_remittance(approval, checker):
    """The hook for a request rejected, expired, or approved but refused on the way:
    the payment follows its request, with the reason, and is never sent."""
    payment = _locked(approval.payload.get("payment_id"))
    if payment.status == PaymentStatus.AWAITING_APPROVAL:
        reason = approval.decision_reason or "No supervisor decided it in time; it was not sent"
        payment.return_reason = reason[:200]
        _step(payment, PaymentStatus.REJECTED, reason, actor=checker, fields=["return_reason"])


def describe_remittance(payload):
    from .models import Payment

    payment = Payment.objects.select_related("debit_account", "initiated_by").filter(
        pk=payload.get("payment_id")).first()
    if payment is None:
        return [("Remittance", f"#{payload.get('payment_id')} (not found)")]
    rows = [
        ("Remittance", f"{payment.number}, {payment.rail}, taken by "
                       f"{payment.initiated_by.display_name if payment.initiated_by else 'the branch'}"),
        ("Amount", format_money(payment.amount)),
        ("Remitter", ", ".join(filter(None, [payment.remitter_name, payment.remitter_mobile,
                                             payment.remitter_address]))),
        ("From", f"Account {payment.debit_account.number}" if payment.debit_account_id else "Cash at the counter"),
        ("Beneficiary", f"{payment.beneficiary_name}, A/c {payment.beneficiary_account}, {payment.beneficiary_ifsc}"),
    ]
    if payment.debit_account_id:
        rows.append(("Available now", format_money(payment.debit_account.available)))
    if payment.paid_in_cash:
        counts = Denominations.of(payload.get("counts"))
        rows += [(label, format_money(value) if name == "coins" else f"{count} ({format_money(value)})")
                 for name, label, count, value in counts.rows() if count]
    rows.append(("On approval", f"It is debited and sent by {payment.rail} at once; the teller's screen shows the "
                                "receipt with the UTR."))
    return rows
