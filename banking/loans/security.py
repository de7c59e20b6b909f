"""A secured loan's security: its valuation, and marking an NPA a loss asset.

- Gold (`value_gold_loans`): when operations enter the day's gold rate, every open
  gold loan's pledge is valued at it: grams × carat ÷ 24 × the rate per gram of
  24-carat gold (eligibility.gold_value, the rule the application's LTV uses).
- A vehicle or a home (`enter_valuation`): the valuer's figure, entered at the branch
  or by operations with the report's reference. An unsecured loan has nothing to
  value; gold is valued only at the day's rate.
- End of day's provisioning reads the latest valuation on or before the day (eod.py's
  classification) as the most the security covers (classification.secured_portion):
  the secured portion bears the doubtful classes' 25%/40%/100%, the rest 100%.
- Loss (`request_loss_marking`, then a supervisor's approval, `mark_loss_approved`):
  an NPA the bank or its auditor finds uncollectable is a loss asset (RBI's IRAC
  norms). A member of staff proposes it with the reason; a supervisor other than them
  approves it (maker-checker, `loans.mark_loss`). The loan's class becomes loss at
  once, with its classification history, and in the same transaction its provision
  rises to 100% of the principal outstanding (classification.provision for a loss):
  the rise is posted through the ledger's post_entry (Dr provisions for loan losses
  5301, Cr provisions held 2904, the approver as checker, keyed by the request) and
  added to the loan's book, which keeps the sum of the provision posted for the loan.
  So the day's classification step, which posts only the difference between the
  provision the class needs and the book's, posts nothing more for it. The book carries
  the mark, so every later day's end keeps it a loss and its interest in suspense. A
  loss asset is never upgraded by age or by payment.

Locks: the Loan row FOR UPDATE while its security or class changes; marking a loss
then the ledger's accounts (post_entry), then the loan's book row.
"""

from decimal import Decimal

from django.db import transaction
from django.db.models import F

from banking.audit.actions import record_event
from banking.core.errors import InvalidAmount, NotPermitted, ValidationFailed
from banking.core.money import format_money
from banking.ledger.actions import Line, post_entry
from banking.ledger.chart import LOAN_PROVISION_EXPENSE, LOAN_PROVISIONS
from banking.ledger.models import EntryKind

from . import classification, eligibility
from .actions import _gl, business_date
from .eod_models import LoanBook
from .models import Classification, Loan, LoanClassificationChange, LoanStatus, ProductKind
from .servicing_models import SecurityValuation, ValuationMethod

MARK_LOSS_KIND = "loans.mark_loss"


def latest_valuation(loan, on=None):
    on = on or business_date()
    return loan.valuations.filter(on__lte=on).order_by("-on", "-id").first()


def value_gold_loans(*, actor, rate):
    """Value every open gold loan's pledge at `rate` (a GoldRate). Returns how many."""
    loans = (Loan.objects.filter(product__kind=ProductKind.GOLD, status=LoanStatus.ACTIVE,
                                 application__gold_grams__isnull=False, application__gold_carat__isnull=False)
             .exclude(valuations__on=rate.on, valuations__method=ValuationMethod.GOLD_RATE)
             .select_related("application"))
    rows = [SecurityValuation(loan=loan, on=rate.on, method=ValuationMethod.GOLD_RATE,
                              value=eligibility.gold_value(loan.application.gold_grams, loan.application.gold_carat,
                                                           rate.rate_per_gram),
                              gold_rate_per_gram=rate.rate_per_gram, entered_by=actor,
                              note=f"{loan.application.gold_grams} g of {loan.application.gold_carat} carat")
            for loan in loans]
    SecurityValuation.objects.bulk_create(rows)
    return len(rows)


def _may_value(actor):
    return actor is not None and (actor.has_perm("users.access_teller_portal")
                                  or actor.has_perm("loans.manage_loan_products"))


@transaction.atomic
def enter_valuation(*, actor, loan, value, note, on=None):
    """Record the valuer's figure (paise) for a vehicle or home loan's security."""
    if not _may_value(actor):
        raise NotPermitted("Only branch staff or operations enter a security's valuation.")
    loan = Loan.objects.select_for_update(of=("self",)).select_related("product").get(pk=loan.pk)
    if not loan.product.secured:
        raise ValidationFailed(f"{loan.product.name}s are unsecured: there is no security to value.")
    if loan.product.kind == ProductKind.GOLD:
        raise ValidationFailed("Gold is valued at the day's gold rate, which operations enter.")
    if loan.status != LoanStatus.ACTIVE:
        raise ValidationFailed(f"Loan {loan.number} is {loan.get_status_display().lower()}: its security is not "
                               "valued.")
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidAmount("Enter the value in rupees and paise.")
    if value <= 0:
        raise InvalidAmount("Enter the value: an amount above zero.")
    note = " ".join(str(note or "").split())[:200]
    if not note:
        raise ValidationFailed("Name the valuer and the report's reference.")
    on = on or business_date()
    if on > business_date():
        raise ValidationFailed("A valuation is as of today or an earlier date, never a later one.")
    row = SecurityValuation.objects.create(loan=loan, on=on, method=ValuationMethod.VALUER, value=value, note=note,
                                           entered_by=actor)
    record_event(action="loans.security_valued", obj=loan, actor=actor,
                 summary=f"Loan {loan.number}: security valued at {format_money(value)} on {on:%d %b %Y} ({note})",
                 after={"valuation": row.pk, "value": value, "on": on, "note": note})
    return row


