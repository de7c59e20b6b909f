"""Cash for a loan over the teller's cash limit (maker-checker), a secured loan's
security valuation as provisioning reads it, and marking an NPA a loss asset."""

import datetime
from decimal import Decimal

import pytest

from banking.approvals.actions import approve_request, reject_request
from banking.approvals.models import ApprovalRequest
from banking.core.errors import InvalidAmount, NotPermitted, StaleRequest, ValidationFailed
from banking.ledger.chart import LOAN_PROVISION_EXPENSE, LOAN_PROVISIONS
from banking.ledger.models import JournalEntry, LedgerAccount
from banking.loans import security, servicing
from banking.loans.actions import disburse_loan, enter_gold_rate
from banking.loans.eod import classify_loans
from banking.loans.models import LoanBook, LoanDayStatus, LoanStatus, Repayment, SecurityValuation
from banking.teller.actions import fund_vault
from banking.teller.tests.factories import VAULT_CASH, teller_with_open_till
from banking.testing import make_user

from .factories import key
from .test_servicing import notes, set_date

DISBURSED = datetime.date(2026, 1, 5)
FIRST_DUE = datetime.date(2026, 2, 5)
NPA_DAY = datetime.date(2026, 5, 20)  # 104 days past the first due date


@pytest.fixture
def loan(bank):
    set_date(DISBURSED)
    loan = bank.sanctioned()
    disburse_loan(actor=bank.teller, loan=loan, amount=5_00_000_00, idempotency_key=key())
    loan.refresh_from_db()
    return loan


@pytest.fixture
def small_till(bank, loan):
    set_date(FIRST_DUE)
    fund_vault(actor=None, branch=bank.branch, counts=VAULT_CASH, idempotency_key=key())
    return teller_with_open_till(bank.branch, bank.supervisor, cash_limit=5_000_00, mfa=False)


# -- cash over the teller's limit ------------------------------------------------------------


def test_cash_over_the_limit_waits_for_a_supervisor_then_posts(bank, loan, small_till):
    form_key = key()
    queued = servicing.repay(actor=small_till, loan=loan, amount=10_747_00, source="cash", counts=notes(10_747),
                             idempotency_key=form_key, queue_over_limit=True)
    assert isinstance(queued, ApprovalRequest) and queued.kind == servicing.CASH_OVER_LIMIT_KIND
    assert queued.amount == 10_747_00 and not Repayment.objects.exists()
    assert servicing.dues(loan).total == 10_746_95
    # The same form again: the same request, nothing more.
    again = servicing.repay(actor=small_till, loan=loan, amount=10_747_00, source="cash", counts=notes(10_747),
                            idempotency_key=form_key, queue_over_limit=True)
    assert again.pk == queued.pk and ApprovalRequest.objects.filter(kind=servicing.CASH_OVER_LIMIT_KIND).count() == 1
    with pytest.raises(NotPermitted):
        approve_request(actor=small_till, request_id=queued.pk)
    approve_request(actor=bank.supervisor, request_id=queued.pk)
    (repayment,) = Repayment.objects.filter(loan=loan)
    assert repayment.amount == 10_747_00 and repayment.received_by == small_till
    assert JournalEntry.objects.get(pk=repayment.entry_id).checker == bank.supervisor
    assert servicing.dues(loan).total == 0
    loan.refresh_from_db()
    assert LedgerAccount.objects.get(pk=loan.ledger_account_id).balance == sum(
        row.principal - row.principal_paid for row in loan.current_schedule.instalments.all())


def test_over_the_limit_without_the_queue_is_refused_in_words(bank, loan, small_till):
    with pytest.raises(ValidationFailed, match="above your cash limit of ₹5,000.00"):
        servicing.repay(actor=small_till, loan=loan, amount=10_747_00, source="cash", counts=notes(10_747),
                        idempotency_key=key())
    assert not Repayment.objects.exists()


def test_cash_that_does_not_add_up_is_not_queued(bank, loan, small_till):
    with pytest.raises(ValidationFailed):
        servicing.repay(actor=small_till, loan=loan, amount=10_747_00, source="cash", counts=notes(10_000),
                        idempotency_key=key(), queue_over_limit=True)
    with pytest.raises(ValidationFailed, match="Only ₹10,746.95 is due"):
        servicing.repay(actor=small_till, loan=loan, amount=20_000_00, source="cash", counts=notes(20_000),
                        idempotency_key=key(), queue_over_limit=True)
    assert not ApprovalRequest.objects.filter(kind=servicing.CASH_OVER_LIMIT_KIND).exists()


