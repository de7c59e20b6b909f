"""The fleet monitor's rules: a terminal's computed status, its activity, and the
alerts the switch and the sweep raise once and operations acknowledges."""

import datetime

import pytest
from django.utils import timezone

from banking.core.errors import ValidationFailed
from banking.testing import make_user
from banking.users.roles import Role

from ..models import AlertKind, Cassette, FleetStatus, SwitchMessage, Terminal, TerminalAlert, TerminalStatus
from ..monitor import acknowledge_alert, success_rate, sweep_alerts, with_activity
from ..switch import handle_message
from .factories import CardBank, withdrawal


@pytest.fixture
def bank(db):
    return CardBank(balance=50_000_00)


def beat(terminal, at=None):
    Terminal.objects.filter(pk=terminal.pk).update(last_heartbeat_at=at or timezone.now())
    terminal.refresh_from_db()
    return terminal


def status(terminal, now=None):
    return Terminal.objects.for_monitor().get(pk=terminal.pk).fleet_status(now)


def test_a_stocked_terminal_with_a_heartbeat_is_in_service(bank):
    atm = beat(bank.terminal(n500=200, n200=200, n100=200))
    assert status(atm) == FleetStatus.IN_SERVICE


def test_down_five_minutes_after_the_last_heartbeat_and_never_heard_from_is_down(bank):
    atm = bank.terminal(n500=200, n200=200, n100=200)
    assert status(atm) == FleetStatus.DOWN  # no heartbeat ever
    now = timezone.now()
    beat(atm, now - datetime.timedelta(minutes=4, seconds=59))
    assert status(atm, now) == FleetStatus.IN_SERVICE
    beat(atm, now - datetime.timedelta(minutes=5))
    assert status(atm, now) == FleetStatus.DOWN


def test_cash_low_below_a_cassettes_own_threshold_and_empty_is_worse(bank):
    atm = beat(bank.terminal(n500=200, n200=200, n100=99))
    assert status(atm) == FleetStatus.CASH_LOW
    Cassette.objects.filter(terminal=atm, denomination=100).update(low_at=50)
    assert status(atm) == FleetStatus.IN_SERVICE
    Cassette.objects.filter(terminal=atm, denomination=500).update(count=0)
    assert status(atm) == FleetStatus.CASSETTE_EMPTY


def test_out_of_service_outranks_down_and_empty(bank):
    atm = bank.terminal(n500=0, n200=0, n100=10)
    Terminal.objects.filter(pk=atm.pk).update(status=TerminalStatus.OUT_OF_SERVICE)
    assert status(atm) == FleetStatus.OUT_OF_SERVICE


def test_activity_last_transaction_and_success_rate_over_the_last_hour(bank):
    atm = beat(bank.terminal(n500=200, n200=200, n100=200))
    handle_message(terminal=atm, message=withdrawal(atm, bank.number, "1000.00", stan="000001"))
    handle_message(terminal=atm, message=withdrawal(atm, bank.number, "1000.00", stan="000002", pin="1111"))
    handle_message(terminal=atm, message=withdrawal(atm, bank.number, "1000.00", stan="000003"))
    handle_message(terminal=atm, message=withdrawal(atm, bank.number, "1000.00", stan="000004"))
    # one an hour and a minute old: outside the window
    SwitchMessage.objects.filter(terminal=atm, stan="000004").update(
        received_at=timezone.now() - datetime.timedelta(minutes=61))
    row = with_activity(Terminal.objects.filter(pk=atm.pk)).get()
    assert row.requests_last_hour == 3
    assert success_rate(row) == 67
    assert row.last_transaction_at == SwitchMessage.objects.get(terminal=atm, stan="000003").received_at
    idle = with_activity(Terminal.objects.filter(pk=bank.terminal().pk)).get()
    assert success_rate(idle) is None and idle.last_transaction_at is None


def test_a_withdrawal_that_leaves_a_cassette_low_raises_one_alert(bank):
    atm = beat(bank.terminal(n500=102, n200=200, n100=200))
    handle_message(terminal=atm, message=withdrawal(atm, bank.number, "1000.00", stan="000001"))
    assert not TerminalAlert.objects.filter(terminal=atm).exists()  # 100 ₹500 notes left: not below 100
    handle_message(terminal=atm, message=withdrawal(atm, bank.number, "500.00", stan="000002"))
    handle_message(terminal=atm, message=withdrawal(atm, bank.number, "500.00", stan="000003"))
    alert = TerminalAlert.objects.get(terminal=atm)  # raised by the switch, written once
    assert alert.kind == AlertKind.LOW_CASH and alert.summary == f"Cash low at {atm.terminal_id}: ₹500 99 notes"


