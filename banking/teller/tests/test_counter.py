"""Cash deposits, withdrawals, transfers, the teller's limit, reversals and cheques."""

import datetime

import pytest
from django.db import connection

from banking.approvals.actions import approve_request, reject_request
from banking.approvals.models import ApprovalRequest, Status
from banking.audit.actions import seal_events, verify_trail
from banking.audit.models import AuditEvent
from banking.core.errors import (
    AccountClosed,
    AccountFrozen,
    IdempotencyConflict,
    InsufficientFunds,
    NotPermitted,
    ValidationFailed,
)
from banking.deposits.models import DepositAccount, DepositStatus
from banking.ledger.models import JournalEntry
from banking.testing import make_user
from banking.users.roles import Role

from ..actions import (
    CASH_OVER_LIMIT,
    COUNTER_REVERSAL,
    cancel_cheque,
    close_till,
    find_till,
    issue_cheque_book,
    pay_cash_withdrawal,
    request_reversal,
    require_open_till,
    stop_cheques,
    take_cash_deposit,
    transfer_at_counter,
)
from ..denominations import Denominations
from ..lookup import check_number, find_account, look_up
from ..models import CashMovement, Cheque, ChequeStatus, CounterTransaction, TransactionStatus
from .factories import OPENING, fresh, give_pan, key, open_account, set_status, teller_with_open_till
from .test_cash import assert_counts_match_books

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(branch, teller, supervisor):
    return open_account(branch, teller, supervisor, balance=20_000_00)


def deposit(teller, account, amount, counts=None, token=None, **extra):
    counts = counts or Denominations.largest_first(amount)
    return take_cash_deposit(actor=teller, account=account, amount=amount, counts=counts,
                             idempotency_key=token or key(), **extra)


def withdraw(teller, account, amount, counts=None, token=None, **extra):
    counts = counts or Denominations.largest_first(amount, find_till(teller).counts)
    return pay_cash_withdrawal(actor=teller, account=account, amount=amount, counts=counts,
                               idempotency_key=token or key(), **extra)


def entries():
    return JournalEntry.objects.count()


# -- deposits -------------------------------------------------------------------------


def test_a_deposit_credits_the_account_and_fills_the_till(teller, account):
    counts = Denominations(n500=20, n100=5)
    txn = deposit(teller, account, 10_500_00, counts)
    assert txn.status == TransactionStatus.POSTED and txn.entry.kind == "cash_deposit"
    assert fresh(account).balance == 30_500_00
    assert find_till(teller).counts == OPENING + counts
    assert txn.entry.reference == txn.number
    stored = CounterTransaction.objects.get(pk=txn.pk)
    assert (stored.status, stored.entry_id, stored.counts, stored.amount) == ("posted", txn.entry_id, counts, 10_500_00)
    assert CashMovement.objects.get(entry=txn.entry).amount == 10_500_00
    assert AuditEvent.objects.filter(action="teller.cash_deposit", object_id=str(txn.pk)).exists()
    # cash at the counter is the customer's own doing: it keeps the account operative
    assert fresh(account).last_customer_activity_on == txn.business_date
    assert_counts_match_books()


def test_a_double_pressed_enter_posts_once(teller, account):
    token = key()
    first = deposit(teller, account, 1_000_00, token=token)
    again = deposit(teller, account, 1_000_00, token=token)
    assert first.pk == again.pk
    assert CounterTransaction.objects.count() == 1
    assert fresh(account).balance == 21_000_00
    with pytest.raises(IdempotencyConflict):
        deposit(teller, account, 2_000_00, token=token)


