"""A personal loan applied for online: the same rules as at the counter, the KFS
accepted by the customer, the same sanction queue, and the money paid into their
account as it is sanctioned."""

import pytest

from banking.approvals.actions import approve_request, reject_request
from banking.approvals.models import ApprovalRequest
from banking.core.errors import NotPermitted, ValidationFailed
from banking.deposits.actions import request_freeze
from banking.ledger.models import JournalEntry
from banking.ledger.queries import trial_balance
from banking.loans import online
from banking.loans.models import ApplicationStatus, BureauSource, Loan, LoanApplication, LoanStatus
from banking.testing import make_user
from banking.users.roles import Role

from .factories import key


@pytest.fixture(autouse=True)
def good_score(monkeypatch):
    """The bureau is outside the bank: its answer is fixed here."""
    monkeypatch.setattr("banking.loans.bureau.score_for", lambda customer: 780)


@pytest.fixture
def me(bank):
    user = make_user(Role.CUSTOMER)
    bank.customer.user = user
    bank.customer.save(update_fields=["user"])
    return user


def apply(bank, me, **fields):
    values = {"deposit_account": bank.account, "amount": 5_00_000_00, "months": 60, "purpose": "Wedding",
              "monthly_income": 1_00_000_00, "existing_emis": 10_000_00, "idempotency_key": key()}
    values.update(fields)
    return online.apply_online(actor=me, **values)


def test_the_customer_applies_for_their_home_branch_with_the_bureaus_score(bank, me):
    application = apply(bank, me)
    assert application.branch == bank.customer.home_branch
    assert application.created_by == me
    assert (application.bureau_score, application.bureau_source) == (780, BureauSource.SIMULATOR)
    assert application.emi == 10_746_95
    assert application.status == ApplicationStatus.APPLIED
    assert online.came_online(application)


def test_the_same_form_sent_twice_makes_one_application(bank, me):
    token = key()
    first = apply(bank, me, idempotency_key=token)
    assert apply(bank, me, idempotency_key=token) == first
    assert LoanApplication.objects.count() == 1


@pytest.mark.parametrize("fields,words", [
    ({"monthly_income": 0}, "income must be above zero"),
    ({"amount": 30_00_000_00}, "outside that"),
    ({"months": 84}, "84 months is outside that"),
    ({"existing_emis": 45_000_00}, "above the product's maximum of 50.00%"),
    ({"purpose": "  "}, "Say what the loan is for"),
])
def test_bad_input_is_refused_in_words_and_writes_nothing(bank, me, fields, words):
    with pytest.raises(ValidationFailed, match=words):
        apply(bank, me, **fields)
    assert not LoanApplication.objects.exists()


def test_only_a_personal_loan_and_only_into_their_own_account(bank, me):
    with pytest.raises(ValidationFailed, match="visit your branch"):
        apply(bank, me, product="VL")
    someone = make_user(Role.CUSTOMER)
    with pytest.raises(NotPermitted):
        online.apply_online(actor=someone, deposit_account=bank.account, amount=5_00_000_00, months=60,
                            purpose="x", monthly_income=1_00_000_00, idempotency_key=key())
    with pytest.raises(NotPermitted):
        apply(bank, bank.teller)
    assert not LoanApplication.objects.exists()


def test_a_low_score_from_the_bureau_is_refused(bank, me, monkeypatch):
    monkeypatch.setattr("banking.loans.bureau.score_for", lambda customer: 690)
    with pytest.raises(ValidationFailed, match="bureau score 690 is below the product's minimum of 700"):
        apply(bank, me)


def test_accepting_the_kfs_sends_it_to_the_branchs_sanction_queue(bank, me):
    application = apply(bank, me)
    approval = online.acknowledge_kfs_online(actor=me, application=application)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.PENDING_SANCTION
    assert application.acknowledged_by == me
    assert "authenticator code" in application.acknowledgement
    assert approval.kind == "loans.sanction" and approval.branch == bank.branch
    with pytest.raises(ValidationFailed, match="accepted already"):
        online.acknowledge_kfs_online(actor=me, application=application)


