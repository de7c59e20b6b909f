import datetime

import pytest
from django.core import mail

from banking.approvals.actions import approve_request
from banking.approvals.models import ApprovalRequest, Status
from banking.audit.models import AuditEvent
from banking.core.errors import AccountFrozen, BankingError, NotPermitted, ValidationFailed
from banking.core.identifiers import is_valid_account_number
from banking.deposits import actions
from banking.deposits.models import DepositAccount, DepositStatus, ModeOfOperation
from banking.ledger.models import AccountStatus, BusinessDate, LedgerAccount

from .factories import make_customer

D = datetime.date


def set_business_date(day):
    BusinessDate.objects.update_or_create(pk=1, defaults={"date": day})


# -- opening -----------------------------------------------------------------------


def test_opening_is_pending_until_a_checker_approves(bank):
    account = actions.request_account_opening(actor=bank.teller, customer=bank.customer, product="SB",
                                              overdraft_limit=0)
    assert account.status == DepositStatus.PENDING
    assert account.ledger_account is None
    assert is_valid_account_number(account.number)
    assert account.number.startswith(bank.branch.code + "10")
    request = account.opening_request
    assert request.kind == "deposits.account_opening" and request.amount == 0
    assert request.branch == bank.branch

    approve_request(actor=bank.supervisor, request_id=request.pk)
    account.refresh_from_db()
    assert account.status == DepositStatus.ACTIVE
    ledger = account.ledger_account
    assert ledger.parent.code == "2110" and ledger.is_subledger
    assert ledger.balance == 0
    assert AuditEvent.objects.filter(action="deposits.account_opened", object_id=str(account.pk)).exists()


def test_an_unverified_customer_cannot_open_an_account(bank):
    draft = make_customer(branch=bank.branch, created_by=bank.teller, verified=False)
    with pytest.raises(NotPermitted, match="not KYC-verified"):
        actions.request_account_opening(actor=bank.teller, customer=draft, product="SB")
    assert not DepositAccount.objects.filter(customer=draft).exists()
    assert not ApprovalRequest.objects.exists()


def test_unknown_product_is_refused(bank):
    with pytest.raises(ValidationFailed, match="no deposit product 'GOLD'"):
        actions.request_account_opening(actor=bank.teller, customer=bank.customer, product="GOLD")
    assert not DepositAccount.objects.exists()


def test_a_customer_whose_kyc_lapsed_before_approval_is_not_opened(bank):
    account = actions.request_account_opening(actor=bank.teller, customer=bank.customer, product="SB")
    bank.customer.kyc_status = "rejected"
    bank.customer.save()
    with pytest.raises(NotPermitted):
        approve_request(actor=bank.supervisor, request_id=account.opening_request_id)
    account.refresh_from_db()
    assert account.status == DepositStatus.PENDING and account.ledger_account is None
    assert ApprovalRequest.objects.get(pk=account.opening_request_id).status == Status.FAILED


def test_joint_accounts_need_a_joint_mode_and_verified_holders(bank):
    second = make_customer(branch=bank.branch, created_by=bank.teller)
    with pytest.raises(ValidationFailed, match="either or survivor"):
        actions.request_account_opening(actor=bank.teller, customer=bank.customer, product="SB",
                                        joint_holders=[second])
    draft = make_customer(branch=bank.branch, created_by=bank.teller, verified=False)
    with pytest.raises(NotPermitted, match="Joint holder"):
        actions.request_account_opening(actor=bank.teller, customer=bank.customer, product="SB",
                                        joint_holders=[draft], mode_of_operation=ModeOfOperation.JOINTLY)
    account = actions.request_account_opening(actor=bank.teller, customer=bank.customer, product="SB",
                                              joint_holders=[second],
                                              mode_of_operation=ModeOfOperation.EITHER_OR_SURVIVOR)
    assert list(DepositAccount.objects.for_customer(second)) == [account]
    assert account.holder_names() == [bank.customer.display_name, second.display_name]