def test_the_sweep_raises_down_once_and_clears_it_after_a_heartbeat_then_a_new_episode_is_new(bank):
    atm = bank.terminal(n500=200, n200=200, n100=200)
    sweep_alerts()
    sweep_alerts()
    down = TerminalAlert.objects.get(terminal=atm, kind=AlertKind.DOWN)
    assert "no heartbeat ever" in down.summary and down.cleared_at is None
    handle_message(terminal=atm, message={"mti": "0800", "terminal_id": atm.terminal_id})
    down.refresh_from_db()
    assert down.cleared_at is not None
    sweep_alerts(now=timezone.now() + datetime.timedelta(minutes=6))
    assert TerminalAlert.objects.filter(terminal=atm, kind=AlertKind.DOWN).count() == 2


def test_a_terminal_out_of_service_is_not_alerted_as_down(bank):
    atm = bank.terminal(n500=200, n200=200, n100=200)
    Terminal.objects.filter(pk=atm.pk).update(status=TerminalStatus.OUT_OF_SERVICE)
    sweep_alerts()
    assert not TerminalAlert.objects.filter(terminal=atm, kind=AlertKind.DOWN).exists()


def test_a_reversal_that_gives_money_back_raises_a_dispense_mismatch_once(bank):
    atm = beat(bank.terminal(n500=200, n200=200, n100=200))
    message = withdrawal(atm, bank.number, "2500.00", stan="000007")
    assert handle_message(terminal=atm, message=message)["response_code"] == "00"
    reversal = {**message, "mti": "0420", "dispensed_amount": "1000.00"}
    reversal.pop("pin_block")
    assert handle_message(terminal=atm, message=reversal)["reversed_amount"] == "1500.00"
    handle_message(terminal=atm, message=reversal)  # a repeated 0420 gets the first answer
    alert = TerminalAlert.objects.get(terminal=atm, kind=AlertKind.DISPENSE_MISMATCH)
    assert "approved ₹2500.00, dispensed ₹1000.00" in alert.summary


def test_a_fully_dispensed_reversal_raises_nothing(bank):
    atm = beat(bank.terminal(n500=200, n200=200, n100=200))
    message = withdrawal(atm, bank.number, "2500.00", stan="000008")
    handle_message(terminal=atm, message=message)
    handle_message(terminal=atm, message={**message, "mti": "0420", "dispensed_amount": "2500.00"})
    assert not TerminalAlert.objects.filter(terminal=atm, kind=AlertKind.DISPENSE_MISMATCH).exists()


def test_three_91s_in_fifteen_minutes_raise_repeated_91_and_fewer_clear_it(bank):
    atm = beat(bank.terminal(n500=200, n200=200, n100=200))
    for n in range(3):
        SwitchMessage.objects.create(terminal=atm, kind="withdrawal", stan=f"00009{n}", local_date=timezone.localdate(),
                                     content_hash="x", response_code="91", response={})
    sweep_alerts()
    alert = TerminalAlert.objects.get(terminal=atm, kind=AlertKind.REPEATED_91)
    assert alert.summary.startswith("3 answers of 91")
    sweep_alerts(now=timezone.now() + datetime.timedelta(minutes=16))
    alert.refresh_from_db()
    assert alert.cleared_at is not None


def test_acknowledging_records_who_once_with_an_audit_event(bank):
    from banking.audit.models import AuditEvent

    atm = bank.terminal(n500=200, n200=200, n100=200)
    sweep_alerts()
    alert = TerminalAlert.objects.get(terminal=atm, kind=AlertKind.DOWN)
    ops = make_user(Role.OPERATIONS)
    acknowledge_alert(actor=ops, alert=alert)
    alert.refresh_from_db()
    assert alert.acknowledged_by == ops and alert.acknowledged_at is not None
    assert AuditEvent.objects.filter(action="cards.alert_acknowledged").count() == 1
    with pytest.raises(ValidationFailed, match="already acknowledged"):
        acknowledge_alert(actor=ops, alert=alert)