def test_the_counter_posts_through_the_ledger_alone_and_its_trail_verifies(teller, account):
    """A deposit and a slip withdrawal are ordinary transactions: the entry is the
    ledger's, the counter's event is record_event's, and the sealed trail verifies."""
    name = 'Ramesh "Ram" \\u0000 कुमार, ₹ & <co>'
    paid_in = deposit(teller, account, 2_500_00, depositor_name=name, depositor_mobile="9876543210")
    paid_out = withdraw(teller, account, 1_200_00)
    for txn in (paid_in, paid_out):
        stored = CounterTransaction.objects.get(pk=txn.pk)
        assert stored.entry.reference == stored.number
        assert stored.entry.idempotency_key == f"counter-{stored.idempotency_key}"
        event = AuditEvent.objects.get(action=f"teller.{txn.kind}", object_id=str(txn.pk))
        assert event.after["entry"] == stored.entry_id and stored.number in event.summary
    assert CounterTransaction.objects.get(pk=paid_in.pk).depositor_name == name
    seal_events()
    assert verify_trail() is None
    with connection.cursor() as cursor:  # teller migration 0006
        cursor.execute("SELECT to_regproc('cbs_counter_cash')")
        assert cursor.fetchone()[0] is None


def test_a_deposit_rides_with_its_entry_and_reads_its_token_with_the_tills_day(teller, account):
    """The counter's round trips: the form's token is looked up in the same query as
    the till's day; the till's count, the movement, the transaction (its id reserved
    for the entry's reference) and its audit event go in the posting's own statement,
    not one query each."""
    from django.test.utils import CaptureQueriesContext

    from banking.audit.models import AuditEvent

    with CaptureQueriesContext(connection) as queries:
        txn = deposit(teller, account, 1_000_00)
    sql = [query["sql"] for query in queries.captured_queries]
    for table in ("teller_countertransaction", "teller_cashmovement", "teller_cashbox", "audit_auditevent"):
        assert not any(s.startswith(("INSERT", "UPDATE")) and f'"{table}"' in s for s in sql), table
    assert not any('"teller_countertransaction"' in s for s in sql)  # the token is read with the till's day
    _, day = require_open_till(teller, token=txn.idempotency_key)
    assert day.taken == txn.pk and day.next_id > txn.pk
    posted = CounterTransaction.objects.get(pk=txn.pk)
    assert posted.entry.reference == txn.number and posted.status == "posted"
    assert CashMovement.objects.get(entry=posted.entry).amount == 1_000_00
    event = AuditEvent.objects.get(action="teller.cash_deposit", object_id=str(txn.pk))
    assert event.after["entry"] == posted.entry_id


def test_a_refused_entry_leaves_nothing_behind_not_even_the_activity_note(teller, account):
    """The account's activity is noted before posting; when the ledger refuses the
    entry (here: the balance went since the teller's look-up), the transaction
    rolls back whole and the refusal comes in the teller's words."""
    looked_up = fresh(account)  # shows ₹20,000 available
    withdraw(teller, account, 19_500_00)  # another withdrawal takes most of it meanwhile
    old = datetime.date(2020, 1, 1)
    DepositAccount.objects.filter(pk=account.pk).update(last_customer_activity_on=old)
    before = (entries(), CounterTransaction.objects.count(), CashMovement.objects.count(), AuditEvent.objects.count())
    with pytest.raises(InsufficientFunds, match="available"):
        withdraw(teller, looked_up, 1_000_00)
    assert (entries(), CounterTransaction.objects.count(), CashMovement.objects.count(),
            AuditEvent.objects.count()) == before
    assert fresh(account).last_customer_activity_on == old
    assert_counts_match_books()


def test_a_closed_till_takes_no_cash(teller, account):
    deposit(teller, account, 100_00)
    close_till(actor=teller, counted=find_till(teller).counts, idempotency_key=key())
    with pytest.raises(ValidationFailed, match="closed"):
        deposit(teller, account, 100_00)
    with pytest.raises(ValidationFailed, match="closed"):
        withdraw(teller, account, 100_00)


