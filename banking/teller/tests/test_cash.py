"""The vault and the tills: issue, open, return, close with a difference, sign-off, branch close."""

import datetime

import pytest

from banking.approvals.actions import approve_request, reject_request
from banking.approvals.models import ApprovalRequest, Status
from banking.audit.models import AuditEvent
from banking.core.errors import InsufficientFunds, NotPermitted, ValidationFailed
from banking.ledger.chart import TELLER_SUSPENSE
from banking.ledger.models import LedgerAccount
from banking.testing import make_user
from banking.users.roles import Role

from ..actions import (
    TILL_CLOSE,
    branch_close_problems,
    close_branch,
    close_till,
    find_till,
    fund_vault,
    open_till,
    request_cash_from_vault,
    request_cash_return,
)
from ..denominations import Denominations, check_adds_up
from ..models import TILL_HOLDING_LIMIT, BranchDay, CashBox, CashMovement, TillDay, TillDayStatus
from ..reports import cash_position
from .factories import (
    OPENING,
    VAULT_CASH,
    a_day_of_cash_then_the_next,
    key,
    open_account,
    supervisor_for,
    teller_with_open_till,
    vault_of,
)

pytestmark = pytest.mark.django_db


def assert_counts_match_books():
    """Every box's count is worth exactly its GL balance."""
    for box in CashBox.objects.select_related("ledger_account"):
        assert box.cash_value == box.ledger_account.balance, box


def suspense_balance():
    return LedgerAccount.objects.get(code=TELLER_SUSPENSE).balance


# -- denominations ----------------------------------------------------------------


def test_denominations_must_add_up_to_the_amount():
    counts = Denominations(n500=2, n100=3)
    check_adds_up(counts, 1300_00)
    with pytest.raises(ValidationFailed, match="add up to ₹1,300.00, ₹200.00 less than the amount of ₹1,500.00"):
        check_adds_up(counts, 1500_00)
    with pytest.raises(ValidationFailed, match="whole rupees"):
        check_adds_up(counts, 1300_50)


def test_a_negative_or_fractional_count_is_refused_in_words():
    with pytest.raises(ValidationFailed, match="count of ₹500 notes cannot be negative"):
        Denominations.parse({"n500": "-2"})
    with pytest.raises(ValidationFailed, match="whole number"):
        Denominations.parse({"n100": "2.5"})
    assert Denominations.parse({"n500": "2", "coins": "", "n10": " 3 "}) == Denominations(n500=2, n10=3)


def test_largest_first_respects_what_the_till_holds():
    assert Denominations.largest_first(1780_00) == Denominations(n500=3, n200=1, n50=1, n20=1, n10=1)
    held = Denominations(n500=1, n100=20)
    assert Denominations.largest_first(1700_00, held) == Denominations(n500=1, n100=12)
    assert Denominations.largest_first(1700_00, Denominations(n500=1)) is None


# -- the vault ------------------------------------------------------------------------


def test_funding_the_vault_counts_and_posts_once(branch):
    vault = vault_of(branch)
    assert vault.counts == VAULT_CASH
    token = key()
    first = fund_vault(actor=None, branch=branch, counts=Denominations(n500=10), idempotency_key=token)
    again = fund_vault(actor=None, branch=branch, counts=Denominations(n500=10), idempotency_key=token)
    assert first.pk == again.pk
    vault.refresh_from_db()
    assert vault.counts == VAULT_CASH + Denominations(n500=10)
    assert_counts_match_books()


# -- vault to till and back -------------------------------------------------------------


def test_cash_moves_from_the_vault_to_a_till_only_when_the_head_teller_approves(branch, supervisor):
    teller = make_user(Role.TELLER, branch=branch, mfa=False)
    counts = Denominations(n500=10, n100=20)
    request = request_cash_from_vault(actor=teller, counts=counts)
    till = find_till(teller)
    assert till.counts.is_zero()  # nothing moves yet
    with pytest.raises(NotPermitted):
        approve_request(actor=teller, request_id=request.pk)
    approve_request(actor=supervisor, request_id=request.pk)
    till.refresh_from_db()
    assert till.counts == counts
    assert vault_of(branch).counts == VAULT_CASH - counts
    assert CashMovement.objects.filter(box=till, kind="issue", amount=counts.value).exists()
    assert_counts_match_books()


