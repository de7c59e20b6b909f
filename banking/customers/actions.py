"""Customer and KYC actions: the only writers of customers, their identity
documents, addresses and uploaded proofs.

Design overview
- A teller creates a customer as a KYC draft (a CIF number is handed out at once),
  fills it in over several sittings, and submits it; a supervisor of the
  customer's home branch verifies or rejects it through the approval queue
  (kind `customers.kyc_verification`, see approval_kinds.py).
- Who may change what: only staff of the customer's home branch, and only while
  the KYC is open (draft, rejected, or pending with no live verification request
  because the request expired or failed). A verified customer is changed through
  re-KYC, not here; a customer waiting for verification is frozen so that the
  checker verifies exactly what they see.
- Locks: every writer locks the customer row (`SELECT ... FOR UPDATE`) before it
  checks the status, so a change cannot slip in between submission and
  verification, and two tellers working on one draft take turns. Creating a
  customer locks the CIF counter row for the moment it takes to number it.
- Errors: BankingError subclasses whose text is for the teller. ValidationFailed
  carries `field` in its details when one form field is at fault (a duplicate PAN
  names "pan"), so views can put the message beside that field. A refusal leaves
  nothing behind.
- Identity numbers are compared through their blind index (a PAN or Aadhaar held
  by another customer is refused before the unique constraint would be hit) and
  appear in the audit trail only masked.
- Uploads are judged by their first bytes (PDF, JPEG or PNG), never by the name
  or the browser's content type, and may be at most 5 MB. The file is written to
  private storage before its row; a removed or replaced file is deleted only once
  the transaction commits.
- Every change writes a `customers.*` audit event in its own transaction.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from banking.approvals.actions import submit_request
from banking.approvals.models import ApprovalRequest
from banking.audit.actions import record_event
from banking.core.errors import NotPermitted, StaleRequest, ValidationFailed

from .models import (
    EXPIRING,
    KYC_VERIFICATION,
    MAX_UPLOAD_BYTES,
    RISK_ORDER,
    SINGLE_KINDS,
    Address,
    AddressKind,
    CifCounter,
    Customer,
    DocumentType,
    IdentityDocument,
    KycDocument,
    KycDocumentKind,
    KycStatus,
    RiskCategory,
    check_identity_number,
    sniff_content_type,
)

PERSONAL_FIELDS = (
    "customer_type", "first_name", "middle_name", "last_name", "legal_name", "date_of_birth", "guardian_name",
    "mobile", "email", "occupation", "income_band", "relationship_manager",
)
ADDRESS_FIELDS = ("line1", "line2", "city", "state", "pincode")
MAX_UPLOAD_MB = MAX_UPLOAD_BYTES // (1024 * 1024)


# -- the record -----------------------------------------------------------------------


@transaction.atomic
def create_customer(*, actor, home_branch=None, **details):
    """A new customer in KYC draft, with a fresh CIF number. `details` are the
    personal fields (PERSONAL_FIELDS). Locks the CIF counter row."""
    home_branch = home_branch or _staff_branch(actor)
    customer = Customer(home_branch=home_branch, created_by=actor, kyc_status=KycStatus.DRAFT)
    _set_personal(customer, details)
    customer.cif = CifCounter.next_cif()
    customer.save()
    record_event(
        action="customers.customer_created", obj=customer, actor=actor,
        summary=f"Started KYC for {customer.display_name} ({customer.cif})", after=_personal_snapshot(customer),
    )
    return customer


@transaction.atomic
def update_customer(*, actor, customer, **details):
    """Change the personal details of a customer whose KYC is open. Locks the customer."""
    customer = _editable(actor, customer)
    before = _personal_snapshot(customer)
    _set_personal(customer, details)
    after = _personal_snapshot(customer)
    if after == before:
        return customer
    customer.updated_at = timezone.now()
    customer.save()
    record_event(
        action="customers.customer_updated", obj=customer, actor=actor,
        summary=f"Changed the personal details of {customer.display_name} ({customer.cif})",
        before={k: v for k, v in before.items() if after[k] != v},
        after={k: v for k, v in after.items() if before[k] != v},
    )
    return customer


def _set_personal(customer, details):
    unknown = set(details) - set(PERSONAL_FIELDS)
    if unknown:
        raise ValueError(f"not personal details: {sorted(unknown)}")
    for field, value in details.items():
        setattr(customer, field, "" if value is None and field not in ("date_of_birth", "relationship_manager")
                else value)
    try:
        customer.full_clean(exclude=["cif", "home_branch", "created_by"], validate_unique=False,
                            validate_constraints=False)
    except ValidationError as error:
        field, message = next(iter(_field_messages(error)))
        raise ValidationFailed(message, field=field) from None


def _personal_snapshot(customer):
    return {
        "customer_type": customer.customer_type, "name": customer.display_name,
        "date_of_birth": customer.date_of_birth, "guardian_name": customer.guardian_name,
        "mobile": customer.mobile, "email": customer.email, "occupation": customer.occupation,
        "income_band": customer.income_band, "relationship_manager": customer.relationship_manager_id,
    }


# -- identity documents -----------------------------------------------------------------


@transaction.atomic
def add_identity_document(*, actor, customer, doc_type, number, expires_on=None):
    """Record the customer's `doc_type` number, replacing the one on file. A PAN or
    Aadhaar already held by another customer is refused. Locks the customer."""
    customer = _editable(actor, customer)
    doc_type = DocumentType(doc_type)
    try:
        number = check_identity_number(doc_type, number)
    except ValidationError as error:
        raise ValidationFailed(error.messages[0], field=doc_type.value) from None
    if doc_type in EXPIRING:
        if expires_on is None:
            raise ValidationFailed(f"Enter the date the {doc_type.label.lower()} expires.", field="expires_on")
        if expires_on <= timezone.localdate():
            raise ValidationFailed(f"This {doc_type.label.lower()} has expired; ask for a valid document.",
                                   field="expires_on")
    else:
        expires_on = None
    _refuse_duplicate(customer, doc_type, number)

    document = customer.identity_documents.filter(doc_type=doc_type).first()
    before = {"masked": document.masked, "expires_on": document.expires_on} if document else None
    if document is None:
        document = IdentityDocument(customer=customer, doc_type=doc_type)
    elif document.number == number and document.expires_on == expires_on:
        return document
    document.set_number(number)
    document.expires_on = expires_on
    try:
        with transaction.atomic():
            document.save()
    except IntegrityError:
        # Another customer took the number between the check and the insert.
        raise ValidationFailed(_duplicate_message(doc_type), field=doc_type.value) from None
    _touch(customer)
    record_event(
        action="customers.identity_document_recorded", obj=customer, actor=actor,
        summary=f"Recorded {doc_type.label} {document.masked} for {customer.cif}",
        before=before, after={"doc_type": doc_type.value, "masked": document.masked, "expires_on": expires_on},
    )
    return document


@transaction.atomic
def remove_identity_document(*, actor, customer, doc_type):
    """Take a document's number off the customer's file. Locks the customer."""
    customer = _editable(actor, customer)
    document = customer.identity_documents.filter(doc_type=doc_type).first()
    if document is None:
        return
    masked = document.masked
    document.delete()
    _touch(customer)
    record_event(
        action="customers.identity_document_removed", obj=customer, actor=actor,
        summary=f"Removed {document.get_doc_type_display()} {masked} from {customer.cif}",
        before={"doc_type": doc_type, "masked": masked},
    )


def _refuse_duplicate(customer, doc_type, number):
    if doc_type not in (DocumentType.PAN, DocumentType.AADHAAR):
        return
    taken = IdentityDocument.objects.with_number(doc_type, number).exclude(customer=customer).exists()
    if taken:
        raise ValidationFailed(_duplicate_message(doc_type), field=doc_type.value)


def _duplicate_message(doc_type):
    return (
        f"This {doc_type.label} is already on file for another customer of the bank. A person has one CIF: "
        "search for the existing customer instead of creating a new one."
    )


# -- uploaded proofs --------------------------------------------------------------------


def check_upload(upload):
    """The upload's content type judged by its first bytes, or ValidationFailed.
    Also used by forms, so the teller hears about a bad file before anything is saved."""
    size = getattr(upload, "size", None) or 0
    if size <= 0:
        raise ValidationFailed("The file is empty. Scan the document again.", reason="empty")
    if size > MAX_UPLOAD_BYTES:
        raise ValidationFailed(
            f"The file is {size / (1024 * 1024):.1f} MB; the bank accepts at most {MAX_UPLOAD_MB} MB. "
            "Scan it at a lower resolution.", reason="size",
        )
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    content_type = sniff_content_type(head)
    if content_type is None:
        raise ValidationFailed("Upload a PDF, JPEG or PNG file. This file's content is of another type, "
                               "whatever its name says.", reason="type")
    return content_type


@transaction.atomic
def upload_document(*, actor, customer, kind, upload):
    """Keep `upload` as the customer's `kind` of proof. A photograph or signature
    replaces the one on file. Locks the customer."""
    customer = _editable(actor, customer)
    kind = KycDocumentKind(kind)
    try:
        content_type = check_upload(upload)
    except ValidationFailed as error:
        raise ValidationFailed(str(error), field=kind.value) from None
    replaced = list(customer.kyc_documents.filter(kind=kind)) if kind in SINGLE_KINDS else []
    for old in replaced:
        _delete_document(old)
    document = KycDocument(
        customer=customer, kind=kind, content_type=content_type, size=upload.size,
        sha256=KycDocument.digest(upload.chunks()), original_name=str(upload.name or "").rsplit("/", 1)[-1][:200],
        uploaded_by=actor,
    )
    upload.seek(0)
    document.file.save(upload.name or kind.value, upload, save=False)
    document.save()
    _touch(customer)
    record_event(
        action="customers.document_uploaded", obj=customer, actor=actor,
        summary=f"Uploaded the {kind.label.lower()} of {customer.cif}",
        before={"replaced": [old.sha256 for old in replaced]} if replaced else None,
        after={"document_id": document.pk, "kind": kind.value, "content_type": content_type,
               "size": document.size, "sha256": document.sha256},
    )
    return document


@transaction.atomic
def remove_document(*, actor, customer, document):
    """Take an uploaded proof off an open KYC. Locks the customer."""
    customer = _editable(actor, customer)
    if document.customer_id != customer.pk:
        raise NotPermitted("That document belongs to another customer.")
    _delete_document(document)
    _touch(customer)
    record_event(
        action="customers.document_removed", obj=customer, actor=actor,
        summary=f"Removed the {document.get_kind_display().lower()} of {customer.cif}",
        before={"document_id": document.pk, "kind": document.kind, "sha256": document.sha256},
    )


def _delete_document(document):
    storage, name = document.file.storage, document.file.name
    document.delete()
    transaction.on_commit(lambda: storage.delete(name))


# -- addresses and declarations ---------------------------------------------------------


@transaction.atomic
def set_address(*, actor, customer, kind, **fields):
    """Record the customer's `kind` of address (ADDRESS_FIELDS). Locks the customer."""
    customer = _editable(actor, customer)
    kind = AddressKind(kind)
    address = customer.addresses.filter(kind=kind).first() or Address(customer=customer, kind=kind)
    before = {field: getattr(address, field) for field in ADDRESS_FIELDS} if address.pk else None
    for field in ADDRESS_FIELDS:
        setattr(address, field, " ".join(str(fields.get(field) or "").split()))
    try:
        address.full_clean(exclude=["customer"], validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        field, message = next(iter(_field_messages(error)))
        raise ValidationFailed(message, field=field) from None
    after = {field: getattr(address, field) for field in ADDRESS_FIELDS}
    if before == after:
        return address
    address.save()
    _touch(customer)
    record_event(
        action="customers.address_recorded", obj=customer, actor=actor,
        summary=f"Recorded the {kind.label.lower()} address of {customer.cif}", before=before, after=after,
    )
    return address


@transaction.atomic
def remove_address(*, actor, customer, kind):
    """Drop the customer's `kind` of address (a correspondence address that is the
    same as the permanent one). Locks the customer."""
    customer = _editable(actor, customer)
    address = customer.addresses.filter(kind=kind).first()
    if address is None:
        return
    before = {field: getattr(address, field) for field in ADDRESS_FIELDS}
    address.delete()
    _touch(customer)
    record_event(
        action="customers.address_removed", obj=customer, actor=actor,
        summary=f"Removed the {AddressKind(kind).label.lower()} address of {customer.cif}", before=before,
    )


@transaction.atomic
def record_declarations(*, actor, customer, is_pep, fatca_us_person, tax_residency_other="", risk_category=None):
    """Record the PEP and FATCA/CRS declarations and the risk category. The
    category may be raised above what the declarations call for, never lowered
    below it (Customer.assessed_risk). Locks the customer."""
    customer = _editable(actor, customer)
    before = _declarations(customer)
    customer.is_pep = bool(is_pep)
    customer.fatca_us_person = bool(fatca_us_person)
    customer.tax_residency_other = " ".join(str(tax_residency_other or "").split())[:120]
    assessed = customer.assessed_risk()
    risk = RiskCategory(risk_category or assessed)
    if RISK_ORDER.index(risk) < RISK_ORDER.index(assessed):
        raise ValidationFailed(
            f"With these declarations the risk category is at least {assessed.label.lower()}.",
            field="risk_category",
        )
    customer.risk_category = risk
    customer.declared_at = timezone.now()
    customer.updated_at = customer.declared_at
    customer.save()
    record_event(
        action="customers.declarations_recorded", obj=customer, actor=actor,
        summary=f"Took the declarations of {customer.cif}: risk {risk.label.lower()}",
        before=before, after=_declarations(customer),
    )
    return customer


def _declarations(customer):
    return {"is_pep": customer.is_pep, "fatca_us_person": customer.fatca_us_person,
            "tax_residency_other": customer.tax_residency_other, "risk_category": customer.risk_category}


# -- maker-checker ---------------------------------------------------------------------


def live_kyc_request(customer):
    """The verification request waiting for a checker, if any."""
    return (ApprovalRequest.objects.pending().filter(kind=KYC_VERIFICATION, payload__customer_id=customer.pk)
            .order_by("-created_at").first())


def kyc_is_open(customer):
    """Can a teller change this customer's KYC now?"""
    if customer.kyc_status in (KycStatus.DRAFT, KycStatus.REJECTED):
        return True
    return customer.kyc_status == KycStatus.PENDING and live_kyc_request(customer) is None


@transaction.atomic
def submit_kyc(*, actor, customer):
    """Send a complete KYC to a supervisor of the customer's home branch; return
    the ApprovalRequest. Refused while anything in Customer.kyc_gaps() is missing.
    Locks the customer."""
    customer = _editable(actor, customer)
    gaps = customer.kyc_gaps()
    if gaps:
        raise ValidationFailed("The KYC is not complete yet: " + " ".join(message for _step, message in gaps))
    before = customer.kyc_status
    customer.kyc_status = KycStatus.PENDING
    customer.kyc_submitted_at = timezone.now()
    customer.kyc_rejection_reason = ""
    customer.updated_at = customer.kyc_submitted_at
    customer.save()
    approval = submit_request(
        actor=actor, kind=KYC_VERIFICATION, amount=None, branch=customer.home_branch,
        payload={"customer_id": customer.pk, "cif": customer.cif},
        summary=f"KYC verification: {customer.display_name} ({customer.cif})",
    )
    record_event(
        action="customers.kyc_submitted", obj=customer, actor=actor,
        summary=f"Submitted the KYC of {customer.cif} for verification (request #{approval.pk})",
        before={"kyc_status": before}, after={"kyc_status": customer.kyc_status, "request_id": approval.pk},
    )
    return approval


@transaction.atomic
def verify_kyc(*, checker, approval):
    """The checker's approval: the customer becomes KYC-verified, with re-KYC due
    by their risk category. Locks the customer. Called by the approval queue."""
    customer = _customer_of(approval)
    if customer.kyc_status != KycStatus.PENDING:
        raise StaleRequest(f"The KYC of {customer.cif} is no longer waiting for verification.")
    gaps = customer.kyc_gaps()
    if gaps:
        raise ValidationFailed("The KYC is not complete: " + " ".join(message for _step, message in gaps))
    now = timezone.now()
    customer.kyc_status = KycStatus.VERIFIED
    customer.kyc_verified_at = now
    customer.rekyc_due_on = Customer.rekyc_due_from(timezone.localdate(now), customer.risk_category)
    customer.kyc_rejection_reason = ""
    customer.updated_at = now
    customer.save()
    record_event(
        action="customers.kyc_verified", obj=customer, actor=checker,
        summary=f"Verified the KYC of {customer.display_name} ({customer.cif})",
        before={"kyc_status": KycStatus.PENDING},
        after={"kyc_status": KycStatus.VERIFIED, "risk_category": customer.risk_category,
               "rekyc_due_on": customer.rekyc_due_on, "request_id": approval.pk},
    )
    return customer


@transaction.atomic
def reject_kyc(*, checker, approval):
    """The checker's rejection: the KYC goes back to the branch with the reason,
    for a teller to put right and submit again. Locks the customer."""
    customer = _customer_of(approval)
    if customer.kyc_status != KycStatus.PENDING:
        return customer
    customer.kyc_status = KycStatus.REJECTED
    customer.kyc_rejection_reason = approval.decision_reason
    customer.updated_at = timezone.now()
    customer.save()
    record_event(
        action="customers.kyc_rejected", obj=customer, actor=checker,
        summary=f"Rejected the KYC of {customer.display_name} ({customer.cif})",
        before={"kyc_status": KycStatus.PENDING},
        after={"kyc_status": KycStatus.REJECTED, "reason": approval.decision_reason, "request_id": approval.pk},
    )
    return customer


def _customer_of(approval):
    customer = Customer.objects.select_for_update().filter(pk=approval.payload.get("customer_id")).first()
    if customer is None or customer.cif != approval.payload.get("cif"):
        raise ValidationFailed("The customer in this request is no longer on file.")
    return customer


# -- the rules every writer shares ------------------------------------------------------


def _staff_branch(actor):
    branch = getattr(actor, "branch", None)
    if branch is None:
        raise NotPermitted("Customers are taken on at a branch; your login has no branch.")
    return branch


def _editable(actor, customer):
    """The customer, locked, once `actor` may change their KYC."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if _staff_branch(actor).pk != customer.home_branch_id:
        raise NotPermitted(
            f"{customer.display_name or customer.cif} is a customer of {customer.home_branch.name}; "
            "their KYC is completed there."
        )
    if customer.kyc_status == KycStatus.VERIFIED:
        raise StaleRequest(f"The KYC of {customer.cif} is verified; changes now go through re-KYC.")
    if customer.kyc_status == KycStatus.PENDING and live_kyc_request(customer) is not None:
        raise StaleRequest(f"The KYC of {customer.cif} is waiting for a supervisor's verification and cannot "
                           "be changed until it is decided.")
    return customer


def _touch(customer):
    customer.updated_at = timezone.now()
    customer.save(update_fields=["updated_at"])


def _field_messages(error):
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            for item in errors:
                yield field, " ".join(item.messages)
    else:
        for message in error.messages:
            yield None, message
