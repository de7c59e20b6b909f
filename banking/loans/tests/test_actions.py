import datetime
from decimal import Decimal

import pytest
from django.core import mail

from banking.approvals.actions import approve_request, reject_request
from banking.approvals.models import ApprovalRequest
from banking.audit.models import AuditEvent
from banking.core.errors import LimitExceeded, NotPermitted, ValidationFailed
from banking.ledger.chart import GST_PAYABLE, LOAN_PROCESSING_FEES
from banking.ledger.models import LedgerAccount
from banking.loans import bureau
from banking.loans import schedule as schedule_math
from banking.loans.actions import (
    acknowledge_kfs,
    business_date,
    disburse_loan,
    enter_gold_rate,
    quote_loan,
    request_product_change,
    request_sanction,
    sanction_kind,
)
from banking.loans.models import (
    ApplicationStatus,
    Instalment,
    Loan,
    LoanApplication,
    LoanProduct,
    LoanStatus,
    Schedule,
)

from .factories import key


def test_standard_products_are_seeded(db):
    codes = {p.code: p for p in LoanProduct.objects.all()}
    assert set(codes) >= {"PL", "HL", "VL", "GL"}
    today = datetime.date(2026, 1, 1)
    home = codes["HL"].version_on(today)
    assert (home.rate_type, home.benchmark, home.reset_months, home.prepayment_charge_percent) == (
        "floating", "repo", 3, Decimal("0.00"))
    gold = codes["GL"].version_on(today)
    assert (gold.schedule_type, gold.max_ltv_percent, gold.max_months) == ("bullet", Decimal("75.00"), 12)
    assert codes["PL"].secured is False


def test_application_issues_the_kfs(bank):
    application = bank.apply()
    assert application.status == ApplicationStatus.APPLIED
    assert application.rate == Decimal("10.50")
    assert application.emi == 10_746_95
    # 1% of ₹5,00,000 is ₹5,000 (under the ₹10,000 cap), GST 18% of it ₹900
    assert (application.processing_fee, application.gst_on_fee) == (5_000_00, 900_00)
    assert application.total_payable == application.amount + application.total_interest
    assert application.apr > application.rate
    assert AuditEvent.objects.filter(action="loans.application_taken").count() == 1


@pytest.mark.parametrize(("fields", "words"), [
    ({"amount": 30_00_000_00}, "outside"),
    ({"months": 84}, "outside"),
    ({"monthly_income": 0}, "income must be above zero"),
    ({"bureau_score": 640}, "below the product's minimum"),
    ({"existing_emis": 45_000_00}, "above the product's maximum"),
])
def test_bad_applications_are_refused_and_write_nothing(bank, fields, words):
    with pytest.raises(ValidationFailed, match=words):
        bank.apply(**fields)
    assert not LoanApplication.objects.exists()


def test_gold_loan_ltv_is_checked(bank):
    enter_gold_rate(actor=bank.ops, on=business_date(), rate_per_gram=7_000_00)
    # 20 g of 22 carat at ₹7,000 a gram (24 carat): ₹1,28,333.33; 75% is ₹96,250
    with pytest.raises(ValidationFailed, match="LTV 77.92%.*above the maximum of 75.00%"):
        bank.apply(product="GL", amount=1_00_000_00, months=12, gold_grams=Decimal("20"), gold_carat=22)
    assert not LoanApplication.objects.exists()
    application = bank.apply(product="GL", amount=96_000_00, months=12, gold_grams=Decimal("20"), gold_carat=22)
    assert application.gold_value == 1_28_333_33
    assert application.emi == schedule_math.monthly_interest(96_000_00, Decimal("9.00"))


def test_gold_loan_without_collateral_is_refused(bank):
    with pytest.raises(ValidationFailed, match="gold pledged"):
        bank.apply(product="GL", amount=50_000_00, months=6)


def test_floating_rate_is_benchmark_plus_spread(bank):
    with pytest.raises(ValidationFailed, match="repo rate"):
        quote_loan(product="HL", amount=50_00_000_00, months=240, monthly_income=3_00_000_00, bureau_score=780)
    bank.repo("5.50")
    quote = quote_loan(product="HL", amount=50_00_000_00, months=240, monthly_income=3_00_000_00,
                       bureau_score=780)
    assert quote.rate == Decimal("8.25")
    assert quote.eligible


def test_simulated_bureau_score_is_deterministic(bank):
    # The home loan's minimum (650) is the simulator's lowest score, so any customer qualifies.
    bank.repo("5.50")
    terms = {"product": "HL", "amount": 50_00_000_00, "months": 240, "monthly_income": 3_00_000_00,
             "bureau_score": None}
    application = bank.apply(**terms)
    again = bank.apply(**terms)
    assert application.bureau_source == "simulator"
    assert application.bureau_score == again.bureau_score == bureau.score_for(bank.customer)
    assert 650 <= application.bureau_score <= 900


