"""Failed-dispense complaints ("debited but no cash") and RBI's compensation for a late reversal.

Design overview
- Raising (`raise_dispense_complaint`): a customer on the site, or a teller at the
  branch for them, names one approved ATM withdrawal on one of the customer's cards,
  from the last 90 days, that no reversal has followed. One complaint per withdrawal
  (a database constraint; the withdrawal's log row is locked while it is raised).
  T is the withdrawal's date; the reversal is due by T+5.
- Investigating and resolving (`resolve_dispense_complaint`): operations record what
  the terminal dispensed, as its electronic journal shows it, and why. All of it
  dispensed: the complaint is closed, nothing moves. Less: the rest goes back through
  the switch's own reversal path, a 0420 for the withdrawal's terminal and STAN
  (`banking.cards.switch.handle_message`): the same entry, key, cassette counts and
  log a terminal's reversal makes, and the switch's duplicate check keeps a later 0420
  from the terminal (or a second resolution) from giving the money back twice. There
  is no second money rule here.
- A reversal that came another way (the terminal's 0420 after all, reconciliation)
  resolves the complaint too, on the date its entry was posted (`settle_reversed_complaints`).
- Compensation (`compensate_late_reversals`, end of day): ₹100 for each day of delay
  past T+5, for every complaint still open at the day's end, and for a complaint
  resolved by a reversal after T+5 up to the day it was reversed, credited without
  the customer asking: Dr compensation for delayed ATM reversals (5202), Cr the
  customer's account, one entry per complaint and run, keyed by the date, step and
  complaint, and one DispenseCompensation row per day paid (unique per complaint and
  day, in the entry's transaction). A day is paid once, whatever the reruns; a day the
  ledger refused (an account frozen for credits) is paid by a later run. A complaint
  closed because the cash was dispensed earns nothing: nothing failed.
Every change writes an audit event in its transaction; none names the card number.

Errors: ValidationFailed.
"""

import datetime

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from banking.audit.actions import record_event
from banking.core.eod import posting_key
from banking.core.errors import ValidationFailed
from banking.core.money import format_money
from banking.deposits.savings import _gl_ids, as_date
from banking.ledger.actions import BatchEntry, Line, post_batch
from banking.ledger.chart import ATM_COMPENSATION
from banking.ledger.models import BusinessDate, Channel, EntryKind

from .complaint_models import COMPENSATION_PER_DAY, REVERSAL_DUE_DAYS, ComplaintStatus
from .models import Card, DispenseCompensation, DispenseComplaint, MessageKind, SwitchMessage
from .switch import APPROVED, handle_message, rupees

COMPENSATION_STEP = "cards.atm_dispense_compensation"
COMPLAINT_WINDOW_DAYS = 90


def withdrawals_open_to_complaint(*, customer=None, account=None):
    """The approved ATM withdrawals of the last 90 days on the customer's own cards
    (or on any card of `account`) with no reversal and no complaint yet, newest first."""
    since = BusinessDate.objects.current() - datetime.timedelta(days=COMPLAINT_WINDOW_DAYS)
    cards = Card.objects.all()
    if customer is not None:
        cards = cards.filter(customer=customer)
    if account is not None:
        cards = cards.filter(account=account)
    if customer is None and account is None:
        cards = cards.none()
    return (SwitchMessage.objects.filter(kind=MessageKind.WITHDRAWAL, response_code=APPROVED, card__in=cards,
                                         local_date__gte=since)
            .exclude(Exists(SwitchMessage.objects.filter(original=OuterRef("pk"))))
            .exclude(Exists(DispenseComplaint.objects.filter(withdrawal=OuterRef("pk"))))
            .select_related("terminal", "card__account").order_by("-received_at", "-id"))