def test_a_minor_nominee_needs_a_guardian(bank):
    minor = actions.Nominee(name="Aarav Sharma", relationship="Son", date_of_birth=D(2020, 5, 1))
    with pytest.raises(ValidationFailed, match="guardian"):
        actions.request_account_opening(actor=bank.teller, customer=bank.customer, product="SB", nominee=minor)
    with_guardian = actions.Nominee(name="Aarav Sharma", relationship="Son", date_of_birth=D(2020, 5, 1),
                                    guardian_name="Rohit Sharma")
    account = actions.request_account_opening(actor=bank.teller, customer=bank.customer, product="SB",
                                              nominee=with_guardian)
    assert account.nominee_guardian_name == "Rohit Sharma" and account.is_minor_nominee


def test_overdraft_only_where_the_product_allows_it(bank):
    with pytest.raises(ValidationFailed, match="does not allow an overdraft"):
        actions.request_account_opening(actor=bank.teller, customer=bank.customer, product="SB",
                                        overdraft_limit=10_000_00)
    current = bank.open_account("CA", overdraft_limit=50_000_00)
    assert current.ledger_account.overdraft_limit == 50_000_00
    assert current.ledger_account.available == 50_000_00


def test_the_same_form_token_opens_one_account(bank):
    first = actions.request_account_opening(actor=bank.teller, customer=bank.customer, product="SB",
                                            idempotency_key="form-1")
    again = actions.request_account_opening(actor=bank.teller, customer=bank.customer, product="SB",
                                            idempotency_key="form-1")
    assert first.pk == again.pk
    assert ApprovalRequest.objects.count() == 1


# -- freezes, dormancy, closing -------------------------------------------------------


def test_debit_freeze_refuses_debits_and_allows_credits(bank):
    account = bank.open_account(deposit=10_000_00)
    request = actions.request_freeze(actor=bank.teller, account=account, freeze="debit", reason="Court order 12/2026")
    approve_request(actor=bank.supervisor, request_id=request.pk)
    account.refresh_from_db()
    assert account.status == DepositStatus.DEBIT_FROZEN
    assert account.ledger_account.status == AccountStatus.DEBIT_FROZEN
    with pytest.raises(AccountFrozen):
        bank.withdraw(account, 100_00)
    bank.fund(account, 500_00)
    assert account.ledger_account.balance == 10_500_00

    request = actions.request_unfreeze(actor=bank.teller, account=account, reason="Order withdrawn")
    approve_request(actor=bank.supervisor, request_id=request.pk)
    account.refresh_from_db()
    assert account.status == DepositStatus.ACTIVE
    bank.withdraw(account, 100_00)


def test_total_freeze_refuses_credits_too(bank):
    account = bank.open_account(deposit=1_000_00)
    request = actions.request_freeze(actor=bank.teller, account=account, freeze="total", reason="Fraud report")
    with pytest.raises(ValidationFailed, match="already waiting"):
        actions.request_freeze(actor=bank.teller, account=account, freeze="total", reason="Again")
    approve_request(actor=bank.supervisor, request_id=request.pk)
    with pytest.raises(AccountFrozen):
        bank.fund(account, 100_00)


@pytest.mark.parametrize("ask", ["freeze", "unfreeze", "closure"])
def test_requests_about_an_account_go_to_the_branch_that_holds_it(bank, ask):
    from banking.testing import make_branch, make_user

    account = bank.open_account(deposit=0)
    elsewhere = make_branch()
    teller_elsewhere = make_user("teller", branch=elsewhere)
    supervisor_elsewhere = make_user("supervisor", branch=elsewhere, approval_limit=10_00_000_00)
    if ask == "unfreeze":
        approve_request(actor=bank.supervisor, request_id=actions.request_freeze(
            actor=bank.teller, account=account, freeze="debit", reason="Order").pk)
        request = actions.request_unfreeze(actor=teller_elsewhere, account=account, reason="Order withdrawn")
    elif ask == "freeze":
        request = actions.request_freeze(actor=teller_elsewhere, account=account, freeze="debit", reason="Order")
    else:
        request = actions.request_closure(actor=teller_elsewhere, account=account, reason="Moving abroad")

    assert request.branch == account.branch == bank.branch
    with pytest.raises(NotPermitted, match="another branch"):
        approve_request(actor=supervisor_elsewhere, request_id=request.pk)
    approve_request(actor=bank.supervisor, request_id=request.pk)