def test_a_form_without_its_token_is_refused(teller, account):
    with pytest.raises(ValidationFailed, match="no token"):
        take_cash_deposit(actor=teller, account=account, amount=100_00, counts=Denominations(n100=1),
                          idempotency_key="")
    assert not CounterTransaction.objects.exists()


def test_denominations_that_do_not_add_up_are_refused_and_nothing_moves(teller, account):
    before = entries()
    with pytest.raises(ValidationFailed, match="add up to ₹1,000.00, ₹500.00 less"):
        deposit(teller, account, 1_500_00, Denominations(n500=2))
    assert entries() == before and not CounterTransaction.objects.exists()
    assert find_till(teller).counts == OPENING


def test_the_pan_threshold(teller, account):
    deposit(teller, account, 49_900_00)  # below ₹50,000: no PAN
    with pytest.raises(ValidationFailed, match="₹50,000.00 or more needs the account holder's PAN"):
        deposit(teller, account, 50_000_00)
    with pytest.raises(ValidationFailed, match="valid PAN"):
        deposit(teller, account, 50_000_00, pan="ABCDE12345")
    txn = deposit(teller, account, 50_000_00, pan="abcde1234f")
    assert txn.pan == "ABCDE1234F" and txn.masked_pan == "ABXXX1XX4F"
    give_pan(account.customer)
    deposit(teller, account, 60_000_00)  # the holder's PAN is on file
    with pytest.raises(ValidationFailed, match="needs the depositor's PAN"):
        deposit(teller, account, 60_000_00, depositor_name="Ramesh Gupta")


def test_a_depositor_who_is_not_the_holder_is_recorded(teller, account):
    txn = deposit(teller, account, 500_00, depositor_name="  Ramesh   Gupta ", depositor_mobile="+91 98200 12345")
    assert (txn.depositor_name, txn.depositor_mobile) == ("Ramesh Gupta", "9820012345")
    assert txn.entry.narration == "Cash deposit by Ramesh Gupta"
    with pytest.raises(ValidationFailed, match="10-digit mobile"):
        deposit(teller, account, 500_00, depositor_name="Ramesh Gupta", depositor_mobile="12345")


def test_freeze_rules(branch, teller, supervisor, account):
    debit_frozen = set_status(account, DepositStatus.DEBIT_FROZEN, supervisor)
    assert deposit(teller, debit_frozen, 1_000_00).status == TransactionStatus.POSTED
    with pytest.raises(AccountFrozen, match="debit freeze"):
        withdraw(teller, debit_frozen, 1_000_00)
    frozen = set_status(debit_frozen, DepositStatus.FROZEN, supervisor)
    before = entries()
    with pytest.raises(AccountFrozen, match="frozen: no money can go in or out"):
        deposit(teller, frozen, 1_000_00)
    with pytest.raises(AccountFrozen):
        withdraw(teller, frozen, 1_000_00)
    assert entries() == before
    inoperative = set_status(open_account(branch, teller, supervisor, balance=5_000_00), DepositStatus.INOPERATIVE,
                             supervisor)
    deposit(teller, inoperative, 100_00)
    with pytest.raises(ValidationFailed, match="inoperative"):
        withdraw(teller, inoperative, 100_00)
    closed = set_status(open_account(branch, teller, supervisor), DepositStatus.CLOSED, supervisor)
    with pytest.raises(AccountClosed):
        deposit(teller, closed, 100_00)


def test_wrong_account_numbers_are_refused_in_words(account):
    assert check_number(f" {account.number[:5]} {account.number[5:]} ") == account.number
    wrong_digit = account.number[:-1] + str((int(account.number[-1]) + 1) % 10)
    with pytest.raises(ValidationFailed, match="check digit does not match"):
        check_number(wrong_digit)
    with pytest.raises(ValidationFailed, match="15 digits; this one has 14"):
        check_number(account.number[:-1])
    with pytest.raises(ValidationFailed, match="digits only"):
        check_number("12345abc")
    from banking.core.identifiers import with_check_digit

    with pytest.raises(ValidationFailed, match="There is no account"):
        look_up(with_check_digit("99999910000001"))
    found = look_up(account.number)
    assert found.account.pk == account.pk and found.names == account.customer.display_name



