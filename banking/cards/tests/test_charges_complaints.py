"""RBI's free ATM transactions and the charge past them; failed-dispense complaints,
their reversal through the switch and the compensation past T+5."""

import datetime

import pytest

from banking.core.errors import ValidationFailed
from banking.ledger.chart import ATM_CHARGES, ATM_COMPENSATION, GST_PAYABLE
from banking.ledger.models import BusinessDate, Channel, JournalEntry, LedgerAccount

from ..charges import charge_atm_transactions
from ..complaint_models import ComplaintStatus
from ..complaints import (
    compensate_late_reversals,
    raise_dispense_complaint,
    resolve_dispense_complaint,
    withdrawals_open_to_complaint,
)
from ..models import AtmCharge, DispenseCompensation, MessageKind, SwitchMessage
from ..numbers import pin_block
from ..switch import handle_message
from .factories import PIN, CardBank, counts, withdrawal

DAY = datetime.date(2026, 12, 7)


@pytest.fixture
def bank(db):
    BusinessDate.objects.update_or_create(pk=1, defaults={"date": DAY})
    return CardBank(balance=50_000_00)


@pytest.fixture
def atm(bank):
    return bank.terminal("ATM00001")


def at(day, hour=10):
    return f"{day.isoformat()}T{hour:02d}:00:00+05:30"


def enquiry(atm, number, code, stan, local_time):
    return {"mti": "0200", "processing_code": code, "stan": stan, "terminal_id": atm.terminal_id,
            "card_number": number, "pin_block": pin_block(PIN, number), "local_time": local_time}


def balance_of(ledger_id):
    return LedgerAccount.objects.get(pk=ledger_id).balance


def gl(code):
    return LedgerAccount.objects.get(code=code).balance


def send(atm, message):
    return handle_message(terminal=atm, message=message)


# -- free transactions and the charge --------------------------------------------------

def test_the_sixth_counted_transaction_of_the_month_is_charged_23_plus_gst_once(bank, atm):
    day = datetime.date(2026, 12, 3)
    answers = [send(atm, withdrawal(atm, bank.number, "1000.00", stan="000001", local_time=at(day))),
               send(atm, enquiry(atm, bank.number, "31", "000002", at(day))),
               send(atm, enquiry(atm, bank.number, "38", "000003", at(day))),
               send(atm, withdrawal(atm, bank.number, "500.00", stan="000004", local_time=at(day))),
               # Declines are not counted: a wrong PIN, and an amount the ATM cannot pay.
               send(atm, withdrawal(atm, bank.number, "500.00", stan="000005", pin="0000", local_time=at(day))),
               send(atm, withdrawal(atm, bank.number, "150.00", stan="000006", local_time=at(day))),
               send(atm, withdrawal(atm, bank.number, "200.00", stan="000007", local_time=at(day))),
               send(atm, enquiry(atm, bank.number, "31", "000008", at(day, 11)))]
    assert [a["response_code"] for a in answers] == ["00", "00", "00", "00", "55", "05", "00", "00"]
    before = balance_of(bank.account.ledger_account_id)
    income = gl(ATM_CHARGES) if LedgerAccount.objects.filter(code=ATM_CHARGES).exists() else 0
    gst = gl(GST_PAYABLE)

    assert charge_atm_transactions(date=day) == 1
    charge = AtmCharge.objects.get()
    assert charge.message.stan == "000008" and charge.place == 6 and (charge.charge, charge.gst) == (23_00, 4_14)
    assert balance_of(bank.account.ledger_account_id) == before - 27_14
    assert gl(ATM_CHARGES) - income == 23_00 and gl(GST_PAYABLE) - gst == 4_14
    assert "transaction 6 of Dec 2026" in JournalEntry.objects.get(pk=charge.entry_id).narration

    # A rerun charges nothing twice.
    assert charge_atm_transactions(date=day) == 0
    assert balance_of(bank.account.ledger_account_id) == before - 27_14 and AtmCharge.objects.count() == 1

    # A transaction of the day that arrived after its end of day is charged the next day.
    send(atm, withdrawal(atm, bank.number, "100.00", stan="000009", local_time=at(day, 23)))
    assert charge_atm_transactions(date=day + datetime.timedelta(days=1)) == 1
    assert AtmCharge.objects.order_by("place").last().place == 7


def test_five_transactions_are_free_and_a_new_month_starts_again(bank, atm):
    for n in range(1, 6):
        send(atm, enquiry(atm, bank.number, "31", f"00000{n}", at(datetime.date(2026, 11, 30))))
    send(atm, enquiry(atm, bank.number, "31", "000006", at(datetime.date(2026, 12, 1))))
    assert charge_atm_transactions(date=datetime.date(2026, 12, 1)) == 0
    assert not AtmCharge.objects.exists()


