"""Reconciling an ATM's electronic journal with the switch's log and the ledger."""

import re

import pytest

from banking.approvals.actions import approve_request
from banking.core.errors import StaleRequest, ValidationFailed
from banking.ledger.chart import ATM_SHORTAGE
from banking.ledger.models import LedgerAccount
from banking.testing import make_user
from banking.users.roles import Role

from ..approval_kinds import describe_journal_resolution
from ..cash_models import JournalException, JournalExceptionKind, JournalReconciliation, JournalResolution
from ..journal import reconcile_journal, request_journal_resolution
from ..models import MessageKind, SwitchMessage
from ..switch import handle_message
from .factories import CardBank, counts, withdrawal

pytestmark = pytest.mark.django_db

HEADER = "STAN,TIME,N500,N200,N100,RESULT\n"
DAY = "2026-12-07T10:15:00+05:30"


@pytest.fixture
def bank():
    bank = CardBank(balance=50_000_00)
    bank.ops = make_user(Role.OPERATIONS)
    bank.atm = bank.terminal("ATM00091", n500=100, n200=100, n100=100)
    return bank


def withdraw(bank, stan, amount):
    answer = handle_message(terminal=bank.atm, message=withdrawal(bank.atm, bank.number, amount, stan=stan))
    return answer


def balance(ledger_account):
    ledger_account.refresh_from_db()
    return ledger_account.balance


def kinds(reconciliation):
    return {item.stan: item.kind for item in reconciliation.items.all()}


def test_the_three_sources_are_matched_and_each_kind_of_exception_found(bank):
    assert withdraw(bank, "000001", "2500.00")["notes"] == {"500": 5}
    withdraw(bank, "000002", "1000.00")
    withdraw(bank, "000004", "1000.00")
    withdraw(bank, "000005", "700.00")
    assert withdraw(bank, "000007", "150.00")["response_code"] == "05"
    text = (HEADER + f"000001,{DAY},5,0,0,DISPENSED\n000002,{DAY},0,0,0,NOT_DISPENSED\n"
            f"000003,{DAY},1,0,0,DISPENSED\n000004,{DAY},0,5,0,DISPENSED\n000006,{DAY},0,0,0,DECLINED\n"
            f"000007,{DAY},0,0,0,DECLINED\n")
    reconciliation = reconcile_journal(actor=bank.ops, terminal=bank.atm, name="EJ_ATM00091.csv", data=text.encode())
    assert reconciliation.matched == 2 and reconciliation.exceptions == 5
    assert kinds(reconciliation) == {
        "000002": JournalExceptionKind.APPROVED_NOT_DISPENSED, "000003": JournalExceptionKind.DISPENSED_NOT_APPROVED,
        "000004": JournalExceptionKind.COUNT_MISMATCH, "000005": JournalExceptionKind.MISSING_JOURNAL,
        "000006": JournalExceptionKind.MISSING_SWITCH}
    mismatch = reconciliation.items.get(stan="000004")
    assert mismatch.switch_notes == {"500": 2} and mismatch.journal_notes == {"500": 0, "200": 5, "100": 0}
    assert mismatch.journal_amount == mismatch.switch_amount == mismatch.ledger_amount == 1000_00


def test_approved_but_not_dispensed_is_reversed_through_the_switch_once(bank):
    withdraw(bank, "000002", "1000.00")
    customer = bank.account.ledger_account
    after_withdrawal, notes_after = balance(customer), counts(bank.atm)
    reconciliation = reconcile_journal(actor=bank.ops, terminal=bank.atm, name="ej.csv",
                                       data=HEADER + f"000002,{DAY},0,0,0,NOT_DISPENSED\n")
    item = reconciliation.items.get()
    with pytest.raises(ValidationFailed, match="differ by ₹1,000.00"):
        request_journal_resolution(actor=bank.ops, exception=item, resolution=JournalResolution.CLOSE, reason="x")
    approval = request_journal_resolution(actor=bank.ops, exception=item, resolution=JournalResolution.REVERSE,
                                          reason="EJ shows no notes presented")
    assert ("Resolution", "Reverse ₹1,000.00 to the customer's account through the switch (a 0420 for this STAN)") \
        in describe_journal_resolution(approval.payload)
    with pytest.raises(ValidationFailed, match="already awaiting approval"):
        request_journal_resolution(actor=bank.ops, exception=item, resolution=JournalResolution.REVERSE, reason="x")
    approve_request(actor=bank.supervisor, request_id=approval.pk)
    with pytest.raises(StaleRequest):
        approve_request(actor=make_user(Role.SUPERVISOR, branch=bank.branch, approval_limit=10 ** 10),
                        request_id=approval.pk)
    assert balance(customer) == after_withdrawal + 1000_00
    assert counts(bank.atm)[500] == notes_after[500] + 2  # the notes not dispensed are back in the switch's count
    reversal = SwitchMessage.objects.get(kind=MessageKind.REVERSAL, stan="000002")
    item.refresh_from_db()
    assert item.reversal == reversal and item.entry_id == reversal.entry_id

    # The same journal again is refused; another journal naming the STAN cannot reverse it again.
    with pytest.raises(ValidationFailed, match="already reconciled"):
        reconcile_journal(actor=bank.ops, terminal=bank.atm, name="ej-again.csv",
                          data=HEADER + f"000002,{DAY},0,0,0,NOT_DISPENSED\n")
    again = reconcile_journal(actor=bank.ops, terminal=bank.atm, name="ej-fixed.csv",
                              data=HEADER + f"000002,{DAY},0,0,0,NOT_DISPENSED\r\n")
    assert again.exceptions == 0  # the switch now has it reversed: the sources agree
    assert balance(customer) == after_withdrawal + 1000_00