def test_a_submitted_deposit_reads_the_account_with_its_product_and_the_holder_on_first_use(
        account, django_assert_num_queries):
    found = find_account(f" {account.number[:5]} {account.number[5:]} ")
    assert (found.pk, found.status, found.ledger_account_id) == (account.pk, account.status,
                                                                 account.ledger_account_id)
    with django_assert_num_queries(0):
        assert found.product.kind == account.product.kind
    with django_assert_num_queries(1):
        assert found.customer.pk == account.customer_id
    with pytest.raises(ValidationFailed, match="check digit does not match"):
        find_account(account.number[:-1] + str((int(account.number[-1]) + 1) % 10))
    from banking.core.identifiers import with_check_digit

    with pytest.raises(ValidationFailed, match="There is no account"):
        find_account(with_check_digit("99999910000001"))

def test_cash_needs_an_open_till(branch, supervisor, account):
    newcomer = make_user(Role.TELLER, branch=branch, mfa=False)
    with pytest.raises(ValidationFailed, match="open your till first"):
        deposit(newcomer, account, 100_00)


# -- withdrawals ----------------------------------------------------------------------


def test_a_withdrawal_pays_out_of_the_till(teller, account):
    counts = Denominations(n500=4, n100=5)
    txn = withdraw(teller, account, 2_500_00, counts)
    assert txn.status == TransactionStatus.POSTED and txn.entry.kind == "cash_withdrawal"
    assert fresh(account).balance == 17_500_00
    assert find_till(teller).counts == OPENING - counts
    assert_counts_match_books()


def test_the_till_must_hold_the_notes_it_pays_out(teller, account):
    before = entries()
    with pytest.raises(InsufficientFunds, match=r"till does not hold 101 × ₹500 \(it has 100\)"):
        withdraw(teller, account, 50_500_00, Denominations(n500=101))
    with pytest.raises(InsufficientFunds, match="Your till holds ₹.*less than the ₹9,00,000.00 to pay"):
        withdraw(teller, account, 9_00_000_00, Denominations(n500=1800))
    assert entries() == before and find_till(teller).counts == OPENING


def test_no_more_than_the_available_balance(teller, account):
    with pytest.raises(InsufficientFunds, match="has ₹20,000.00 available, less than ₹20,500.00"):
        withdraw(teller, account, 20_500_00)
    assert fresh(account).balance == 20_000_00


# -- cheques ----------------------------------------------------------------------------


def test_cheques_paid_stopped_cancelled_and_from_another_account(branch, teller, supervisor, account):
    book = issue_cheque_book(actor=teller, account=account, leaves=10)
    first = book.first_number
    txn = withdraw(teller, account, 1_000_00, cheque_number=f"{first:06d}")
    assert txn.cheque.number == first and txn.entry.narration == f"Cash withdrawal by cheque {first:06d}"
    assert Cheque.objects.get(number=first).status == ChequeStatus.PAID
    with pytest.raises(ValidationFailed, match="already been paid"):
        withdraw(teller, account, 1_000_00, cheque_number=str(first))
    assert stop_cheques(actor=teller, account=account, first=first + 1, last=first + 3, reason="Lost") == 3
    with pytest.raises(ValidationFailed, match=f"Payment of cheque {first + 2:06d} is stopped: Lost"):
        withdraw(teller, account, 1_000_00, cheque_number=str(first + 2))
    with pytest.raises(ValidationFailed, match="already stopped"):
        stop_cheques(actor=teller, account=account, first=first + 3, reason="Again")
    cancel_cheque(actor=teller, account=account, number=first + 4, reason="Spoilt")
    with pytest.raises(ValidationFailed, match="was cancelled: Spoilt"):
        withdraw(teller, account, 1_000_00, cheque_number=str(first + 4))

    other = open_account(branch, teller, supervisor, balance=5_000_00)
    other_book = issue_cheque_book(actor=teller, account=other, leaves=10)
    assert other_book.first_number == book.last_number + 1  # numbers run on in the branch
    before = entries()
    with pytest.raises(ValidationFailed, match="from another account's cheque book"):
        withdraw(teller, account, 1_000_00, cheque_number=str(other_book.first_number))
    with pytest.raises(ValidationFailed, match="was not issued to account"):
        withdraw(teller, account, 1_000_00, cheque_number="999999")
    with pytest.raises(ValidationFailed, match="overlap a book"):
        issue_cheque_book(actor=teller, account=other, leaves=20, first_number=first + 5)
    with pytest.raises(ValidationFailed, match="another account's cheque book"):
        stop_cheques(actor=teller, account=account, first=other_book.first_number, reason="Lost")
    assert entries() == before


