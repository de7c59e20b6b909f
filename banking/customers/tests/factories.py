"""Customers for tests: drafts, complete KYCs ready to submit, and verified customers."""

import datetime
import itertools

from django.core.files.uploadedfile import SimpleUploadedFile

from banking.core.identifiers import with_check_digit
from banking.customers import actions
from banking.customers.models import AddressKind, KycDocumentKind
from banking.customers.samples import sample_pdf, sample_png

_serial = itertools.count(1)


def unique_pan():
    n = next(_serial)
    return f"ABCP{chr(65 + n % 26)}{n % 10000:04d}{chr(65 + (n // 26) % 26)}"


def unique_aadhaar():
    n = next(_serial)
    return with_check_digit(f"{234_567_000_000 // 10 + n:011d}")


def png_upload(name="photo.png", **options):
    return SimpleUploadedFile(name, sample_png(**options), content_type="image/png")


def pdf_upload(name="proof.pdf", text="Proof"):
    return SimpleUploadedFile(name, sample_pdf(text), content_type="application/pdf")


PERSON = {
    "first_name": "Priya", "last_name": "Sharma", "date_of_birth": datetime.date(1990, 4, 12),
    "mobile": "9876543210", "email": "priya@example.in", "occupation": "Engineer", "income_band": "10l_25l",
}
HOME = {"line1": "12 Hill Road", "line2": "Bandra West", "city": "Mumbai", "state": "Maharashtra",
        "pincode": "400050"}


def make_draft(teller, **details):
    return actions.create_customer(actor=teller, **{**PERSON, **details})


def make_complete_draft(teller, *, pan=None, aadhaar=None, **details):
    """A draft with everything KYC needs, ready to submit."""
    customer = make_draft(teller, **details)
    actions.add_identity_document(actor=teller, customer=customer, doc_type="pan", number=pan or unique_pan())
    if customer.is_individual:
        actions.add_identity_document(actor=teller, customer=customer, doc_type="aadhaar",
                                      number=aadhaar or unique_aadhaar())
        actions.upload_document(actor=teller, customer=customer, kind=KycDocumentKind.PHOTO, upload=png_upload())
    actions.upload_document(actor=teller, customer=customer, kind=KycDocumentKind.SIGNATURE,
                            upload=png_upload("signature.png", width=120, height=40))
    actions.upload_document(actor=teller, customer=customer, kind=KycDocumentKind.IDENTITY_PROOF,
                            upload=pdf_upload("pan.pdf"))
    actions.set_address(actor=teller, customer=customer, kind=AddressKind.PERMANENT, **HOME)
    actions.upload_document(actor=teller, customer=customer, kind=KycDocumentKind.ADDRESS_PROOF,
                            upload=pdf_upload("bill.pdf"))
    actions.record_declarations(actor=teller, customer=customer, is_pep=False, fatca_us_person=False)
    customer.refresh_from_db()
    return customer


def make_verified_customer(teller, supervisor, **details):
    from banking.approvals.actions import approve_request

    customer = make_complete_draft(teller, **details)
    approval = actions.submit_kyc(actor=teller, customer=customer)
    approve_request(actor=supervisor, request_id=approval.pk)
    customer.refresh_from_db()
    return customer