@transaction.atomic
def raise_dispense_complaint(*, actor, customer, withdrawal, channel, details=""):
    """A complaint that `withdrawal` debited the customer and dispensed no cash.
    Locks: the withdrawal's switch log row."""
    withdrawal = SwitchMessage.objects.select_for_update(of=("self",)).select_related(
        "card__account", "terminal").filter(pk=withdrawal.pk).first()
    if withdrawal is None or not withdrawals_open_to_complaint(customer=customer).filter(pk=withdrawal.pk).exists():
        if withdrawal is not None and DispenseComplaint.objects.filter(withdrawal=withdrawal).exists():
            raise ValidationFailed("A complaint about this withdrawal is already open or closed; see its progress "
                                   "in the list of complaints.")
        raise ValidationFailed("Choose one of your ATM withdrawals of the last 90 days that has not been reversed.")
    try:
        with transaction.atomic():
            complaint = DispenseComplaint.objects.create(
                withdrawal=withdrawal, customer=customer, account=withdrawal.card.account, amount=withdrawal.amount,
                transaction_date=withdrawal.local_date, raised_on=BusinessDate.objects.current(), raised_by=actor,
                channel=channel, details=details.strip())
    except IntegrityError:
        raise ValidationFailed("A complaint about this withdrawal is already open.") from None
    record_event(action="cards.dispense_complaint_raised", obj=complaint, actor=actor,
                 summary=f"Complaint {complaint.reference}: ATM withdrawal {withdrawal.terminal.terminal_id} "
                 f"{withdrawal.stan} of {format_money(withdrawal.amount)} on card {withdrawal.masked_card} "
                 "debited without cash", after={"withdrawal": withdrawal.pk, "amount": withdrawal.amount,
                                               "channel": channel, "due": complaint.reversal_due_on.isoformat()})
    return complaint


@transaction.atomic
def resolve_dispense_complaint(*, actor, complaint, dispensed_amount, finding):
    """Close `complaint` with what the terminal's journal shows it dispensed
    (`dispensed_amount`, paise): the rest is reversed through the switch. Locks: the
    complaint's row, then (in the switch) the terminal's, the card's and the ledger's."""
    complaint = DispenseComplaint.objects.select_for_update(of=("self",)).select_related(
        "withdrawal__terminal", "withdrawal__card").get(pk=complaint.pk)
    if complaint.status != ComplaintStatus.OPEN:
        raise ValidationFailed(f"Complaint {complaint.reference} is already {complaint.get_status_display().lower()}.")
    finding = (finding or "").strip()
    if not finding:
        raise ValidationFailed("Say what the electronic journal shows.")
    if not 0 <= dispensed_amount <= complaint.amount or dispensed_amount % 100_00:
        raise ValidationFailed(f"The amount dispensed is from ₹0 up to {format_money(complaint.amount)}, in "
                               "multiples of ₹100 (the ATM's notes).")
    withdrawal = complaint.withdrawal
    today = BusinessDate.objects.current()
    before = {"status": complaint.status}
    complaint.dispensed_amount, complaint.finding = dispensed_amount, finding
    complaint.resolved_on, complaint.resolved_at, complaint.resolved_by = today, timezone.now(), actor
    if dispensed_amount == complaint.amount:
        complaint.status = ComplaintStatus.REJECTED
    else:
        complaint.reversal = _reverse_through_switch(withdrawal, dispensed_amount)
        complaint.status = ComplaintStatus.REVERSED
    complaint.save()
    record_event(action="cards.dispense_complaint_resolved", obj=complaint, actor=actor, before=before,
                 summary=f"Complaint {complaint.reference} {complaint.get_status_display().lower()}: the ATM dispensed "
                 f"{format_money(dispensed_amount)} of {format_money(complaint.amount)}",
                 after={"status": complaint.status, "dispensed": dispensed_amount, "finding": finding,
                        "reversal": complaint.reversal_id})
    return complaint


def _reverse_through_switch(withdrawal, dispensed_amount):
    """The withdrawal's 0420, as its terminal would send it, answered by the switch;
    the reversal's log row, or ValidationFailed with the switch's words."""
    existing = SwitchMessage.objects.filter(original=withdrawal, kind=MessageKind.REVERSAL).first()
    if existing is not None and existing.reversed_amount:
        raise ValidationFailed(f"This withdrawal was already reversed ({format_money(existing.reversed_amount)}); "
                               "the complaint closes with that reversal at end of day.")
    message = {"mti": "0420", "processing_code": "01", "stan": withdrawal.stan,
               "terminal_id": withdrawal.terminal.terminal_id, "card_number": withdrawal.card.number,
               "amount": rupees(withdrawal.amount), "dispensed_amount": rupees(dispensed_amount),
               "local_time": f"{withdrawal.local_date.isoformat()}T12:00:00"}
    answer = handle_message(terminal=withdrawal.terminal, message=message)
    reversal = SwitchMessage.objects.filter(original=withdrawal, kind=MessageKind.REVERSAL).first()
    if answer.get("response_code") != APPROVED or reversal is None or not reversal.reversed_amount:
        raise ValidationFailed("The switch did not reverse the withdrawal: "
                               f"{answer.get('message') or answer.get('response_code')}. Nothing was changed.")
    return reversal