def rupees_up(paise):
    return -(-paise // 100) * 100


def cash_figures(loan, teller):
    """What cash for a loan may move: its receipts, the entries, the teller's till, the
    loan's sub-ledger, its schedule and status."""
    loan.refresh_from_db()
    return {"repayments": Repayment.objects.filter(loan=loan).count(), "entries": JournalEntry.objects.count(),
            "till": LedgerAccount.objects.get(cash_box__teller=teller).balance,
            "loan": LedgerAccount.objects.get(pk=loan.ledger_account_id).balance,
            "schedule": loan.current_schedule.pk, "status": loan.status}


def queue_prepayment(loan, teller, principal=1_00_000_00, choice="emi"):
    cash = rupees_up(servicing.preview_prepayment(loan, principal, choice).total)
    return cash, servicing.part_prepay(actor=teller, loan=loan, principal=principal, choice=choice, source="cash",
                                       amount=cash, counts=notes(cash // 100), idempotency_key=key(),
                                       queue_over_limit=True)


def queue_foreclosure(loan, teller):
    cash = rupees_up(servicing.foreclosure_quote(loan).total)
    return cash, servicing.foreclose(actor=teller, loan=loan, amount=cash, source="cash", counts=notes(cash // 100),
                                     idempotency_key=key(), queue_over_limit=True)


@pytest.mark.parametrize("queue", [queue_prepayment, queue_foreclosure])
def test_a_prepayment_or_foreclosure_in_cash_over_the_limit_waits_then_posts_once(bank, loan, small_till, queue):
    before = cash_figures(loan, small_till)
    cash, queued = queue(loan, small_till)
    assert isinstance(queued, ApprovalRequest) and queued.kind == servicing.CASH_OVER_LIMIT_KIND
    assert queued.amount == cash and queued.status == "pending"
    assert cash_figures(loan, small_till) == before, "queued cash moved something"
    with pytest.raises(NotPermitted):
        approve_request(actor=small_till, request_id=queued.pk)
    approve_request(actor=bank.supervisor, request_id=queued.pk)
    after = cash_figures(loan, small_till)
    with pytest.raises(StaleRequest):
        approve_request(actor=bank.supervisor, request_id=queued.pk)
    queued.refresh_from_db()
    assert servicing.repay_approved_cash(queued, bank.supervisor)["receipt"] == queued.result["receipt"]
    assert cash_figures(loan, small_till) == after, "a second approval posted again"
    (repayment,) = Repayment.objects.filter(loan=loan)
    assert (repayment.kind, repayment.amount, repayment.received_by) == (queued.payload["what"], cash, small_till)
    assert JournalEntry.objects.get(pk=repayment.entry_id).checker == bank.supervisor
    assert after["entries"] == before["entries"] + 1 and after["till"] == before["till"] + cash
    principal = sum(line.amount for line in repayment.allocations.filter(part="principal"))
    assert principal > 0 and after["loan"] == before["loan"] - principal
    loan.refresh_from_db()
    if repayment.kind == "foreclosure":
        assert after["loan"] == 0 and loan.status == LoanStatus.CLOSED
    else:
        assert repayment.choice == "emi" and loan.current_schedule.reason == "prepayment"
        rows = loan.current_schedule.instalments.all()
        assert after["loan"] == sum(row.principal - row.principal_paid for row in rows)


@pytest.mark.parametrize("queue", [queue_prepayment, queue_foreclosure])
def test_a_rejected_prepayment_or_foreclosure_in_cash_posts_nothing(bank, loan, small_till, queue):
    before = cash_figures(loan, small_till)
    _cash, queued = queue(loan, small_till)
    reject_request(actor=bank.supervisor, request_id=queued.pk, reason="The notes do not match the count")
    queued.refresh_from_db()
    assert queued.status == "rejected" and cash_figures(loan, small_till) == before


def test_a_prepayment_or_foreclosure_that_does_not_add_up_is_not_queued(bank, loan, small_till):
    cash = rupees_up(servicing.preview_prepayment(loan, 1_00_000_00, "emi").total)
    with pytest.raises(ValidationFailed):
        servicing.part_prepay(actor=small_till, loan=loan, principal=1_00_000_00, choice="emi", source="cash",
                              amount=cash, counts=notes(cash // 100 - 500), idempotency_key=key(),
                              queue_over_limit=True)
    with pytest.raises(ValidationFailed, match="Today's foreclosure amount is"):
        servicing.foreclose(actor=small_till, loan=loan, amount=1_00_000_00, source="cash", counts=notes(1_00_000),
                            idempotency_key=key(), queue_over_limit=True)
    assert not ApprovalRequest.objects.filter(kind=servicing.CASH_OVER_LIMIT_KIND).exists()


# -- security valuation ------------------------------------------------------------------------


@pytest.fixture
def home_loan(bank):
    set_date(DISBURSED)
    bank.repo("5.50")
    loan = bank.sanctioned(checker=bank.manager, product="HL", amount=20_00_000_00, months=120,
                           monthly_income=3_00_000_00)
    disburse_loan(actor=bank.teller, loan=loan, amount=20_00_000_00, idempotency_key=key())
    loan.refresh_from_db()
    return loan


def test_a_valuers_figure_caps_the_secured_portion_of_the_provision(bank, home_loan):
    row = security.enter_valuation(actor=bank.teller, loan=home_loan, value=8_00_000_00,
                                   note="R. Iyer, report V-118")
    assert row.method == "valuer"
    set_date(NPA_DAY)
    classify_loans(date=NPA_DAY)
    status = LoanDayStatus.objects.get(loan=home_loan, date=NPA_DAY)
    assert status.classification == "substandard" and status.secured == 8_00_000_00
    unsecured = status.outstanding - 8_00_000_00
    # Sub-standard: 15% of the secured portion, 25% of the rest, rounded once.
    assert status.provision == int((Decimal(8_00_000_00) * 15 + Decimal(unsecured) * 25) / 100 + Decimal("0.5"))
    assert LedgerAccount.objects.get(code=LOAN_PROVISIONS).balance == status.provision


@pytest.mark.parametrize(("value", "note", "error", "words"), [
    (0, "Valuer", InvalidAmount, "above zero"),
    (10_00_000_00, "  ", ValidationFailed, "Name the valuer"),
    ("1000", "Valuer", InvalidAmount, "rupees and paise"),
])
def test_bad_valuations_are_refused_and_nothing_is_written(bank, home_loan, value, note, error, words):
    with pytest.raises(error, match=words):
        security.enter_valuation(actor=bank.teller, loan=home_loan, value=value, note=note)
    assert not SecurityValuation.objects.exists()


def test_an_unsecured_loan_has_nothing_to_value(bank, loan):
    with pytest.raises(ValidationFailed, match="unsecured"):
        security.enter_valuation(actor=bank.teller, loan=loan, value=1_00_000_00, note="Valuer")
    assert not SecurityValuation.objects.exists()


def test_the_days_gold_rate_values_every_open_gold_loan(bank):
    set_date(DISBURSED)
    enter_gold_rate(actor=bank.ops, on=DISBURSED, rate_per_gram=7_000_00)
    loan = bank.sanctioned(product="GL", amount=96_000_00, months=12, gold_grams=Decimal("20"), gold_carat=22)
    disburse_loan(actor=bank.teller, loan=loan, amount=96_000_00, idempotency_key=key())
    set_date(FIRST_DUE)
    enter_gold_rate(actor=bank.ops, on=FIRST_DUE, rate_per_gram=6_000_00)
    row = SecurityValuation.objects.get(loan=loan)
    # 20 g × 22/24 × ₹6,000
    assert (row.on, row.method, row.value, row.gold_rate_per_gram) == (FIRST_DUE, "gold_rate", 1_10_000_00, 6_000_00)
    with pytest.raises(ValidationFailed, match="day's gold rate"):
        security.enter_valuation(actor=bank.teller, loan=loan, value=1_00_000_00, note="Valuer")


# -- loss ----------------------------------------------------------------------------------------


@pytest.fixture
def npa(bank, loan):
    set_date(NPA_DAY)
    classify_loans(date=NPA_DAY)
    loan.refresh_from_db()
    assert loan.classification == "substandard"
    return loan


def test_a_supervisor_marks_an_npa_a_loss_through_maker_checker(bank, npa):
    approval = security.request_loss_marking(actor=bank.supervisor, loan=npa, reason="Borrower untraceable; "
                                             "recovery suit dismissed")
    npa.refresh_from_db()
    assert npa.classification == "substandard"
    with pytest.raises(NotPermitted):
        approve_request(actor=bank.supervisor, request_id=approval.pk)
    substandard = LedgerAccount.objects.get(code=LOAN_PROVISIONS).balance
    assert 0 < substandard < npa.outstanding
    checker = make_user("supervisor", branch=bank.branch, approval_limit=10_00_000_00)
    approve_request(actor=checker, request_id=approval.pk)
    npa.refresh_from_db()
    assert npa.classification == "loss" and LoanBook.objects.get(loan=npa).loss
    assert npa.classification_history.first().reason.startswith("Marked a loss asset: Borrower untraceable")
    # The 100% provision is posted at the approval, with the checker on the entry.
    entry = JournalEntry.objects.get(idempotency_key=f"loan-loss-provision-{approval.pk}")
    assert entry.checker == checker and entry.maker == bank.supervisor
    assert entry.postings.get(account__code=LOAN_PROVISIONS).amount == npa.outstanding - substandard
    assert LedgerAccount.objects.get(code=LOAN_PROVISIONS).balance == npa.outstanding
    assert LedgerAccount.objects.get(code=LOAN_PROVISION_EXPENSE).balance == npa.outstanding
    assert LoanBook.objects.get(loan=npa).provision == npa.outstanding
    # The next day's end holds it a loss at 100% and posts no provision for it again.
    next_day = NPA_DAY + datetime.timedelta(days=1)
    set_date(next_day)
    classify_loans(date=next_day)
    status = LoanDayStatus.objects.get(loan=npa, date=next_day)
    assert status.classification == "loss" and status.provision == status.outstanding == npa.outstanding
    assert LedgerAccount.objects.get(code=LOAN_PROVISIONS).balance == npa.outstanding
    assert not JournalEntry.objects.filter(idempotency_key__startswith=f"eod:{next_day.isoformat()}:",
                                           idempotency_key__endswith=f":{npa.pk}:provision").exists()


def test_a_loss_approved_before_the_days_end_is_provided_once(bank, npa):
    next_day = NPA_DAY + datetime.timedelta(days=1)
    set_date(next_day)
    approval = security.request_loss_marking(actor=bank.supervisor, loan=npa, reason="Uncollectable")
    checker = make_user("supervisor", branch=bank.branch, approval_limit=10_00_000_00)
    approve_request(actor=checker, request_id=approval.pk)
    with pytest.raises(StaleRequest):
        approve_request(actor=checker, request_id=approval.pk)
    # The handler run again refuses in words and posts nothing.
    entries = JournalEntry.objects.count()
    approval.refresh_from_db()
    with pytest.raises(ValidationFailed, match="already a loss asset"):
        security.mark_loss_approved(approval, checker)
    assert JournalEntry.objects.count() == entries
    held = LedgerAccount.objects.get(code=LOAN_PROVISIONS).balance
    assert held == npa.outstanding == LoanBook.objects.get(loan=npa).provision
    # The day's end on the day of the approval, and its rerun, post no provision.
    classify_loans(date=next_day)
    classify_loans(date=next_day)
    assert JournalEntry.objects.count() == entries
    assert LedgerAccount.objects.get(code=LOAN_PROVISIONS).balance == held
    assert LedgerAccount.objects.get(code=LOAN_PROVISION_EXPENSE).balance == held
    assert LoanBook.objects.get(loan=npa).provision == held
    assert LoanDayStatus.objects.get(loan=npa, date=next_day).classification == "loss"


def test_a_rejected_loss_posts_no_provision(bank, npa):
    approval = security.request_loss_marking(actor=bank.supervisor, loan=npa, reason="Uncollectable")
    held = LedgerAccount.objects.get(code=LOAN_PROVISIONS).balance
    reject_request(actor=make_user("supervisor", branch=bank.branch, approval_limit=10_00_000_00),
                   request_id=approval.pk, reason="Recovery is still under way")
    npa.refresh_from_db()
    assert npa.classification == "substandard" and not LoanBook.objects.get(loan=npa).loss
    assert LedgerAccount.objects.get(code=LOAN_PROVISIONS).balance == held
    assert not JournalEntry.objects.filter(idempotency_key__startswith="loan-loss-provision-").exists()


def test_loss_marking_refusals_write_nothing(bank, loan, npa):
    with pytest.raises(ValidationFailed, match="Give the reason"):
        security.request_loss_marking(actor=bank.supervisor, loan=npa, reason=" ")
    with pytest.raises(NotPermitted):
        security.request_loss_marking(actor=bank.teller, loan=npa, reason="Uncollectable")
    assert not ApprovalRequest.objects.filter(kind=security.MARK_LOSS_KIND).exists()
    security.request_loss_marking(actor=bank.supervisor, loan=npa, reason="Uncollectable")
    with pytest.raises(ValidationFailed, match="already waiting"):
        security.request_loss_marking(actor=bank.supervisor, loan=npa, reason="Uncollectable")


def test_a_performing_loan_cannot_be_marked_a_loss(bank, loan):
    with pytest.raises(ValidationFailed, match="only a non-performing asset"):
        security.request_loss_marking(actor=bank.supervisor, loan=loan, reason="Looks doubtful")
    assert not ApprovalRequest.objects.filter(kind=security.MARK_LOSS_KIND).exists()