def test_inoperative_accounts_refuse_debits_until_reactivated(bank):
    account = bank.open_account(deposit=2_000_00)
    actions.mark_inoperative(actor=bank.supervisor, account=account)
    account.refresh_from_db()
    assert account.status == DepositStatus.INOPERATIVE
    with pytest.raises(AccountFrozen):
        bank.withdraw(account, 100_00)
    bank.fund(account, 50_00)  # interest and inward credits still land

    # Frozen while inoperative: unfreezing puts it back to inoperative.
    freeze = actions.request_freeze(actor=bank.teller, account=account, freeze="total", reason="Enquiry")
    approve_request(actor=bank.supervisor, request_id=freeze.pk)
    unfreeze = actions.request_unfreeze(actor=bank.teller, account=account, reason="Enquiry closed")
    approve_request(actor=bank.supervisor, request_id=unfreeze.pk)
    account.refresh_from_db()
    assert account.status == DepositStatus.INOPERATIVE

    actions.reactivate_account(actor=bank.teller, account=account, reason="Customer visited with KYC")
    account.refresh_from_db()
    assert account.status == DepositStatus.ACTIVE
    bank.withdraw(account, 100_00)


def test_closing_with_a_balance_is_refused(bank):
    account = bank.open_account(deposit=1_234_00)
    with pytest.raises(ValidationFailed, match="still holds ₹1,234.00"):
        actions.request_closure(actor=bank.teller, account=account, reason="Customer moving abroad")
    assert not ApprovalRequest.objects.filter(kind="deposits.closure").exists()


def test_closing_pays_the_balance_out_then_closes(bank):
    account = bank.open_account(deposit=1_234_00)
    other = bank.open_account("CA")
    request = actions.request_closure(actor=bank.teller, account=account, reason="Consolidating", payout_to=other)
    assert request.amount == 1_234_00
    approve_request(actor=bank.supervisor, request_id=request.pk)
    account.refresh_from_db()
    other.refresh_from_db()
    assert account.status == DepositStatus.CLOSED and account.closed_on
    assert account.ledger_account.status == AccountStatus.CLOSED
    assert other.ledger_account.balance == 1_234_00


def test_a_held_account_cannot_close(bank):
    account = bank.open_account()
    hold = actions.place_account_hold(actor=bank.teller, account=account, amount=100_00, reason="Cheque return")
    with pytest.raises(ValidationFailed, match="on hold"):
        actions.request_closure(actor=bank.teller, account=account, reason="Closing")
    actions.release_account_hold(actor=bank.teller, account=account, hold=hold, reason="Cleared")
    request = actions.request_closure(actor=bank.teller, account=account, reason="Closing")
    approve_request(actor=bank.supervisor, request_id=request.pk)
    account.refresh_from_db()
    assert account.is_closed


def test_holds_reduce_the_available_balance(bank):
    account = bank.open_account(deposit=10_000_00)
    expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=30)
    hold = actions.place_account_hold(actor=bank.teller, account=account, amount=4_000_00, reason="Lien for loan",
                                      expires_at=expires)
    account.ledger_account.refresh_from_db()
    assert account.ledger_account.available == 6_000_00
    with pytest.raises(BankingError):
        bank.withdraw(account, 7_000_00)
    actions.release_account_hold(actor=bank.teller, account=account, hold=hold, reason="Loan repaid")
    account.ledger_account.refresh_from_db()
    assert account.ledger_account.available == 10_000_00


