"""What waits for a supervisor about one customer: the one list the customer 360's
Open requests panel and its account cards both read, so that they cannot disagree."""

from banking.approvals.models import ApprovalRequest
from banking.deposits.models import DepositAccount
from banking.loans.models import Loan, LoanApplication


def pending_for(customer):
    """Pending requests about `customer`: their KYC, their deposit accounts (opening,
    freeze, closure, including joint ones) and their loans, newest first."""
    requests = ApprovalRequest.objects.pending()
    accounts = DepositAccount.objects.for_customer(customer).values_list("pk", flat=True)
    applications = LoanApplication.objects.filter(customer=customer).values_list("pk", flat=True)
    loans = Loan.objects.filter(customer=customer).values_list("pk", flat=True)
    about = (
        requests.filter(payload__customer_id=customer.pk)
        | requests.naming(["deposits."], "account_id", accounts)
        | requests.naming(["loans."], "application_id", applications)
        | requests.naming(["loans."], "loan_id", loans)
    )
    return list(about.select_related("maker", "checker").newest_first())
