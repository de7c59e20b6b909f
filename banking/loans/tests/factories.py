"""A branch with its chart, staff, a customer with a funded savings account, for the loan tests."""

import uuid
from decimal import Decimal

from banking.deposits.tests.factories import Bank
from banking.testing import make_user


def key():
    return uuid.uuid4().hex


class LoanBank(Bank):
    """The deposit tests' bank, with a branch manager, two operations users and the
    customer's savings account (₹1,000 in it)."""

    def __init__(self):
        super().__init__()
        self.manager = make_user("branch_manager", branch=self.branch)
        self.ops = make_user("operations")
        self.ops_checker = make_user("operations")
        self.account = self.open_account("SB", deposit=1_000_00)

    def apply(self, product="PL", amount=5_00_000_00, months=60, **fields):
        from banking.loans.actions import apply_for_loan

        values = {"purpose": "Home repairs", "monthly_income": 1_00_000_00, "existing_emis": 10_000_00,
                  "bureau_score": 760, "deposit_account": self.account, "customer": self.customer}
        values.update(fields)
        return apply_for_loan(actor=self.teller, product=product, amount=amount, months=months, **values)

    def acknowledged(self, **kwargs):
        from banking.loans.actions import acknowledge_kfs

        application = self.apply(**kwargs)
        return acknowledge_kfs(actor=self.teller, application=application,
                               statement="KFS handed over and explained; borrower signed it")

    def sanctioned(self, checker=None, **kwargs):
        from banking.approvals.actions import approve_request
        from banking.loans.actions import request_sanction

        application = self.acknowledged(**kwargs)
        approval = request_sanction(actor=self.teller, application=application)
        approve_request(actor=checker or self.supervisor, request_id=approval.pk)
        application.refresh_from_db()
        return application.loan

    def repo(self, rate="5.50"):
        from banking.loans.actions import business_date, enter_benchmark_rate

        return enter_benchmark_rate(actor=self.ops, benchmark="repo", effective_from=business_date(),
                                    rate=Decimal(rate))
