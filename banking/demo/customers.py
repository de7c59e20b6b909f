"""The demo bank's customers: KYC taken by the Fort branch's teller and verified by
its supervisor through the approval queue, as at a real counter. Run again, it
finds each customer by PAN (through the blind index) and leaves them be."""

import datetime

from django.core.files.uploadedfile import SimpleUploadedFile

from banking.approvals.actions import approve_request
from banking.customers import actions
from banking.customers.models import AddressKind, Customer, IdentityDocument, KycDocumentKind
from banking.customers.samples import sample_pdf, sample_png
from banking.users.models import User

from .data import CUSTOMERS


def seed_customers():
    """Create the verified demo customers that are missing; link the demo customer
    login to its customer record. Returns the customers by PAN."""
    customers = {}
    for spec in CUSTOMERS:
        found = IdentityDocument.objects.with_number("pan", spec["pan"]).select_related("customer").first()
        customer = found.customer if found else _onboard(spec)
        if spec.get("login") and customer.user_id is None:
            Customer.objects.filter(pk=customer.pk).update(user=User.objects.get(username=spec["login"]))
        customers[spec["pan"]] = customer
    return customers


def _onboard(spec):
    teller = User.objects.get(username=spec["teller"])
    supervisor = User.objects.get(username=spec["checker"])
    individual = spec["personal"].get("customer_type", "individual") == "individual"
    customer = actions.create_customer(actor=teller, **{**spec["personal"],
                                                        "date_of_birth": datetime.date.fromisoformat(
                                                            spec["personal"]["date_of_birth"])})
    actions.add_identity_document(actor=teller, customer=customer, doc_type="pan", number=spec["pan"])
    if spec.get("aadhaar"):
        actions.add_identity_document(actor=teller, customer=customer, doc_type="aadhaar", number=spec["aadhaar"])
    uploads = [(KycDocumentKind.SIGNATURE, "signature.png", sample_png(160, 50, (240, 240, 240))),
               (KycDocumentKind.IDENTITY_PROOF, "identity.pdf", sample_pdf("Proof of identity (demo)")),
               (KycDocumentKind.ADDRESS_PROOF, "address.pdf", sample_pdf("Proof of address (demo)"))]
    if individual:
        uploads.insert(0, (KycDocumentKind.PHOTO, "photo.png", sample_png(90, 110, spec.get("colour", (11, 61, 110)))))
    for kind, name, content in uploads:
        content_type = "image/png" if name.endswith(".png") else "application/pdf"
        actions.upload_document(actor=teller, customer=customer, kind=kind,
                                upload=SimpleUploadedFile(name, content, content_type=content_type))
    actions.set_address(actor=teller, customer=customer, kind=AddressKind.PERMANENT, **spec["address"])
    actions.record_declarations(actor=teller, customer=customer, **spec.get("declarations", {
        "is_pep": False, "fatca_us_person": False}))
    approval = actions.submit_kyc(actor=teller, customer=customer)
    approve_request(actor=supervisor, request_id=approval.pk)
    customer.refresh_from_db()
    return customer