# -- the teller's limit -------------------------------------------------------------------


def test_over_limit_cash_waits_for_approval_and_posts_exactly_once(branch, supervisor, account):
    teller = teller_with_open_till(branch, supervisor, cash_limit=10_000_00)
    before = entries()
    txn = withdraw(teller, account, 15_000_00)
    assert txn.status == TransactionStatus.PENDING and txn.is_waiting
    assert txn.approval.kind == CASH_OVER_LIMIT and txn.approval.amount == 15_000_00
    assert entries() == before and fresh(account).balance == 20_000_00
    with pytest.raises(NotPermitted):
        approve_request(actor=teller, request_id=txn.approval_id)
    approve_request(actor=supervisor, request_id=txn.approval_id)
    txn.refresh_from_db()
    assert txn.status == TransactionStatus.POSTED and txn.entry.checker == supervisor
    assert entries() == before + 1
    assert fresh(account).balance == 5_000_00
    with pytest.raises(Exception, match="already approved"):
        approve_request(actor=supervisor, request_id=txn.approval_id)
    assert entries() == before + 1
    assert_counts_match_books()


def test_a_new_teller_s_cash_limit_is_two_lakh_and_only_more_waits(branch, supervisor, account):
    newcomer = make_user(Role.TELLER, branch=branch, mfa=False)
    assert newcomer.staff_profile.cash_limit == 2_00_000_00
    teller = teller_with_open_till(branch, supervisor)  # the limit left as it comes
    at_limit = deposit(teller, account, 2_00_000_00, pan="ABCDE1234F")
    assert at_limit.status == TransactionStatus.POSTED and at_limit.approval_id is None
    # Cash is whole rupees, so the least cash above the limit is ₹2,00,001.
    above = deposit(teller, account, 2_00_001_00, pan="ABCDE1234F")
    assert above.status == TransactionStatus.PENDING and above.approval.kind == CASH_OVER_LIMIT
    assert "above" in above.approval.summary and "limit of ₹2,00,000.00" in above.approval.summary
    assert fresh(account).balance == 20_000_00 + 2_00_000_00
    assert find_till(teller).counts == OPENING + Denominations(n500=400)


def test_a_rejected_over_limit_deposit_posts_nothing(branch, supervisor, account):
    teller = teller_with_open_till(branch, supervisor, cash_limit=1_000_00)
    before = fresh(account).last_customer_activity_on
    txn = deposit(teller, account, 5_000_00)
    assert fresh(account).last_customer_activity_on == before  # nothing the customer did has happened yet
    reject_request(actor=supervisor, request_id=txn.approval_id, reason="Customer left")
    txn.refresh_from_db()
    assert txn.status == TransactionStatus.PENDING and txn.is_refused and txn.shown_status == "Rejected"
    assert fresh(account).balance == 20_000_00
    assert find_till(teller).counts == OPENING