def settle_reversed_complaints():
    """Close the open complaints whose withdrawal has been reversed another way (the
    terminal's 0420, reconciliation), on the business date of the reversal's entry."""
    reversed_ = SwitchMessage.objects.filter(original=OuterRef("withdrawal"), kind=MessageKind.REVERSAL,
                                             reversed_amount__gt=0, entry__isnull=False)
    settled = 0
    for complaint in DispenseComplaint.objects.open().filter(Exists(reversed_)).select_for_update(of=("self",)):
        reversal = SwitchMessage.objects.filter(original_id=complaint.withdrawal_id, kind=MessageKind.REVERSAL,
                                                reversed_amount__gt=0).select_related("entry").first()
        complaint.status, complaint.reversal = ComplaintStatus.REVERSED, reversal
        complaint.resolved_on, complaint.resolved_at = reversal.entry.business_date, timezone.now()
        complaint.dispensed_amount = complaint.amount - reversal.reversed_amount
        complaint.finding = "Reversed by the switch (the terminal's reversal or reconciliation)."
        complaint.save()
        record_event(action="cards.dispense_complaint_resolved", obj=complaint,
                     summary=f"Complaint {complaint.reference} resolved: the withdrawal was reversed "
                     f"({format_money(reversal.reversed_amount)})",
                     after={"status": complaint.status, "reversal": reversal.pk})
        settled += 1
    return settled


def delay_days(complaint, date):
    """The days of delay past T+5 that `complaint` earns compensation for, up to `date`."""
    first = complaint.reversal_due_on + datetime.timedelta(days=1)
    if complaint.status == ComplaintStatus.REJECTED:
        return []
    last = date if complaint.status == ComplaintStatus.OPEN else min(date, complaint.resolved_on)
    return [first + datetime.timedelta(days=n) for n in range((last - first).days + 1)]


def compensate_late_reversals(*, date, first=None, last=None):
    """End of day for `date`: credit ₹100 for each day of delay past T+5 not yet paid;
    return how many complaints were paid now. One transaction."""
    date = as_date(date)
    (expense,) = _gl_ids(ATM_COMPENSATION)
    due_before = date - datetime.timedelta(days=REVERSAL_DUE_DAYS)
    with transaction.atomic():
        settle_reversed_complaints()
        # Open ones, and those reversed lately (a reversal after T+5 is paid up to its day).
        complaints = list(DispenseComplaint.objects.filter(transaction_date__lt=due_before).filter(
            Q(status=ComplaintStatus.OPEN)
            | Q(status=ComplaintStatus.REVERSED, resolved_on__gte=date - datetime.timedelta(days=30)))
            .select_related("account").order_by("pk"))
        paid = {}
        for complaint_id, day in DispenseCompensation.objects.filter(
                complaint__in=[c.pk for c in complaints]).values_list("complaint_id", "day"):
            paid.setdefault(complaint_id, set()).add(day)
        owed = [(complaint, days) for complaint in complaints
                if (days := [d for d in delay_days(complaint, date) if d not in paid.get(complaint.pk, set())])]
        if not owed:
            return 0
        outcomes = post_batch(actor=None, kind=EntryKind.PAYMENT, channel=Channel.SYSTEM, entries=[
            _compensation_entry(date, complaint, days, expense=expense) for complaint, days in owed])
        rows = [DispenseCompensation(complaint=complaint, day=day, amount=COMPENSATION_PER_DAY, paid_on=date,
                                     entry_id=outcome.entry_id)
                for (complaint, days), outcome in zip(owed, outcomes, strict=True) if outcome.posted for day in days]
        DispenseCompensation.objects.bulk_create(rows)
        return sum(1 for outcome in outcomes if outcome.posted)


def _compensation_entry(date, complaint, days, *, expense):
    amount = COMPENSATION_PER_DAY * len(days)
    span = f"{days[0]:%d %b}" if len(days) == 1 else f"{days[0]:%d %b} to {days[-1]:%d %b}"
    return BatchEntry(
        posting_key(date, COMPENSATION_STEP, f"complaint{complaint.pk}"),
        f"Compensation for late ATM reversal {complaint.reference}: {len(days)} day(s) past T+5 ({span}), "
        f"{format_money(COMPENSATION_PER_DAY)} a day",
        (Line.debit(expense, amount), Line.credit(complaint.account.ledger_account_id, amount)),
        reference=complaint.reference)