def test_notes_paid_out_without_approval_go_to_atm_shortage(bank):
    atm_gl = bank.atm.ledger_account
    before_gl, before_counts = balance(atm_gl), counts(bank.atm)
    shortage = LedgerAccount.objects.get(code=ATM_SHORTAGE)
    reconciliation = reconcile_journal(actor=bank.ops, terminal=bank.atm, name="ej.csv",
                                       data=HEADER + f"000003,{DAY},1,1,0,DISPENSED\n")
    item = reconciliation.items.get()
    assert item.kind == JournalExceptionKind.DISPENSED_NOT_APPROVED
    with pytest.raises(ValidationFailed, match="nothing to reverse"):
        request_journal_resolution(actor=bank.ops, exception=item, resolution=JournalResolution.REVERSE, reason="x")
    approval = request_journal_resolution(actor=bank.ops, exception=item, resolution=JournalResolution.SUSPENSE,
                                          reason="Notes presented after a timeout")
    approve_request(actor=bank.supervisor, request_id=approval.pk)
    assert balance(atm_gl) == before_gl - 700_00
    assert balance(shortage) == 700_00
    assert counts(bank.atm) == {500: before_counts[500] - 1, 200: before_counts[200] - 1, 100: before_counts[100]}
    assert balance(atm_gl) == sum(d * n for d, n in counts(bank.atm).items()) * 100


@pytest.mark.parametrize(("name", "text", "words"), [
    ("ej.txt", HEADER, "is not a CSV file"),
    ("ej.csv", "hello,world\n", "does not start with the journal's header row"),
    ("ej.csv", HEADER, "has no transactions"),
    ("ej.csv", HEADER + f"12345,{DAY},0,0,0,DECLINED\n000002,yesterday,0,0,0,DECLINED\n"
               f"000003,{DAY},0,0,x,DISPENSED\n000004,{DAY},0,0,1,LOST\n000005,{DAY},0,0,0\n"
               f"000006,{DAY},0,0,0,DISPENSED\n000007,{DAY},1,0,0,NOT_DISPENSED\n",
     "line 2: the STAN '12345' is not 6 digits; line 3: the time 'yesterday'"),
    ("ej.csv", HEADER + f"000001,{DAY},0,0,0,DECLINED\n000001,{DAY},0,0,0,DECLINED\n",
     "line 3: STAN 000001 of 07 Dec 2026 appears again (first on line 2)"),
])
def test_a_bad_journal_is_refused_in_words_and_nothing_is_written(bank, name, text, words):
    with pytest.raises(ValidationFailed, match=re.escape(words)) as refused:
        reconcile_journal(actor=bank.ops, terminal=bank.atm, name=name, data=text.encode())
    assert not JournalReconciliation.objects.exists() and not JournalException.objects.exists()
    if "line 2: the STAN" in words:
        for found in ("line 4: the count of ₹100 notes 'x'", "line 5: the result 'LOST'", "line 6: has 5 columns",
                      "line 7: the result is DISPENSED but no notes", "line 8: the result is NOT_DISPENSED but 1"):
            assert found in str(refused.value)


def test_bytes_that_are_not_text_are_refused(bank):
    with pytest.raises(ValidationFailed, match="not a text file"):
        reconcile_journal(actor=bank.ops, terminal=bank.atm, name="ej.csv", data=b"\xff\xfe\x00\x01")
