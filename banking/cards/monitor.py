"""The ATM fleet monitor's rules: terminal activity and the alerts operations acknowledges.

Design overview
- A terminal's status is one rule, `Terminal.fleet_status` (models.py). This module
  adds what the monitor shows beside it (`with_activity`: the time of the last
  transaction and the success rate over the last hour) and raises the alerts.
- Success rate: of the terminal's 0200 requests (withdrawals, enquiries, mini
  statements) in the last hour, the share answered 00. A customer's decline (a wrong
  PIN, no funds) counts against it: operations watches the whole experience at the
  terminal, and a run of declines is worth a look whoever caused it.
- Alerts (TerminalAlert) are written once: a condition (cash low, down, repeated
  91s) is one row while it lasts, kept unique by a partial unique constraint and
  inserted with ON CONFLICT DO NOTHING, so two processes raising it at once write
  one row; when the condition ends the row gets `cleared_at`, and the next episode
  is a new row. A dispense mismatch is one row per reversal (its STAN and date).
- Who raises them: the switch, after each message it answered (`watch_message`:
  cash after an approved withdrawal, 91s as they are answered, a mismatch with each
  0420 that gave money back, the down alert cleared by an 0800), and the periodic
  sweep (`sweep_alerts`, every minute), which finds terminals that went silent and
  clears the conditions that ended (cash put back by a replenishment).
- The 91s counted are those in the switch's log. A 91 answered because the database
  was too busy to answer at all is not logged (its transaction rolled back), so it
  is not counted either.
- Acknowledging (`acknowledge_alert`) records who saw the alert and when, with an
  audit event; it does not clear the condition.
"""

import datetime
import logging

from django.db import DatabaseError, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from banking.audit.actions import record_event
from banking.core.errors import ValidationFailed

from .models import (
    AlertKind,
    Cassette,
    MessageKind,
    SwitchMessage,
    Terminal,
    TerminalAlert,
    TerminalStatus,
)

log = logging.getLogger(__name__)

REQUEST_KINDS = (MessageKind.WITHDRAWAL, MessageKind.BALANCE, MessageKind.MINI_STATEMENT)
SUCCESS_WINDOW = datetime.timedelta(hours=1)
# Three 91s (issuer unavailable) at one terminal within 15 minutes raise an alert.
REPEATED_91_COUNT = 3
REPEATED_91_WINDOW = datetime.timedelta(minutes=15)
UNAVAILABLE = "91"


def with_activity(terminals, now=None):
    """`terminals` annotated with `last_transaction_at`, `requests_last_hour` and
    `approved_last_hour` (its 0200s), in the one query that lists them."""
    since = (now or timezone.now()) - SUCCESS_WINDOW
    requests = Q(messages__kind__in=REQUEST_KINDS)
    recent = requests & Q(messages__received_at__gte=since)
    return terminals.annotate(
        last_transaction_at=Max("messages__received_at", filter=requests),
        requests_last_hour=Count("messages", filter=recent),
        approved_last_hour=Count("messages", filter=recent & Q(messages__response_code="00")),
    )


def success_rate(terminal):
    """Percent (0–100, whole) of the last hour's requests approved, None when there were none."""
    if not terminal.requests_last_hour:
        return None
    return round(100 * terminal.approved_last_hour / terminal.requests_last_hour)


def open_alerts():
    return TerminalAlert.objects.filter(acknowledged_at__isnull=True).select_related("terminal")


def _raise(terminal, kind, summary, reference="", now=None):
    """The alert, once: nothing is written while the same one is still uncleared."""
    TerminalAlert.objects.bulk_create([TerminalAlert(terminal=terminal, kind=kind, reference=reference,
                                                     summary=summary[:200], raised_at=now or timezone.now())],
                                      ignore_conflicts=True)


def _clear(terminal, kind, now=None):
    TerminalAlert.objects.filter(terminal=terminal, kind=kind, reference="", cleared_at__isnull=True).update(
        cleared_at=now or timezone.now())