def test_the_vault_must_hold_the_notes_asked_for(branch, supervisor):
    teller = make_user(Role.TELLER, branch=branch, mfa=False)
    with pytest.raises(InsufficientFunds, match="vault does not hold 2001 × ₹500"):
        request_cash_from_vault(actor=teller, counts=Denominations(n500=2001))


def test_opening_count_must_match_what_the_vault_issued(branch, supervisor):
    teller = make_user(Role.TELLER, branch=branch, mfa=False)
    issued = Denominations(n500=10, n100=10)
    approve_request(actor=supervisor, request_id=request_cash_from_vault(actor=teller, counts=issued).pk)
    with pytest.raises(ValidationFailed, match=r"counted ₹5,900.00 but the vault issued ₹6,000.00.*₹100 notes: "
                                               r"counted 9, issued 10"):
        open_till(actor=teller, counted=Denominations(n500=10, n100=9))
    assert not TillDay.objects.exists()
    day = open_till(actor=teller, counted=issued)
    assert day.status == TillDayStatus.OPEN and day.opening_counts == issued
    with pytest.raises(ValidationFailed, match="already open"):
        open_till(actor=teller, counted=issued)


def test_returning_cash_to_the_vault(branch, supervisor, teller):
    back = Denominations(n500=50)
    request = request_cash_return(actor=teller, counts=back)
    approve_request(actor=supervisor, request_id=request.pk)
    assert find_till(teller).counts == OPENING - back
    assert vault_of(branch).counts == VAULT_CASH - OPENING + back
    with pytest.raises(InsufficientFunds, match="does not hold 51 × ₹500"):
        request_cash_return(actor=teller, counts=Denominations(n500=51))
    assert_counts_match_books()


def test_a_return_fails_at_approval_if_the_till_no_longer_holds_the_notes(branch, supervisor, teller):
    request = request_cash_return(actor=teller, counts=Denominations(n500=100))
    other = request_cash_return(actor=teller, counts=Denominations(n500=100))
    approve_request(actor=supervisor, request_id=request.pk)
    with pytest.raises(InsufficientFunds):
        approve_request(actor=supervisor, request_id=other.pk)
    assert ApprovalRequest.objects.get(pk=other.pk).status == Status.FAILED
    assert_counts_match_books()


# -- closing a till -----------------------------------------------------------------------


def test_a_balanced_close_is_signed_off_and_returns_the_cash_to_the_vault(branch, supervisor, teller):
    day = close_till(actor=teller, counted=OPENING, idempotency_key=key())
    assert day.status == TillDayStatus.COUNTED and day.difference == 0 and not day.is_flagged
    assert day.close_request.kind == TILL_CLOSE
    with pytest.raises(NotPermitted):
        approve_request(actor=teller, request_id=day.close_request_id)
    approve_request(actor=supervisor, request_id=day.close_request_id)
    day.refresh_from_db()
    assert day.status == TillDayStatus.SIGNED_OFF and day.signed_off_by == supervisor
    assert find_till(teller).counts.is_zero()
    assert vault_of(branch).counts == VAULT_CASH
    assert_counts_match_books()


def test_a_shortage_is_posted_to_teller_suspense_and_flagged(branch, supervisor, teller):
    counted = OPENING - Denominations(n100=1)
    before = suspense_balance()
    day = close_till(actor=teller, counted=counted, idempotency_key=key())
    assert day.difference == -100_00 and day.is_short and day.difference_label == "Short by ₹100.00"
    assert suspense_balance() == before + 100_00
    assert find_till(teller).counts == counted
    assert "short by ₹100.00" in day.close_request.summary
    assert AuditEvent.objects.filter(action="teller.cash_difference", object_id=str(day.pk)).exists()
    assert_counts_match_books()
    approve_request(actor=supervisor, request_id=day.close_request_id)
    assert vault_of(branch).counts == VAULT_CASH - Denominations(n100=1)
    assert_counts_match_books()