def test_a_withdrawal_reversed_in_full_is_not_counted(bank, atm):
    day = datetime.date(2026, 12, 3)
    for n in range(1, 6):
        send(atm, enquiry(atm, bank.number, "31", f"00000{n}", at(day)))
    sent = withdrawal(atm, bank.number, "1000.00", stan="000006", local_time=at(day))
    send(atm, sent)
    assert send(atm, {**sent, "mti": "0420", "dispensed_amount": "0.00"})["response_code"] == "00"
    assert charge_atm_transactions(date=day) == 0


def test_a_charge_waits_while_the_account_cannot_pay_it_whole(db):
    BusinessDate.objects.update_or_create(pk=1, defaults={"date": DAY})
    bank = CardBank(balance=27_13)
    atm = bank.terminal("ATM00002")
    day = datetime.date(2026, 12, 3)
    for n in range(1, 7):
        send(atm, enquiry(atm, bank.number, "31", f"00000{n}", at(day)))
    assert charge_atm_transactions(date=day) == 0
    assert balance_of(bank.account.ledger_account_id) == 27_13
    bank.fund(bank.account, 1)
    assert charge_atm_transactions(date=day + datetime.timedelta(days=1)) == 1
    assert balance_of(bank.account.ledger_account_id) == 0


# -- complaints ---------------------------------------------------------------------------

def withdrawn(bank, atm, day, amount="2500.00", stan="000001"):
    answer = send(atm, withdrawal(atm, bank.number, amount, stan=stan, local_time=at(day)))
    assert answer["response_code"] == "00"
    return SwitchMessage.objects.get(kind=MessageKind.WITHDRAWAL, stan=stan, local_date=day)


def test_a_complaint_resolved_as_not_dispensed_reverses_through_the_switch_once(bank, atm):
    day = datetime.date(2026, 12, 5)
    wdl = withdrawn(bank, atm, day)
    assert list(withdrawals_open_to_complaint(customer=bank.customer)) == [wdl]
    complaint = raise_dispense_complaint(actor=bank.user, customer=bank.customer, withdrawal=wdl,
                                         channel=Channel.INTERNET, details="No cash came out")
    assert complaint.status == ComplaintStatus.OPEN and complaint.reversal_due_on == datetime.date(2026, 12, 10)
    assert not withdrawals_open_to_complaint(customer=bank.customer).exists()
    with pytest.raises(ValidationFailed, match="already"):
        raise_dispense_complaint(actor=bank.user, customer=bank.customer, withdrawal=wdl, channel=Channel.INTERNET)

    with pytest.raises(ValidationFailed, match="multiples of ₹100"):
        resolve_dispense_complaint(actor=bank.supervisor, complaint=complaint, dispensed_amount=150_00,
                                   finding="EJ")
    resolve_dispense_complaint(actor=bank.supervisor, complaint=complaint, dispensed_amount=0,
                               finding="EJ: notes presented and retracted")
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.REVERSED and complaint.resolved_on == DAY
    assert balance_of(bank.account.ledger_account_id) == 50_000_00
    assert complaint.reversal.kind == MessageKind.REVERSAL and complaint.reversal.reversed_amount == 2_500_00
    assert counts(atm)[500] == 100  # the notes not dispensed are back in the switch's counts
    # The terminal's own 0420 afterwards gives nothing back twice.
    send(atm, {**withdrawal(atm, bank.number, "2500.00", local_time=at(day)), "mti": "0420",
               "dispensed_amount": "0.00"})
    assert balance_of(bank.account.ledger_account_id) == 50_000_00
    with pytest.raises(ValidationFailed, match="already"):
        resolve_dispense_complaint(actor=bank.supervisor, complaint=complaint, dispensed_amount=0, finding="again")


def test_a_complaint_whose_cash_was_dispensed_is_closed_and_nothing_moves(bank, atm):
    wdl = withdrawn(bank, atm, datetime.date(2026, 12, 5))
    complaint = raise_dispense_complaint(actor=bank.teller, customer=bank.customer, withdrawal=wdl,
                                         channel=Channel.BRANCH)
    resolve_dispense_complaint(actor=bank.supervisor, complaint=complaint, dispensed_amount=2_500_00,
                               finding="EJ: 5 × ₹500 taken")
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.REJECTED and complaint.reversal is None
    assert balance_of(bank.account.ledger_account_id) == 47_500_00


def test_another_customers_withdrawal_cannot_be_complained_of(bank, atm):
    wdl = withdrawn(bank, atm, datetime.date(2026, 12, 5))
    other = CardBank()
    with pytest.raises(ValidationFailed, match="Choose one of your"):
        raise_dispense_complaint(actor=other.user, customer=other.customer, withdrawal=wdl, channel=Channel.INTERNET)


