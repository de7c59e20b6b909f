"""The loan module's maker-checker work, registered by the approvals app's autodiscovery.

- loans.product_change              {"product", "effective_from", "terms": {...}}  operations check
- loans.sanction                    {"application_id", "number"}  up to ₹10,00,000: a supervisor
- loans.sanction_branch_manager     the same, up to ₹1,00,00,000: a branch manager
- loans.sanction_credit_committee   the same, above that: the credit committee
- loans.cash_over_limit             {"loan_id", "what", "amount", "counts", "idempotency_key", "till_id", and
                                    for a prepayment "principal", "choice"}: cash above the teller's cash limit
                                    for a loan's dues, a part-prepayment or a foreclosure, a supervisor
                                    (servicing.py)
- loans.mark_loss                   {"loan_id", "number", "reason"}: an NPA marked a loss asset, a supervisor

A sanction request is described in words from the application: the KFS figures and
each eligibility check as the form showed it. Approving one sanctions the loan, and
an application the customer made online is disbursed at once (online.py).
"""

import datetime

from django.utils import timezone

from banking.core.money import format_money

from . import eligibility
from .actions import (
    PRODUCT_CHANGE_KIND,
    SANCTION_BANDS,
    create_approved_product_version,
    lapse_sanction,
    reject_sanction,
)
from .models import Loan, LoanApplication, PrepaymentChoice, RepaymentKind
from .online import came_online, sanction_and_disburse
from .security import MARK_LOSS_KIND, describe_loss, mark_loss_approved
from .servicing import CASH_OVER_LIMIT_KIND, CASH_PAYS, repay_approved_cash

TERM_LABELS = {
    "min_amount": "Smallest loan", "max_amount": "Largest loan", "min_months": "Shortest tenure (months)",
    "max_months": "Longest tenure (months)", "rate_type": "Rate type", "rate": "Rate or spread (% p.a.)",
    "benchmark": "Benchmark", "reset_months": "Reset every (months)", "processing_fee_percent": "Processing fee (%)",
    "processing_fee_cap": "Processing fee cap", "gst_percent": "GST on fees (%)",
    "penal_charge_percent": "Penal charge (% p.a. on overdue)", "prepayment_charge_percent": "Prepayment charge (%)",
    "schedule_type": "Schedule", "max_foir_percent": "Maximum FOIR (%)", "min_bureau_score": "Minimum bureau score",
    "max_ltv_percent": "Maximum LTV (%)", "allocation_order": "Repayments pay",
}


def describe_product_change(payload):
    rows = [("Product", str(payload.get("product", ""))), ("Takes effect", str(payload.get("effective_from", "")))]
    for name, value in (payload.get("terms") or {}).items():
        if name in ("min_amount", "max_amount", "processing_fee_cap") and isinstance(value, int):
            value = format_money(value)
        rows.append((TERM_LABELS.get(name, name), "—" if value in (None, "") else str(value)))
    return rows


def describe_sanction(payload):
    application = (LoanApplication.objects.select_related("customer", "product", "product_version", "branch",
                                                           "deposit_account", "acknowledged_by")
                   .filter(pk=payload.get("application_id")).first())
    if application is None:
        return [("Application", f"{payload.get('number', '')} (no longer exists)")]
    terms = application.product_version
    rows = [
        ("Application", f"{application.number} · {application.product.name}"),
        ("Applicant", f"{application.customer.display_name} (CIF {application.customer.cif})"),
        ("Purpose", application.purpose),
        ("Amount", format_money(application.amount)),
        ("Tenure", f"{application.months} months, {terms.get_schedule_type_display()}"),
        ("Rate", f"{application.rate}% a year, {terms.get_rate_type_display().lower()}"),
        ("Instalment", format_money(application.emi)),
        ("Processing fee", f"{format_money(application.processing_fee)} + GST {format_money(application.gst_on_fee)}"),
        ("Total interest", format_money(application.total_interest)),
        ("Total payable", format_money(application.total_payable)),
        ("APR (with fees)", f"{application.apr}%"),
        ("Pays into", application.deposit_account.number),
    ]
    collateral = application.gold_value if application.gold_value else None
    assessment = eligibility.assess(
        terms=terms, rate=application.rate, amount=application.amount, months=application.months,
        monthly_income=application.monthly_income, existing_emis=application.existing_emis,
        bureau_score=application.bureau_score, collateral_value=collateral)
    for number, check in enumerate(assessment.checks, start=1):
        rows.append((f"Eligibility {number}", ("Meets: " if check.ok else "Fails: ") + check.words))
    rows.append(("Bureau score from", application.get_bureau_source_display()))
    if application.gold_value:
        rows.append(("Gold pledged", f"{application.gold_grams} g of {application.gold_carat} carat at "
                                     f"{format_money(application.gold_rate_per_gram)} a gram (24 carat)"))
    acknowledged = "Not yet"
    if application.is_acknowledged:
        by = application.acknowledged_by
        who = "in internet banking" if came_online(application) else f"attested by {by.get_full_name() or by.username}"
        acknowledged = (f"{application.acknowledgement} ({who}, "
                        f"{timezone.localtime(application.acknowledged_at):%d %b %Y %H:%M})")
    rows.append(("KFS acknowledged", acknowledged))
    return rows


def describe_cash_over_limit(payload):
    loan = Loan.objects.select_related("customer", "product").filter(pk=payload.get("loan_id")).first()
    if loan is None:
        return [("Loan", f"{payload.get('number', '')} (no longer exists)")]
    from banking.teller.denominations import SHORT_LABELS

    counts = payload.get("counts") or {}
    notes = ", ".join(f"{SHORT_LABELS[name]} × {count}" for name, count in counts.items() if count and name in
                      SHORT_LABELS)
    what = payload.get("what", RepaymentKind.DUES)
    rows = [("Loan", f"{loan.number} · {loan.product.name}"),
            ("Borrower", f"{loan.customer.display_name} (CIF {loan.customer.cif})"),
            ("For", RepaymentKind(what).label if what in RepaymentKind.values else str(what)),
            ("Cash", format_money(payload.get("amount", 0))), ("Notes and coins", notes)]
    if what == RepaymentKind.PREPAYMENT:
        choice = payload.get("choice", "")
        rows += [("Principal ahead", format_money(payload.get("principal", 0))),
                 ("Borrower's choice", PrepaymentChoice(choice).label if choice in PrepaymentChoice.values else
                  str(choice))]
    pays = CASH_PAYS.get(what, CASH_PAYS[RepaymentKind.DUES])
    rows.append(("On approval", f"It pays {pays}, and the cash is counted into the teller's till."))
    return rows


KINDS = [
    {"kind": PRODUCT_CHANGE_KIND, "label": "Loan product change", "handler": create_approved_product_version,
     "describe": describe_product_change, "checker_permission": "loans.manage_loan_products"},
] + [
    # An online personal loan is paid into the customer's account as it is sanctioned (online.py).
    {"kind": kind, "label": f"Loan sanction ({who})", "handler": sanction_and_disburse,
     "describe": describe_sanction, "checker_permission": permission, "on_reject": reject_sanction,
     "on_lapse": lapse_sanction}
    for _limit, kind, permission, who in SANCTION_BANDS
]
KINDS.append({"kind": CASH_OVER_LIMIT_KIND, "label": "Loan cash over the teller's limit",
              "handler": repay_approved_cash, "describe": describe_cash_over_limit,
              "expires_after": datetime.timedelta(hours=1)})
KINDS.append({"kind": MARK_LOSS_KIND, "label": "Loan marked a loss asset", "handler": mark_loss_approved,
              "describe": describe_loss})