def test_an_excess_is_posted_the_other_way(branch, supervisor, teller):
    before = suspense_balance()
    day = close_till(actor=teller, counted=OPENING + Denominations(n50=1), idempotency_key=key())
    assert day.difference == 50_00 and day.difference_label == "Excess by ₹50.00"
    assert suspense_balance() == before - 50_00
    assert_counts_match_books()


def test_pressing_close_twice_closes_once(branch, supervisor, teller):
    token = key()
    first = close_till(actor=teller, counted=OPENING - Denominations(n10=1), idempotency_key=token)
    again = close_till(actor=teller, counted=OPENING - Denominations(n10=1), idempotency_key=token)
    assert first.pk == again.pk
    assert ApprovalRequest.objects.filter(kind=TILL_CLOSE).count() == 1
    assert suspense_balance() == 10_00


def test_a_rejected_sign_off_lets_the_teller_count_again(branch, supervisor, teller):
    day = close_till(actor=teller, counted=OPENING - Denominations(n100=1), idempotency_key=key())
    with pytest.raises(ValidationFailed, match="waiting for the head teller"):
        close_till(actor=teller, counted=OPENING, idempotency_key=key())
    reject_request(actor=supervisor, request_id=day.close_request_id, reason="Count again with me")
    # The ₹100 note is found: the recount posts an excess that clears the shortage.
    day = close_till(actor=teller, counted=OPENING, idempotency_key=key())
    assert day.difference == 100_00
    assert suspense_balance() == 0
    approve_request(actor=supervisor, request_id=day.close_request_id)
    assert vault_of(branch).counts == VAULT_CASH
    assert_counts_match_books()


def test_a_till_cannot_close_while_its_requests_wait(branch, supervisor, teller):
    request_cash_from_vault(actor=teller, counts=Denominations(n500=1))
    with pytest.raises(ValidationFailed, match="1 of your requests is still waiting"):
        close_till(actor=teller, counted=OPENING, idempotency_key=key())


# -- the branch -------------------------------------------------------------------------------


def test_the_branch_closes_only_when_every_till_is_signed_off_and_empty(branch, supervisor, teller):
    other = teller_with_open_till(branch, supervisor, Denominations(n100=10))
    problems = branch_close_problems(branch)
    assert len(problems) == 2 and all("still open" in p for p in problems)
    with pytest.raises(ValidationFailed, match="cannot close yet"):
        close_branch(actor=supervisor, branch=branch)
    for person, counts in [(teller, OPENING), (other, Denominations(n100=10))]:
        day = close_till(actor=person, counted=counts, idempotency_key=key())
        assert any("not yet signed off" in p for p in branch_close_problems(branch))
        approve_request(actor=supervisor, request_id=day.close_request_id)
    branch_day = close_branch(actor=supervisor, branch=branch)
    assert branch_day.vault_balance == VAULT_CASH.value
    assert BranchDay.objects.count() == 1
    with pytest.raises(ValidationFailed, match="already closed"):
        close_branch(actor=supervisor, branch=branch)
    late = make_user(Role.TELLER, branch=branch, mfa=False)
    with pytest.raises(ValidationFailed, match="closed its cash"):
        open_till(actor=late, counted=Denominations())


def test_the_cash_position_report_by_denomination(branch, supervisor, teller):
    close_till(actor=teller, counted=OPENING - Denominations(n100=1), idempotency_key=key())
    report = cash_position(branch, TillDay.objects.get().business_date)
    vault, till = report.boxes
    assert vault.box.is_vault
    # The vault was funded and issued the same day.
    assert vault.opening.is_zero()
    assert vault.receipts == VAULT_CASH and vault.payments == OPENING
    assert vault.closing == VAULT_CASH - OPENING
    assert till.opening.is_zero() and till.receipts == OPENING
    assert till.payments == Denominations(n100=1)
    assert till.closing == OPENING - Denominations(n100=1)
    assert report.total.closing == VAULT_CASH - Denominations(n100=1)
    # the branch received the remittance and lost a ₹100 note; the vault's issue to the till is internal
    assert report.total.receipts == VAULT_CASH and report.total.payments == Denominations(n100=1)
    assert report.total.opening.is_zero()
    assert till.day.difference == -100_00