def test_sanction_is_refused_without_the_kfs_acknowledged(bank):
    application = bank.apply()
    with pytest.raises(ValidationFailed, match="not acknowledged the Key Facts Statement"):
        request_sanction(actor=bank.teller, application=application)
    assert not ApprovalRequest.objects.filter(kind__startswith="loans.").exists()
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPLIED


def test_acknowledgement_needs_words(bank):
    application = bank.apply()
    with pytest.raises(ValidationFailed, match="Attest"):
        acknowledge_kfs(actor=bank.teller, application=application, statement="  ")


def test_sanction_authority_goes_by_amount():
    assert sanction_kind(10_00_000_00)[0] == "loans.sanction"
    assert sanction_kind(10_00_000_01)[0] == "loans.sanction_branch_manager"
    assert sanction_kind(1_00_00_000_00)[0] == "loans.sanction_branch_manager"
    assert sanction_kind(1_00_00_000_01)[0] == "loans.sanction_credit_committee"


def test_supervisor_sanctions_and_loan_is_created(bank):
    loan = bank.sanctioned()
    assert loan.status == LoanStatus.SANCTIONED
    assert loan.sanctioned_amount == 5_00_000_00
    assert loan.application.status == ApplicationStatus.SANCTIONED
    assert loan.sanctioned_by == bank.supervisor


def test_large_loan_is_beyond_a_supervisor(bank):
    bank.repo("5.50")
    application = bank.acknowledged(product="HL", amount=40_00_000_00, months=240, monthly_income=5_00_000_00)
    approval = request_sanction(actor=bank.teller, application=application)
    assert approval.kind == "loans.sanction_branch_manager"
    with pytest.raises(NotPermitted):
        approve_request(actor=bank.supervisor, request_id=approval.pk)
    assert not Loan.objects.exists()
    approve_request(actor=bank.manager, request_id=approval.pk)
    assert Loan.objects.get().sanctioned_by == bank.manager


def test_rejection_reason_reaches_the_applicant(bank):
    application = bank.acknowledged()
    approval = request_sanction(actor=bank.teller, application=application)
    mail.outbox.clear()
    reject_request(actor=bank.supervisor, request_id=approval.pk, reason="Employment could not be verified")
    application.refresh_from_db()
    assert application.status == ApplicationStatus.REJECTED
    assert application.rejection_reason == "Employment could not be verified"
    (sent,) = [m for m in mail.outbox if m.to == [bank.customer.email]]
    assert application.number in sent.subject
    assert "Employment could not be verified" in sent.body
    assert not Loan.objects.exists()


def test_disbursement_posts_loan_fee_and_gst(bank):
    loan = bank.sanctioned()
    before = bank.account.ledger_account.balance
    fees = LedgerAccount.objects.get(code=LOAN_PROCESSING_FEES).balance
    gst = LedgerAccount.objects.get(code=GST_PAYABLE).balance
    disbursement = disburse_loan(actor=bank.teller, loan=loan, amount=5_00_000_00, idempotency_key=key())
    loan.refresh_from_db()
    bank.account.ledger_account.refresh_from_db()
    assert loan.status == LoanStatus.ACTIVE
    assert loan.outstanding == 5_00_000_00
    assert loan.ledger_account.parent.code == "1410"
    assert bank.account.ledger_account.balance - before == 5_00_000_00 - 5_000_00 - 900_00
    assert LedgerAccount.objects.get(code=LOAN_PROCESSING_FEES).balance - fees == 5_000_00
    assert LedgerAccount.objects.get(code=GST_PAYABLE).balance - gst == 900_00
    assert (disbursement.processing_fee, disbursement.gst_on_fee) == (5_000_00, 900_00)
    schedule = loan.current_schedule
    assert (schedule.version, schedule.reason) == (1, "disbursement")
    instalments = list(schedule.instalments.all())
    assert len(instalments) == 60
    assert sum(i.principal for i in instalments) == 5_00_000_00
    assert instalments[1].total == 10_746_95


def test_disbursement_is_idempotent_and_bounded(bank):
    loan = bank.sanctioned()
    token = key()
    first = disburse_loan(actor=bank.teller, loan=loan, amount=5_00_000_00, idempotency_key=token)
    again = disburse_loan(actor=bank.teller, loan=loan, amount=5_00_000_00, idempotency_key=token)
    assert first.pk == again.pk
    with pytest.raises(ValidationFailed, match="left to disburse"):
        disburse_loan(actor=bank.teller, loan=loan, amount=1_00, idempotency_key=key())
    assert Schedule.objects.filter(loan=loan).count() == 1


def test_personal_loan_is_paid_out_whole(bank):
    loan = bank.sanctioned()
    with pytest.raises(ValidationFailed, match="paid out whole"):
        disburse_loan(actor=bank.teller, loan=loan, amount=1_00_000_00, idempotency_key=key())
    loan.refresh_from_db()
    assert loan.ledger_account_id is None and loan.disbursed_amount == 0


