"""Loans applied for by the customer on the web site.

Design overview
- `apply_online`: a signed-in customer applies for a personal loan (the only loan the
  bank takes online; the others need collateral or documents seen at the branch). The
  application is taken for the customer's home branch through the same
  `actions.take_application` a teller's goes through, so every rule (KYC verified,
  their own active account, amount and tenure within the product, income above zero,
  FOIR, bureau score) is the same and written once. The bureau score always comes from
  the bureau: a customer does not type their own.
- `acknowledge_kfs_online`: the customer accepts the Key Facts Statement with their
  authenticator code. The portal checks the code (portals/customer/authenticator.py,
  as for payments) before calling this; the acknowledgement records that it was given
  online with the code, and the application goes at once to the same sanction queue a
  branch's application goes to (`actions.send_for_sanction`), for the authority its
  amount needs.
- An application is "online" when the customer's own login took it
  (`came_online`): a teller's application is acknowledged at the counter instead.
- `sanction_and_disburse` is the handler of the sanction kinds. It sanctions
  (`actions.sanction_approved_loan`, unchanged for the branch) and then, the bank's
  choice for an online personal loan, disburses it at once into the customer's own
  account the application named, less the processing fee and GST, under the
  sanctioning officer's authority and in the same transaction. If that disbursement
  is refused (the account was frozen or closed since), the sanction stands, the
  refusal is audited, and the branch disburses at the counter when it is put right.
  A branch's application is disbursed by the branch, as before.

Locks: `apply_online` as `take_application` (the customer's row, the branch's number
series); `acknowledge_kfs_online` the application row; the disbursement the Loan row,
then the ledger's accounts (actions.disburse_loan).

Errors (banking.core.errors): NotPermitted (not a customer with a login, someone
else's application, a branch's application), ValidationFailed (not a personal loan,
not eligible, already acknowledged), IdempotencyConflict.
"""

from django.db import transaction
from django.utils import timezone

from banking.audit.actions import record_event
from banking.core.errors import BankingError, NotPermitted, ValidationFailed
from banking.core.money import format_money
from banking.ledger.models import Channel

from . import actions
from .models import ApplicationStatus, Loan, LoanApplication, LoanProduct, ProductKind

ONLINE_PRODUCT = "PL"
ACKNOWLEDGEMENT = "Accepted online by the borrower with their authenticator code"


def customer_of(actor):
    customer = getattr(actor, "customer", None) if actor is not None else None
    if customer is None:
        raise NotPermitted("Only a customer signed in to internet banking applies online.")
    return customer


def online_products():
    """The loans a customer may apply for on the web site."""
    return LoanProduct.objects.active().filter(kind=ProductKind.PERSONAL)


def came_online(application):
    """Whether the customer's own login took `application` (not a teller)."""
    return application.customer.user_id is not None and application.created_by_id == application.customer.user_id


@transaction.atomic
def apply_online(*, actor, deposit_account, amount, months, purpose, monthly_income, existing_emis=0,
                 product=ONLINE_PRODUCT, idempotency_key):
    """The signed-in customer's application for a personal loan, for their home branch.
    Refused in words, writing nothing, as a teller's would be; the bureau is asked
    for the score."""
    customer = customer_of(actor)
    product = actions.find_product(product)
    if product.kind != ProductKind.PERSONAL:
        raise ValidationFailed(f"Online you can apply for a personal loan; for a {product.name.lower()} please "
                               f"visit your branch, {customer.home_branch.name}.")
    if not idempotency_key:
        raise ValidationFailed("The application form's key is missing; open the form again.")
    return actions.take_application(
        actor=actor, branch=customer.home_branch, customer=customer, product=product,
        deposit_account=deposit_account, amount=amount, months=months, purpose=purpose,
        monthly_income=monthly_income, existing_emis=existing_emis, bureau_score=None,
        idempotency_key=f"online-{customer.pk}-{idempotency_key}"[:64])


@transaction.atomic
def acknowledge_kfs_online(*, actor, application, idempotency_key=""):
    """The customer accepts their online application's KFS (the portal has checked
    their authenticator code) and it goes for sanction. Returns the approval request."""
    customer = customer_of(actor)
    application = actions._locked_application(application)
    if application.customer_id != customer.pk:
        raise NotPermitted("That application is not yours.")
    if not came_online(application):
        raise NotPermitted(f"Application {application.number} was taken at {application.branch.name}: its KFS "
                           "is acknowledged there, at the counter.")
    if application.status != ApplicationStatus.APPLIED:
        raise ValidationFailed(f"Application {application.number} is {application.get_status_display().lower()}; "
                               "its Key Facts Statement was accepted already.")
    application.status = ApplicationStatus.ACKNOWLEDGED
    application.acknowledged_at = timezone.now()
    application.acknowledged_by = actor
    application.acknowledgement = ACKNOWLEDGEMENT
    application.save(update_fields=["status", "acknowledged_at", "acknowledged_by", "acknowledgement"])
    record_event(action="loans.kfs_acknowledged", obj=application, actor=actor,
                 summary=f"KFS of {application.number} accepted online with the authenticator code",
                 before={"status": ApplicationStatus.APPLIED},
                 after={"status": application.status, "channel": Channel.INTERNET})
    return actions.send_for_sanction(actor=actor, application=application,
                                     idempotency_key=f"online-sanction-{application.number}-{idempotency_key}"[:64])


def sanction_and_disburse(approval, checker):
    """Handler of the sanction kinds: sanction, then pay an online application out at once."""
    result = actions.sanction_approved_loan(approval, checker)
    loan = Loan.objects.select_related("application__customer", "deposit_account").get(pk=result["loan_id"])
    if not came_online(loan.application):
        return result
    try:
        with transaction.atomic():
            disbursement = actions.disburse_loan(actor=checker, loan=loan, amount=loan.undisbursed,
                                                 idempotency_key=f"online-disburse-{loan.number}",
                                                 channel=Channel.INTERNET)
    except BankingError as error:
        record_event(action="loans.online_disbursement_refused", obj=loan, actor=checker,
                     summary=f"{loan.number} sanctioned; paying it into {loan.deposit_account.number} was refused: "
                             f"{error}"[:300],
                     after={"reason": str(error)})
        return result | {"disbursed": 0, "refusal": str(error)}
    return result | {"disbursed": disbursement.amount,
                     "paid_into": loan.deposit_account.number,
                     "net": disbursement.amount - disbursement.processing_fee - disbursement.gst_on_fee,
                     "words": f"{format_money(disbursement.amount)} paid into {loan.deposit_account.number}"}


def my_applications(customer):
    return (LoanApplication.objects.filter(customer=customer)
            .select_related("product", "product_version", "branch", "deposit_account", "customer"))