def test_a_supervisor_of_another_branch_cannot_sign_off(branch, supervisor, teller):
    from ..tests.factories import funded_branch

    elsewhere = supervisor_for(funded_branch())
    day = close_till(actor=teller, counted=OPENING, idempotency_key=key())
    with pytest.raises(NotPermitted, match="another branch"):
        approve_request(actor=elsewhere, request_id=day.close_request_id)


def test_amounts_in_words():
    from ..words import rupees_in_words

    assert rupees_in_words(1_20_500_00) == "Rupees One Lakh Twenty Thousand Five Hundred Only"
    assert rupees_in_words(12_34_56_789_50) == (
        "Rupees Twelve Crore Thirty Four Lakh Fifty Six Thousand Seven Hundred Eighty Nine and Fifty Paise Only")
    assert rupees_in_words(100_00) == "Rupees One Hundred Only"


# -- the till's holding limit -------------------------------------------------------------


def test_a_till_is_over_its_holding_limit_only_above_it(branch, supervisor, teller):
    till = find_till(teller)
    assert till.holding_limit == TILL_HOLDING_LIMIT == 5_00_000_00  # every new till gets the branch's limit
    till.holding_limit = till.cash_value
    assert till.over_holding_limit == 0  # at the limit: no prompt
    till.holding_limit = till.cash_value - 1
    assert till.over_holding_limit == 1  # one paisa over
    till.holding_limit = till.cash_value - 10_000_00
    assert till.over_holding_limit == 10_000_00  # the excess, which the teller is asked to return
    till.holding_limit = 0
    assert till.over_holding_limit == 0  # no limit at all
    vault = vault_of(branch)
    assert vault.holding_limit == 0 and vault.cash_value > TILL_HOLDING_LIMIT and vault.over_holding_limit == 0


# -- the cash position of an earlier date -------------------------------------------------


def test_the_cash_position_of_an_earlier_date_shows_only_that_day(branch, supervisor, teller):
    account = open_account(branch, teller, supervisor, balance=10_000_00)
    first = a_day_of_cash_then_the_next(teller, account)
    # The next day: a remittance into the vault, and a colleague's till opened for the first time.
    fund_vault(actor=None, branch=branch, counts=Denominations(n100=10), idempotency_key=key())
    colleague = teller_with_open_till(branch, supervisor, Denominations(n200=5))

    earlier = cash_position(branch, first)
    boxes = {position.box.pk: position for position in earlier.boxes}
    # The colleague's till did nothing on the first date, so it is not on that day's report.
    assert set(boxes) == {vault_of(branch).pk, find_till(teller).pk}
    vault, till = boxes[vault_of(branch).pk], boxes[find_till(teller).pk]
    assert vault.opening.is_zero() and vault.receipts == VAULT_CASH and vault.payments == OPENING
    assert vault.closing == VAULT_CASH - OPENING  # not the next day's remittance
    assert till.opening.is_zero() and till.receipts == OPENING + Denominations(n500=3)
    assert till.payments == Denominations(n500=2) and till.closing == OPENING + Denominations(n500=1)
    assert earlier.total.receipts == VAULT_CASH + Denominations(n500=3)
    assert earlier.total.payments == Denominations(n500=2)
    assert earlier.total.closing == VAULT_CASH + Denominations(n500=1)

    later = cash_position(branch, first + datetime.timedelta(days=1))
    boxes = {position.box.pk: position for position in later.boxes}
    vault, till, new = boxes[vault_of(branch).pk], boxes[find_till(teller).pk], boxes[find_till(colleague).pk]
    assert vault.opening == VAULT_CASH - OPENING
    assert vault.receipts == Denominations(n100=10) and vault.payments == Denominations(n200=5)
    assert till.opening == till.closing == OPENING + Denominations(n500=1)
    assert till.receipts.is_zero() and till.payments.is_zero()
    assert new.opening.is_zero() and new.receipts == new.closing == Denominations(n200=5)
    assert later.total.opening == earlier.total.closing
    assert later.total.receipts == Denominations(n100=10) and later.total.payments.is_zero()