def test_an_approval_fails_cleanly_when_the_till_has_paid_the_notes_meanwhile(branch, supervisor, account):
    teller = teller_with_open_till(branch, supervisor, Denominations(n500=30), cash_limit=10_000_00)
    rich = open_account(branch, teller, supervisor, balance=50_000_00)
    waiting = withdraw(teller, rich, 12_000_00, Denominations(n500=24))
    withdraw(teller, account, 10_000_00, Denominations(n500=20))
    with pytest.raises(InsufficientFunds, match="no longer holds 24 × ₹500"):
        approve_request(actor=supervisor, request_id=waiting.approval_id)
    assert ApprovalRequest.objects.get(pk=waiting.approval_id).status == Status.FAILED
    assert fresh(rich).balance == 50_000_00
    assert_counts_match_books()


def test_a_till_with_a_transaction_waiting_cannot_close(branch, supervisor, account):
    teller = teller_with_open_till(branch, supervisor, cash_limit=1_000_00)
    deposit(teller, account, 5_000_00)
    with pytest.raises(ValidationFailed, match="still waiting for approval"):
        close_till(actor=teller, counted=OPENING, idempotency_key=key())


# -- transfers ----------------------------------------------------------------------------


def test_a_transfer_at_the_counter(branch, teller, supervisor, account):
    other = open_account(branch, teller, supervisor)
    txn = transfer_at_counter(actor=teller, account=account, to_account=other, amount=7_500_50,
                              idempotency_key=key())
    assert txn.status == TransactionStatus.POSTED and txn.till is None
    assert fresh(account).balance == 12_499_50 and fresh(other).balance == 7_500_50
    with pytest.raises(ValidationFailed, match="same"):
        transfer_at_counter(actor=teller, account=account, to_account=account, amount=100, idempotency_key=key())
    with pytest.raises(InsufficientFunds):
        transfer_at_counter(actor=teller, account=account, to_account=other, amount=50_000_00,
                            idempotency_key=key())


def test_a_transfer_above_the_teller_s_limit_waits_for_a_supervisor(branch, teller, supervisor):
    rich = open_account(branch, teller, supervisor, balance=5_00_000_00)
    other = open_account(branch, teller, supervisor)
    at_limit = transfer_at_counter(actor=teller, account=rich, to_account=other, amount=2_00_000_00,
                                   idempotency_key=key())
    assert at_limit.status == TransactionStatus.POSTED
    before = entries()
    above = transfer_at_counter(actor=teller, account=fresh(rich), to_account=other, amount=2_00_000_01,
                                idempotency_key=key())
    assert above.status == TransactionStatus.PENDING and above.approval.kind == CASH_OVER_LIMIT
    assert entries() == before and fresh(rich).balance == 3_00_000_00 and fresh(other).balance == 2_00_000_00
    approve_request(actor=supervisor, request_id=above.approval_id)
    above.refresh_from_db()
    assert above.status == TransactionStatus.POSTED and above.entry.checker == supervisor
    assert entries() == before + 1
    assert fresh(rich).balance == 99_999_99 and fresh(other).balance == 4_00_000_01


def test_a_reversed_transfer_restores_both_accounts(branch, teller, supervisor, account):
    other = open_account(branch, teller, supervisor, balance=1_000_00)
    txn = transfer_at_counter(actor=teller, account=account, to_account=other, amount=7_500_50,
                              idempotency_key=key())
    colleague = teller_with_open_till(branch, supervisor)  # a transfer moved no cash: any teller may ask
    request = request_reversal(actor=colleague, transaction_id=txn.pk, reason="Wrong beneficiary")
    assert fresh(account).balance == 12_499_50 and fresh(other).balance == 8_500_50
    approve_request(actor=supervisor, request_id=request.pk)
    txn.refresh_from_db()
    assert txn.status == TransactionStatus.REVERSED and txn.reversal_entry.reversal_of_id == txn.entry_id
    assert fresh(account).balance == 20_000_00 and fresh(other).balance == 1_000_00
    assert find_till(teller).counts == OPENING and find_till(colleague).counts == OPENING
    assert_counts_match_books()