# -- fixed and recurring deposits -----------------------------------------------------


def test_fixed_deposit_opens_from_savings_with_the_quoted_figures(bank):
    set_business_date(D(2026, 1, 1))
    savings = bank.open_account(deposit=2_00_000_00)
    quote = actions.quote_fixed_deposit(product="FD", principal=1_00_000_00, months=24)
    # 730 days → the 730–1094 day slab, 7.00%. Eight quarters at 1.0175:
    #   1.0175⁸ = 1.148881782955927...; × 1,00,000 = 1,14,888.1782955 → ₹1,14,888.18
    assert (quote.term_days, quote.rate, quote.maturity_date) == (730, 7, D(2028, 1, 1))
    assert quote.maturity_amount == 1_14_888_18

    fd = actions.open_fixed_deposit(actor=bank.teller, source=savings, principal=1_00_000_00, months=24,
                                    idempotency_key="fd-1")
    savings.ledger_account.refresh_from_db()
    assert savings.ledger_account.balance == 1_00_000_00
    assert fd.ledger_account.balance == 1_00_000_00 and fd.ledger_account.parent.code == "2130"
    assert fd.maturity_amount == 1_14_888_18 and fd.number[6:8] == "30"
    again = actions.open_fixed_deposit(actor=bank.teller, source=savings, principal=1_00_000_00, months=24,
                                       idempotency_key="fd-1")
    assert again.pk == fd.pk


@pytest.mark.parametrize("months,days", [(0, 6), (120, 1), (121, 0)])
def test_fixed_deposit_term_outside_the_range_is_refused(bank, months, days):
    savings = bank.open_account(deposit=10_000_00)
    with pytest.raises(ValidationFailed, match="outside that range"):
        actions.open_fixed_deposit(actor=bank.teller, source=savings, principal=5_000_00, months=months, days=days,
                                   idempotency_key=f"fd-{months}-{days}")
    assert not DepositAccount.objects.filter(product__code="FD").exists()


def test_premature_closure_pays_the_run_rate_less_the_penalty(bank):
    set_business_date(D(2026, 1, 1))
    savings = bank.open_account(deposit=1_00_000_00)
    fd = actions.open_fixed_deposit(actor=bank.teller, source=savings, principal=1_00_000_00, months=24,
                                    idempotency_key="fd-early")
    set_business_date(D(2026, 7, 20))
    quote = actions.quote_premature_closure(fd)
    # Run 200 days (1 Jan → 20 Jul): slab 6.25% less the 1% penalty = 5.25%.
    #   two quarters: 1.013125² = 1.026422265625
    #   19 days: 1 + 5.25 × 19 / 36,500 = 1.00273287671...
    #   1,00,000 × 1.026422265625 × 1.00273287671 = 1,02,922.7351 → ₹1,02,922.74
    assert (quote.days_run, quote.slab_rate, quote.applied_rate) == (200, 6.25, 5.25)
    assert quote.interest == 2_922_74 and quote.payout == 1_02_922_74

    with pytest.raises(ValidationFailed, match="figures have changed"):
        actions.close_fixed_deposit_early(actor=bank.teller, account=fd, idempotency_key="c1",
                                          expected_payout=1_00_000_00)
    actions.close_fixed_deposit_early(actor=bank.teller, account=fd, idempotency_key="c2",
                                      expected_payout=1_02_922_74)
    fd.refresh_from_db()
    savings.ledger_account.refresh_from_db()
    assert fd.is_closed and fd.ledger_account.balance == 0
    assert savings.ledger_account.balance == 1_02_922_74
    assert LedgerAccount.objects.get(code="5102").balance == 2_922_74