def test_someone_elses_or_a_branchs_application_cannot_be_accepted_online(bank, me):
    application = apply(bank, me)
    stranger = make_user(Role.CUSTOMER)
    from banking.deposits.tests.factories import make_customer

    make_customer(branch=bank.branch, created_by=bank.teller, user=stranger)
    with pytest.raises(NotPermitted, match="not yours"):
        online.acknowledge_kfs_online(actor=stranger, application=application)
    walk_in = bank.apply()
    with pytest.raises(NotPermitted, match="at the counter"):
        online.acknowledge_kfs_online(actor=me, application=walk_in)
    assert not ApprovalRequest.objects.filter(kind__startswith="loans.").exists()


def test_sanction_pays_the_loan_into_the_account_less_fee_and_gst(bank, me):
    application = apply(bank, me)
    approval = online.acknowledge_kfs_online(actor=me, application=application)
    before = bank.account.ledger_account.balance
    entries_before = JournalEntry.objects.count()
    approve_request(actor=bank.supervisor, request_id=approval.pk)
    loan = Loan.objects.get(application=application)
    assert loan.status == LoanStatus.ACTIVE and loan.disbursed_amount == 5_00_000_00
    bank.account.ledger_account.refresh_from_db()
    assert bank.account.ledger_account.balance == before + 5_00_000_00 - 5_000_00 - 900_00
    assert loan.ledger_account.balance == 5_00_000_00
    assert JournalEntry.objects.count() == entries_before + 2  # the loan paid out, the fee and GST taken
    assert loan.current_schedule.instalments.count() == 60
    # Money is neither made nor lost: the ledger still nets to zero.
    assert trial_balance().difference == 0


def test_a_branch_application_is_still_disbursed_by_the_branch(bank, me):
    loan = bank.sanctioned()
    assert loan.status == LoanStatus.SANCTIONED and loan.disbursed_amount == 0


def test_a_refused_disbursement_leaves_the_sanction_standing_and_nothing_posted(bank, me):
    application = apply(bank, me)
    approval = online.acknowledge_kfs_online(actor=me, application=application)
    freeze = request_freeze(actor=bank.teller, account=bank.account, freeze="total", reason="Court order")
    approve_request(actor=bank.manager, request_id=freeze.pk)
    entries_before = JournalEntry.objects.count()
    approve_request(actor=bank.supervisor, request_id=approval.pk)
    loan = Loan.objects.get(application=application)
    assert loan.status == LoanStatus.SANCTIONED and loan.disbursed_amount == 0
    assert JournalEntry.objects.count() == entries_before
    approval.refresh_from_db()
    assert approval.status == "approved"


def test_a_rejection_reaches_the_online_applicant(bank, me):
    application = apply(bank, me)
    approval = online.acknowledge_kfs_online(actor=me, application=application)
    reject_request(actor=bank.supervisor, request_id=approval.pk, reason="Income could not be verified")
    application.refresh_from_db()
    assert application.status == ApplicationStatus.REJECTED
    assert application.rejection_reason == "Income could not be verified"


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_the_same_form_and_the_same_acceptance_sent_twice_at_once_do_it_once(bank, me):
    from banking.testing import run_together

    token = key()
    applications, errors = run_together(*(lambda: apply(bank, me, idempotency_key=token) for _ in range(2)))
    assert errors == [] and applications[0].pk == applications[1].pk
    assert LoanApplication.objects.count() == 1
    application = applications[0]
    approvals, errors = run_together(*(lambda: online.acknowledge_kfs_online(actor=me, application=application)
                                       for _ in range(2)))
    assert len(approvals) == 1 and len(errors) == 1 and "accepted already" in str(errors[0])
    assert ApprovalRequest.objects.filter(kind="loans.sanction").count() == 1
