"""Journey: a supervisor proposes marking a non-performing loan a loss asset (a
proposal without a reason is refused in words and nothing is queued; the proposer
cannot approve their own request), and a second supervisor reads it in the queue and
approves it: the loan is a loss at once, with its 100% provision posted then."""

import re

import pytest
from playwright.sync_api import expect

from banking.approvals.models import ApprovalRequest
from banking.ledger.chart import LOAN_PROVISIONS
from banking.ledger.models import LedgerAccount
from banking.loans.models import LoanBook
from banking.loans.security import MARK_LOSS_KIND
from banking.testing import make_user
from banking.users.roles import Role

from .helpers import VIEWPORTS, named, screenshot, sign_in
from .test_loan_portfolio import loan_book  # noqa: F401 a fixture: Priya's loan, sub-standard

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("width", [1280, 390])
def test_a_loss_is_proposed_and_approved_by_a_second_supervisor(page, loan_book, width):  # noqa: F811
    bank, loan, _due = loan_book
    checker = named(make_user(Role.SUPERVISOR, branch=bank.branch, approval_limit=10_00_000_00), "Kiran", "Joshi")
    page.set_viewport_size(VIEWPORTS[width])

    sign_in(page, bank.supervisor)
    page.goto(f"/teller/loans/{loan.number}/")
    page.get_by_role("link", name="Security", exact=True).click()
    expect(page.get_by_role("heading", name="Security and classification")).to_be_visible()
    proposal = page.get_by_role("form", name="Propose marking the loan a loss")
    # the refusal: no reason given, said in words, nothing queued
    proposal.get_by_role("button", name="Send for approval").click()
    expect(page.get_by_text("Give the reason the loan is uncollectable.")).to_be_visible()
    assert not ApprovalRequest.objects.filter(kind=MARK_LOSS_KIND).exists()
    page.get_by_label("Why the loan is uncollectable").fill("Borrower untraceable; recovery suit dismissed")
    screenshot(page, f"loan-loss-proposal-{width}")
    proposal.get_by_role("button", name="Send for approval").click()
    approval = ApprovalRequest.objects.get(kind=MARK_LOSS_KIND)
    expect(page.get_by_text(f"waits for another supervisor's approval (request {approval.pk})")).to_be_visible()
    # The proposer cannot approve it.
    page.goto(f"/supervisor/queue/{approval.pk}/")
    expect(page.get_by_text("You made this request, so another supervisor must check it.")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Approve"))).to_have_count(0)

    page.context.clear_cookies()
    sign_in(page, checker)
    page.goto(f"/supervisor/queue/{approval.pk}/")
    details = page.get_by_role("region", name="Loan marked a loss asset")
    expect(details).to_contain_text(loan.number)
    expect(details).to_contain_text("Borrower untraceable; recovery suit dismissed")
    expect(details).to_contain_text("100% of the principal outstanding is provided at once")
    screenshot(page, f"loan-loss-approval-{width}")
    page.get_by_role("button", name=re.compile("^Approve")).click()
    expect(page.get_by_text(re.compile("Approved and carried out"))).to_be_visible()

    loan.refresh_from_db()
    assert loan.classification == "loss"
    assert LedgerAccount.objects.get(code=LOAN_PROVISIONS).balance == loan.outstanding
    assert LoanBook.objects.get(loan=loan).provision == loan.outstanding
    page.goto(f"/teller/loans/{loan.number}/")
    expect(page.get_by_text("Marked a loss asset: Borrower untraceable")).to_be_visible()
    screenshot(page, f"loan-loss-marked-{width}")