def test_a_transfer_whose_money_has_gone_on_is_not_reversed(branch, teller, supervisor, account):
    other = open_account(branch, teller, supervisor)
    txn = transfer_at_counter(actor=teller, account=account, to_account=other, amount=5_000_00,
                              idempotency_key=key())
    request = request_reversal(actor=teller, transaction_id=txn.pk, reason="Wrong beneficiary")
    withdraw(teller, fresh(other), 4_000_00)  # the beneficiary drew most of it meanwhile
    with pytest.raises(InsufficientFunds, match=f"Account {other.number} no longer has ₹5,000.00 available"):
        approve_request(actor=supervisor, request_id=request.pk)
    assert ApprovalRequest.objects.get(pk=request.pk).status == Status.FAILED
    assert fresh(account).balance == 15_000_00 and fresh(other).balance == 1_000_00


# -- reversal ---------------------------------------------------------------------------------


def test_a_reversed_deposit_restores_the_till_and_the_account(teller, supervisor, account):
    counts = Denominations(n500=10, n200=5)
    txn = deposit(teller, account, 6_000_00, counts)
    request = request_reversal(actor=teller, transaction_id=txn.pk, reason="Credited to the wrong account")
    assert fresh(account).balance == 26_000_00  # nothing until a supervisor approves
    with pytest.raises(ValidationFailed, match="already waiting"):
        request_reversal(actor=teller, transaction_id=txn.pk, reason="Again")
    approve_request(actor=supervisor, request_id=request.pk)
    txn.refresh_from_db()
    assert txn.status == TransactionStatus.REVERSED and txn.reversal_entry.reversal_of_id == txn.entry_id
    assert fresh(account).balance == 20_000_00
    assert find_till(teller).counts == OPENING
    with pytest.raises(ValidationFailed, match="already been reversed"):
        request_reversal(actor=teller, transaction_id=txn.pk, reason="Again")
    assert_counts_match_books()


def test_only_the_till_s_teller_or_a_supervisor_asks_to_reverse_its_cash(branch, teller, supervisor, account):
    colleague = teller_with_open_till(branch, supervisor)
    txn = deposit(teller, account, 1_000_00, Denominations(n500=2))
    with pytest.raises(NotPermitted, match="its teller or a supervisor asks for its reversal"):
        request_reversal(actor=colleague, transaction_id=txn.pk, reason="Not mine")
    assert not ApprovalRequest.objects.filter(kind=COUNTER_REVERSAL).exists()
    assert request_reversal(actor=supervisor, transaction_id=txn.pk, reason="Wrong account").maker == supervisor


@pytest.mark.django_db(transaction=True)
def test_a_reversal_is_asked_for_in_a_transaction_of_its_own(teller, account):
    """As a view calls it: no transaction around it (the transaction is locked while
    the request is made)."""
    txn = deposit(teller, account, 1_000_00, Denominations(n500=2))
    request = request_reversal(actor=teller, transaction_id=txn.pk, reason="Wrong account")
    txn.refresh_from_db()
    assert txn.reversal_request_id == request.pk


def test_a_reversed_withdrawal_puts_the_notes_back(teller, supervisor, account):
    book = issue_cheque_book(actor=teller, account=account, leaves=10)
    txn = withdraw(teller, account, 3_000_00, Denominations(n500=6), cheque_number=str(book.first_number))
    approve_request(actor=supervisor,
                    request_id=request_reversal(actor=teller, transaction_id=txn.pk, reason="Wrong account").pk)
    assert fresh(account).balance == 20_000_00
    assert find_till(teller).counts == OPENING
    assert Cheque.objects.get(number=book.first_number).status == ChequeStatus.UNUSED
    assert_counts_match_books()