def test_closed_within_seven_days_earns_nothing(bank):
    set_business_date(D(2026, 1, 1))
    savings = bank.open_account(deposit=10_000_00)
    fd = actions.open_fixed_deposit(actor=bank.teller, source=savings, principal=10_000_00, months=12,
                                    idempotency_key="fd-short")
    set_business_date(D(2026, 1, 5))
    quote = actions.quote_premature_closure(fd)
    assert quote.interest == 0 and quote.payout == 10_000_00


def test_fixed_deposit_from_a_frozen_account_is_refused(bank):
    savings = bank.open_account(deposit=10_000_00)
    request = actions.request_freeze(actor=bank.teller, account=savings, freeze="debit", reason="Order")
    approve_request(actor=bank.supervisor, request_id=request.pk)
    with pytest.raises(ValidationFailed, match="debit frozen"):
        actions.open_fixed_deposit(actor=bank.teller, source=savings, principal=5_000_00, months=12,
                                   idempotency_key="fd-frozen")


def test_recurring_deposit_opens_with_its_maturity_and_posts_nothing(bank):
    set_business_date(D(2026, 1, 1))
    savings = bank.open_account(deposit=1_000_00)
    rd = actions.open_recurring_deposit(actor=bank.teller, source=savings, instalment=500_00, months=6,
                                        idempotency_key="rd-1")
    # 181 days → 6.25%; the worked figure is in test_interest.test_recurring_deposit.
    assert rd.maturity_amount == 3_054_88 and rd.maturity_date == D(2026, 7, 1)
    assert rd.ledger_account.balance == 0 and rd.ledger_account.parent.code == "2140"
    with pytest.raises(ValidationFailed, match="outside that range"):
        actions.open_recurring_deposit(actor=bank.teller, source=savings, instalment=500_00, months=5,
                                       idempotency_key="rd-2")


# -- internet banking ----------------------------------------------------------------


def test_internet_banking_link_works_once(bank, django_capture_on_commit_callbacks):
    from banking.deposits import internet_banking as ib

    with django_capture_on_commit_callbacks(execute=True):
        user = ib.enable_internet_banking(actor=bank.teller, customer=bank.customer,
                                          link_for=lambda token: f"https://bank.example/activate/{token}/")
    bank.customer.refresh_from_db()
    assert bank.customer.user == user and user.role.value == "customer"
    assert not user.has_usable_password()
    assert len(mail.outbox) == 1 and bank.customer.email in mail.outbox[0].to
    token = mail.outbox[0].body.split("/activate/")[1].split("/")[0]

    with pytest.raises(ValidationFailed, match="at least 12"):
        ib.activate_internet_banking(token=token, password="short")
    ib.activate_internet_banking(token=token, password="a-long-river-crossing-42")
    user.refresh_from_db()
    assert user.check_password("a-long-river-crossing-42")
    with pytest.raises(ib.ActivationLinkUsed):
        ib.activate_internet_banking(token=token, password="another-long-passphrase-7")


def test_internet_banking_link_expires_after_a_day(bank, settings):
    from django.core import signing

    from banking.deposits import internet_banking as ib

    user = ib.enable_internet_banking(actor=bank.teller, customer=bank.customer, link_for=str)
    token = ib.make_activation_token(user)
    later = datetime.datetime.now().timestamp() + 24 * 3600 + 5
    import unittest.mock

    with unittest.mock.patch.object(signing.time, "time", return_value=later), \
            pytest.raises(ib.ActivationLinkExpired, match="expired"):
        ib.read_activation_token(token)


def test_internet_banking_needs_kyc_and_an_email(bank):
    from banking.deposits import internet_banking as ib

    draft = make_customer(branch=bank.branch, created_by=bank.teller, verified=False)
    with pytest.raises(NotPermitted):
        ib.enable_internet_banking(actor=bank.teller, customer=draft, link_for=str)
    no_email = make_customer(branch=bank.branch, created_by=bank.teller, email="")
    with pytest.raises(ValidationFailed, match="email"):
        ib.enable_internet_banking(actor=bank.teller, customer=no_email, link_for=str)
