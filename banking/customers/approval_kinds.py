"""Customers' kinds of maker-checker work, registered by the approvals app's autodiscovery.

- `customers.kyc_verification`: a teller submitted a customer's KYC; a supervisor
  of the customer's home branch verifies it (handler) or rejects it with a reason
  (on_reject), and the customer's KYC status follows. Payload:
  {"customer_id", "cif"}. The customer cannot be changed while the request waits,
  so the description, read from the customer's file, is what was submitted.
"""

import datetime

from django.utils import timezone

from banking.core.errors import ValidationFailed

from .actions import reject_kyc, verify_kyc
from .models import OFFICIALLY_VALID, AddressKind, Customer, DocumentType


def verify_approved_kyc(approval, checker):
    customer = verify_kyc(checker=checker, approval=approval)
    return {"customer_id": customer.pk, "cif": customer.cif, "rekyc_due_on": customer.rekyc_due_on}


def follow_rejection(approval, checker):
    reject_kyc(checker=checker, approval=approval)


def _yes_no(value):
    return "Yes" if value else "No"


def describe_kyc(payload):
    """The customer's file as the maker entered it, identity numbers masked."""
    customer = (
        Customer.objects.select_related("home_branch", "relationship_manager")
        .prefetch_related("identity_documents", "addresses")
        .filter(pk=payload.get("customer_id"), cif=payload.get("cif")).first()
    )
    if customer is None:
        raise ValidationFailed("The customer in this request is no longer on file.")
    today = timezone.localdate()
    rows = [("CIF", customer.cif), ("Customer type", customer.get_customer_type_display())]
    if customer.is_individual:
        rows.append(("Name", customer.display_name))
        born = customer.date_of_birth
        rows.append(("Date of birth", f"{born:%d %b %Y} (age {customer.age_on(today)})" if born else ""))
        if customer.guardian_name:
            rows.append(("Guardian", customer.guardian_name))
    else:
        rows.append(("Registered name", customer.legal_name))
        rows.append(("Incorporated on", f"{customer.date_of_birth:%d %b %Y}" if customer.date_of_birth else ""))
    rows += [
        ("Mobile", customer.mobile),
        ("Email", customer.email),
        ("Occupation", customer.occupation),
        ("Annual income", customer.get_income_band_display()),
    ]
    for doc_type in [DocumentType.PAN, *OFFICIALLY_VALID]:
        document = customer.identity(doc_type)
        if document is not None:
            expiry = f", valid until {document.expires_on:%d %b %Y}" if document.expires_on else ""
            rows.append((doc_type.label, f"{document.masked}{expiry}"))
    for kind in AddressKind:
        address = customer.address(kind)
        if address is not None:
            rows.append((f"{kind.label} address", str(address)))
        elif kind == AddressKind.CORRESPONDENCE:
            rows.append((f"{kind.label} address", "Same as permanent"))
    rows += [
        ("Politically exposed person", _yes_no(customer.is_pep)),
        ("US person (FATCA)", _yes_no(customer.fatca_us_person)),
        ("Other tax residencies (CRS)", customer.tax_residency_other or "None"),
        ("Risk category", customer.get_risk_category_display()),
        ("Home branch", customer.home_branch.name),
    ]
    if customer.relationship_manager:
        rows.append(("Relationship manager", customer.relationship_manager.display_name))
    return rows


KINDS = [
    {
        "kind": "customers.kyc_verification",
        "label": "KYC verification",
        "handler": verify_approved_kyc,
        "describe": describe_kyc,
        "on_reject": follow_rejection,
        "checker_permission": "users.approve_requests",
        # Documents may need a second look or a call to the customer: a week, not a day.
        "expires_after": datetime.timedelta(days=7),
    }
]