def secured_cover(loan, on=None):
    """What the security covers of the principal outstanding on `on`, as end of day
    takes it (for the loan's page)."""
    found = latest_valuation(loan, on)
    value = found.value if found else loan.application.gold_value
    return classification.secured_portion(outstanding=loan.outstanding, secured=loan.product.secured,
                                          security_value=value)


# -- loss ---------------------------------------------------------------------------------------


def _loss_checks(loan):
    if loan.status != LoanStatus.ACTIVE:
        raise ValidationFailed(f"Loan {loan.number} is {loan.get_status_display().lower()}: it cannot be marked a "
                               "loss.")
    if loan.classification == Classification.LOSS:
        raise ValidationFailed(f"Loan {loan.number} is already a loss asset.")
    if not loan.is_npa:
        raise ValidationFailed(f"Loan {loan.number} is {loan.get_classification_display()}: only a non-performing "
                               "asset is marked a loss.")


@transaction.atomic
def request_loss_marking(*, actor, loan, reason, idempotency_key=""):
    """Propose that an NPA is a loss asset; it waits for a supervisor's approval."""
    from banking.approvals.actions import submit_request
    from banking.approvals.models import ApprovalRequest

    if actor is None or not (actor.has_perm("users.approve_requests") or actor.has_perm("users.access_ops_portal")):
        raise NotPermitted("A supervisor or operations propose marking a loan a loss.")
    loan = Loan.objects.select_for_update(of=("self",)).select_related("customer", "branch").get(pk=loan.pk)
    _loss_checks(loan)
    reason = " ".join(str(reason or "").split())[:500]
    if not reason:
        raise ValidationFailed("Give the reason the loan is uncollectable; the checker and the audit trail see it.")
    if ApprovalRequest.objects.filter(kind=MARK_LOSS_KIND, status="pending", payload__loan_id=loan.pk).exists():
        raise ValidationFailed(f"Marking loan {loan.number} a loss is already waiting for approval.")
    return submit_request(actor=actor, kind=MARK_LOSS_KIND, amount=loan.outstanding, branch=loan.branch,
                          payload={"loan_id": loan.pk, "number": loan.number, "reason": reason},
                          summary=f"Mark loan {loan.number} ({loan.customer.display_name}, "
                                  f"{loan.get_classification_display()}) a loss asset",
                          idempotency_key=idempotency_key)


def mark_loss_approved(approval, checker):
    """The approval handler for MARK_LOSS_KIND: the loan still an NPA, its class
    becomes loss (with its history), its book carries the mark, and its provision
    rises to 100% at once (`_provide_for_loss`)."""
    loan = (Loan.objects.select_for_update(of=("self",)).select_related("product", "application", "ledger_account")
            .filter(pk=approval.payload.get("loan_id")).first())
    if loan is None:
        raise ValidationFailed("The loan named in this request no longer exists.")
    _loss_checks(loan)
    today = business_date()
    before = loan.classification
    LoanBook.objects.update_or_create(loan=loan, defaults={"loss": True})
    provision = _provide_for_loss(loan, approval, checker)
    loan.classification = Classification.LOSS
    loan.save(update_fields=["classification"])
    reason = f"Marked a loss asset: {approval.payload.get('reason', '')}"[:200]
    LoanClassificationChange.objects.create(loan=loan, on=today, classification=Classification.LOSS,
                                            days_past_due=loan.days_past_due, reason=reason)
    record_event(action="loans.marked_loss", obj=loan, actor=checker,
                 summary=f"Loan {loan.number} marked a loss asset (was {before})",
                 before={"classification": before},
                 after={"classification": Classification.LOSS, "request": approval.pk,
                        "provision_percent": str(Decimal(100)), "provision": provision})
    return {"loan": loan.number, "classification": Classification.LOSS, "provision": provision}


def _provide_for_loss(loan, approval, checker):
    """Post the rise of `loan`'s provision to what a loss asset needs and add it to the
    loan's book; return the provision now held. The entry is keyed by the request, so
    one request posts it once; the book is raised by the amount posted (an increment,
    as the day's end writes it), so book and ledger agree even when the day's
    classification of the loan commits in between."""
    needed = classification.provision(classification=Classification.LOSS, outstanding=loan.outstanding,
                                      secured_portion=secured_cover(loan))
    held = LoanBook.objects.get(loan=loan).provision
    change = needed - held
    if change > 0:
        post_entry(actor=approval.maker, checker=checker, kind=EntryKind.OTHER, reference=loan.number,
                   narration=f"Loan {loan.number} (loss): provision {format_money(needed)}, up "
                             f"{format_money(change)}"[:200],
                   idempotency_key=f"loan-loss-provision-{approval.pk}",
                   lines=[Line.debit(_gl(LOAN_PROVISION_EXPENSE), change), Line.credit(_gl(LOAN_PROVISIONS), change)])
        LoanBook.objects.filter(loan=loan).update(provision=F("provision") + change)
        held += change
    return held


def describe_loss(payload):
    loan = Loan.objects.select_related("customer", "product").filter(pk=payload.get("loan_id")).first()
    if loan is None:
        return [("Loan", f"{payload.get('number', '')} (no longer exists)")]
    return [("Loan", f"{loan.number} · {loan.product.name}"),
            ("Borrower", f"{loan.customer.display_name} (CIF {loan.customer.cif})"),
            ("Classification now", f"{loan.get_classification_display()}, {loan.days_past_due} days past due"),
            ("Principal outstanding", format_money(loan.outstanding)),
            ("Reason", payload.get("reason", "")),
            ("On approval", "The loan is a loss asset from today: 100% of the principal outstanding is provided "
                            "at once, and its interest stays in suspense.")]