# -- compensation past T+5 ------------------------------------------------------------

def test_compensation_at_t_plus_6_is_100_and_reruns_credit_nothing_twice(bank, atm):
    t = datetime.date(2026, 12, 1)
    wdl = withdrawn(bank, atm, t)
    complaint = raise_dispense_complaint(actor=bank.user, customer=bank.customer, withdrawal=wdl,
                                         channel=Channel.INTERNET)
    ledger = bank.account.ledger_account_id
    start = balance_of(ledger)

    assert compensate_late_reversals(date=t + datetime.timedelta(days=5)) == 0  # T+5: still on time
    assert balance_of(ledger) == start

    assert compensate_late_reversals(date=t + datetime.timedelta(days=6)) == 1
    assert balance_of(ledger) == start + 100_00
    assert gl(ATM_COMPENSATION) == 100_00  # an expense: debits raise it
    assert compensate_late_reversals(date=t + datetime.timedelta(days=6)) == 0
    assert balance_of(ledger) == start + 100_00

    # End of day on T+8 pays T+7 and T+8; resolved on T+9, T+9 is the last day paid.
    assert compensate_late_reversals(date=t + datetime.timedelta(days=8)) == 1
    assert balance_of(ledger) == start + 300_00
    BusinessDate.objects.filter(pk=1).update(date=t + datetime.timedelta(days=9))
    resolve_dispense_complaint(actor=bank.supervisor, complaint=complaint, dispensed_amount=0, finding="EJ: none")
    assert compensate_late_reversals(date=t + datetime.timedelta(days=9)) == 1
    assert compensate_late_reversals(date=t + datetime.timedelta(days=12)) == 0
    assert balance_of(ledger) == start + 400_00 + 2_500_00
    assert [c.day.day for c in DispenseCompensation.objects.order_by("day")] == [7, 8, 9, 10]


def test_a_complaint_closed_as_dispensed_earns_no_compensation(bank, atm):
    t = datetime.date(2026, 12, 1)
    complaint = raise_dispense_complaint(actor=bank.user, customer=bank.customer, withdrawal=withdrawn(bank, atm, t),
                                         channel=Channel.INTERNET)
    resolve_dispense_complaint(actor=bank.supervisor, complaint=complaint, dispensed_amount=2_500_00, finding="EJ")
    assert compensate_late_reversals(date=t + datetime.timedelta(days=9)) == 0


def test_a_terminal_reversal_after_the_complaint_closes_it_at_end_of_day(bank, atm):
    t = datetime.date(2026, 12, 2)  # reversed on the business date, 7 Dec: T+5, on time
    complaint = raise_dispense_complaint(actor=bank.user, customer=bank.customer, withdrawal=withdrawn(bank, atm, t),
                                         channel=Channel.INTERNET)
    send(atm, {**withdrawal(atm, bank.number, "2500.00", local_time=at(t)), "mti": "0420",
               "dispensed_amount": "500.00"})
    assert compensate_late_reversals(date=t + datetime.timedelta(days=6)) == 0
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.REVERSED and complaint.dispensed_amount == 500_00
    assert complaint.resolved_on == DAY


def test_a_reversal_one_day_late_earns_one_day(bank, atm):
    t = datetime.date(2026, 12, 1)  # reversed by the terminal on 7 Dec: T+6
    raise_dispense_complaint(actor=bank.user, customer=bank.customer, withdrawal=withdrawn(bank, atm, t),
                             channel=Channel.INTERNET)
    send(atm, {**withdrawal(atm, bank.number, "2500.00", local_time=at(t)), "mti": "0420",
               "dispensed_amount": "0.00"})
    assert compensate_late_reversals(date=t + datetime.timedelta(days=8)) == 1
    assert [c.day for c in DispenseCompensation.objects.all()] == [DAY]


def test_the_steps_take_their_places_in_the_day_and_run_as_the_bank(bank, atm):
    from banking.audit.models import AuditEvent
    from banking.core.eod import registered

    from ..charges import CHARGES_STEP
    from ..complaints import COMPENSATION_STEP

    steps = {step.name: step for step in registered()}
    assert steps[CHARGES_STEP].order == 36 and steps[COMPENSATION_STEP].order == 38
    day = datetime.date(2026, 12, 3)
    for n in range(1, 7):
        send(atm, enquiry(atm, bank.number, "31", f"00000{n}", at(day)))
    ((first, last),) = steps[CHARGES_STEP].partitions(date=day, size=1000)
    assert steps[CHARGES_STEP].run(date=day.isoformat(), first=first, last=last) == 1
    assert AuditEvent.objects.filter(action="ledger.batch_posted").exists()