def check_cash(terminal, now=None):
    """Raise or clear the terminal's cash-low alert from its cassettes."""
    short = [c for c in Cassette.objects.filter(terminal=terminal).order_by("-denomination") if c.is_low]
    if not short:
        _clear(terminal, AlertKind.LOW_CASH, now)
        return
    words = ", ".join(f"₹{c.denomination} {'empty' if c.is_empty else f'{c.count} notes'}" for c in short)
    _raise(terminal, AlertKind.LOW_CASH, f"Cash low at {terminal.terminal_id}: {words}", now=now)


def check_unavailable(terminal, now=None):
    """Raise or clear the repeated-91 alert from the switch's log."""
    now = now or timezone.now()
    count = SwitchMessage.objects.filter(terminal=terminal, response_code=UNAVAILABLE,
                                         received_at__gte=now - REPEATED_91_WINDOW).count()
    if count >= REPEATED_91_COUNT:
        _raise(terminal, AlertKind.REPEATED_91, f"{count} answers of 91 (issuer unavailable) at "
               f"{terminal.terminal_id} in the last 15 minutes", now=now)
    else:
        _clear(terminal, AlertKind.REPEATED_91, now)


def check_heartbeat(terminal, now=None):
    """Raise or clear the down alert. A terminal operations took out of service is
    expected to be silent."""
    now = now or timezone.now()
    if terminal.status == TerminalStatus.IN_SERVICE and terminal.is_down(now):
        since = (f"since {timezone.localtime(terminal.last_heartbeat_at):%d %b %H:%M}"
                 if terminal.last_heartbeat_at else "ever")
        _raise(terminal, AlertKind.DOWN, f"{terminal.terminal_id} is down: no heartbeat {since}", now=now)
    else:
        _clear(terminal, AlertKind.DOWN, now)


def watch_message(*, terminal, message, answer):
    """After the switch answered `message` with `answer`: the alerts it may raise or
    clear. A failure here is logged and never changes the answer the terminal gets
    (the switch's own transaction has committed)."""
    try:
        with transaction.atomic():
            _watch(terminal, message, answer)
    except DatabaseError:
        log.exception("ATM alerts were not checked after a message from %s", terminal.terminal_id)


def _watch(terminal, message, answer):
    if not isinstance(message, dict) or not isinstance(answer, dict):
        return
    mti, code = message.get("mti"), answer.get("response_code")
    if mti == "0800":
        terminal.refresh_from_db(fields=["last_heartbeat_at", "status"])
        check_heartbeat(terminal)
    elif code == UNAVAILABLE:
        check_unavailable(terminal)
    elif mti == "0200" and code == "00" and answer.get("notes"):
        check_cash(terminal)
    elif mti == "0420" and code == "00" and answer.get("reversed_amount"):
        _raise_mismatch(terminal, message, answer)


def _raise_mismatch(terminal, message, answer):
    stan, local_time = message.get("stan"), str(message.get("local_time", ""))[:10]
    _raise(terminal, AlertKind.DISPENSE_MISMATCH,
           f"{terminal.terminal_id} STAN {stan}: approved ₹{message.get('amount')}, dispensed "
           f"₹{message.get('dispensed_amount', '0.00')}; ₹{answer['reversed_amount']} given back to the customer",
           reference=f"{stan}:{local_time}")


def sweep_alerts(now=None):
    """Every terminal's condition alerts, raised or cleared: the periodic job's work."""
    now = now or timezone.now()
    for terminal in Terminal.objects.all():
        with transaction.atomic():
            check_heartbeat(terminal, now)
            check_cash(terminal, now)
            check_unavailable(terminal, now)


@transaction.atomic
def acknowledge_alert(*, actor, alert):
    """Operations has seen `alert`. Locks: the alert's row, so two people
    acknowledging at once record the first."""
    alert = TerminalAlert.objects.select_for_update().select_related("terminal").get(pk=alert.pk)
    if alert.acknowledged_at is not None:
        raise ValidationFailed(f"This alert was already acknowledged at "
                               f"{timezone.localtime(alert.acknowledged_at):%d %b %Y %H:%M}.")
    alert.acknowledged_by, alert.acknowledged_at = actor, timezone.now()
    alert.save(update_fields=["acknowledged_by", "acknowledged_at"])
    record_event(action="cards.alert_acknowledged", obj=alert, actor=actor,
                 summary=f"ATM alert acknowledged: {alert.summary}",
                 after={"terminal": alert.terminal.terminal_id, "kind": alert.kind})
    return alert