def test_home_loan_tranches_keep_versions(bank):
    bank.repo("5.50")
    loan = bank.sanctioned(checker=bank.manager, product="HL", amount=20_00_000_00, months=120,
                           monthly_income=3_00_000_00)
    disburse_loan(actor=bank.teller, loan=loan, amount=8_00_000_00, idempotency_key=key())
    disburse_loan(actor=bank.teller, loan=loan, amount=12_00_000_00, idempotency_key=key())
    loan.refresh_from_db()
    assert loan.disbursed_amount == loan.outstanding == 20_00_000_00
    versions = list(loan.schedules.order_by("version").values_list("version", "reason", "is_current"))
    assert versions == [(1, "disbursement", False), (2, "tranche", True)]
    current = Instalment.objects.filter(schedule=loan.current_schedule)
    assert sum(current.values_list("principal", flat=True)) == 20_00_000_00
    # the fee is taken once, at the first tranche
    assert [d.processing_fee for d in loan.disbursements.order_by("tranche")] == [10_000_00, 0]
    assert loan.next_reset_on is not None


def test_product_change_through_maker_checker(bank):
    product = LoanProduct.objects.get(code="PL")
    terms = {name: getattr(product.version_on(business_date()), name) for name in (
        "min_amount", "max_amount", "min_months", "max_months", "rate_type", "rate", "benchmark", "reset_months",
        "processing_fee_percent", "processing_fee_cap", "gst_percent", "penal_charge_percent",
        "prepayment_charge_percent", "schedule_type", "max_foir_percent", "min_bureau_score", "max_ltv_percent")}
    terms["rate"] = Decimal("11.25")
    effective = business_date() + datetime.timedelta(days=10)
    approval = request_product_change(actor=bank.ops, product="PL", effective_from=effective, terms=terms)
    with pytest.raises(NotPermitted):
        approve_request(actor=bank.ops, request_id=approval.pk)
    approve_request(actor=bank.ops_checker, request_id=approval.pk)
    assert product.version_on(effective).rate == Decimal("11.25")
    assert product.version_on(business_date()).rate == Decimal("10.50")


def test_product_change_refuses_bad_terms(bank):
    product = LoanProduct.objects.get(code="HL")
    version = product.version_on(business_date())
    terms = {name: getattr(version, name) for name in (
        "min_amount", "max_amount", "min_months", "max_months", "rate_type", "rate", "benchmark", "reset_months",
        "processing_fee_percent", "processing_fee_cap", "gst_percent", "penal_charge_percent",
        "prepayment_charge_percent", "schedule_type", "max_foir_percent", "min_bureau_score", "max_ltv_percent")}
    terms["prepayment_charge_percent"] = Decimal("2.00")
    with pytest.raises(ValidationFailed):
        request_product_change(actor=bank.ops, product="HL", effective_from=business_date() + datetime.timedelta(
            days=1), terms=terms)
    with pytest.raises(ValidationFailed, match="later date"):
        request_product_change(actor=bank.ops, product="HL", effective_from=business_date(), terms=terms)
    with pytest.raises(NotPermitted):
        request_product_change(actor=bank.teller, product="HL", effective_from=business_date(), terms=terms)
    assert not ApprovalRequest.objects.filter(kind="loans.product_change").exists()


def test_sanction_does_not_depend_on_the_approval_limit(bank):
    # sanction carries no amount for the approval limit: authority is the band's permission
    application = bank.acknowledged()
    approval = request_sanction(actor=bank.teller, application=application)
    assert approval.amount is None
    bank.supervisor.staff_profile.approval_limit = 0
    bank.supervisor.staff_profile.save()
    try:
        approve_request(actor=bank.supervisor, request_id=approval.pk)
    except LimitExceeded:  # pragma: no cover - the assertion below says why
        pytest.fail("a supervisor's sanction authority does not depend on the approval limit")
    assert Loan.objects.count() == 1


def test_above_one_crore_goes_to_the_credit_committee(bank):
    from django.contrib.auth.models import Permission

    from banking.testing import make_user

    bank.repo("5.50")
    application = bank.acknowledged(product="HL", amount=1_50_00_000_00, months=300, monthly_income=30_00_000_00)
    approval = request_sanction(actor=bank.teller, application=application)
    assert approval.kind == "loans.sanction_credit_committee"
    assert approval.branch is None
    with pytest.raises(NotPermitted):
        approve_request(actor=bank.manager, request_id=approval.pk)
    member = make_user("supervisor")
    member.user_permissions.add(Permission.objects.get(codename="sanction_above_1_crore"))
    from banking.users.models import User

    member = User.objects.get(pk=member.pk)
    approve_request(actor=member, request_id=approval.pk)
    assert Loan.objects.get().sanctioned_amount == 1_50_00_000_00


def test_another_branch_cannot_act_on_the_application(bank):
    from banking.testing import make_branch, make_user

    application = bank.apply()
    stranger = make_user("teller", branch=make_branch())
    with pytest.raises(NotPermitted, match="another branch"):
        acknowledge_kfs(actor=stranger, application=application, statement="Signed")
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPLIED
