import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from banking.approvals.actions import approve_request, reject_request
from banking.approvals.models import ApprovalRequest, Status
from banking.audit.models import AuditEvent
from banking.core.errors import NotPermitted, StaleRequest, ValidationFailed
from banking.customers import actions
from banking.customers.models import MAX_UPLOAD_BYTES, Customer, IdentityDocument, KycDocument, KycStatus
from banking.testing import make_branch, make_user
from banking.users.roles import Role

from .factories import make_complete_draft, make_draft, png_upload, unique_aadhaar, unique_pan


def test_creating_a_customer_hands_out_a_cif_and_audits_it(teller):
    customer = make_draft(teller)

    assert customer.kyc_status == KycStatus.DRAFT
    assert customer.home_branch == teller.branch
    assert len(customer.cif) == 10
    event = AuditEvent.objects.get(action="customers.customer_created")
    assert event.object_id == str(customer.pk) and event.actor_id == teller.pk


def test_a_future_date_of_birth_is_refused_and_nothing_is_created(teller):
    with pytest.raises(ValidationFailed, match="cannot be in the future") as caught:
        make_draft(teller, date_of_birth=timezone.localdate() + datetime.timedelta(days=1))
    assert caught.value.details["field"] == "date_of_birth"
    assert not AuditEvent.objects.filter(action="customers.customer_created").exists()


def test_a_minor_without_a_guardian_is_refused(teller):
    born = timezone.localdate().replace(year=timezone.localdate().year - 15)
    with pytest.raises(ValidationFailed, match="guardian") as caught:
        make_draft(teller, date_of_birth=born)
    assert caught.value.details["field"] == "guardian_name"
    assert make_draft(teller, date_of_birth=born, guardian_name="Sunita Sharma").is_minor


@pytest.mark.parametrize("doc_type,number,text", [
    ("pan", "ABCDE12345", "Enter a valid PAN"),
    ("aadhaar", "234567890123", "not a valid Aadhaar number"),
])
def test_invalid_pan_or_aadhaar_is_refused(teller, doc_type, number, text):
    customer = make_draft(teller)
    with pytest.raises(ValidationFailed, match=text) as caught:
        actions.add_identity_document(actor=teller, customer=customer, doc_type=doc_type, number=number)
    assert caught.value.details["field"] == doc_type
    assert not customer.identity_documents.exists()


@pytest.mark.parametrize("doc_type", ["pan", "aadhaar"])
def test_a_pan_or_aadhaar_held_by_another_customer_is_refused(teller, doc_type):
    number = unique_pan() if doc_type == "pan" else unique_aadhaar()
    first, second = make_draft(teller), make_draft(teller, first_name="Someone")
    actions.add_identity_document(actor=teller, customer=first, doc_type=doc_type, number=number)

    with pytest.raises(ValidationFailed, match="already on file for another customer"):
        actions.add_identity_document(actor=teller, customer=second, doc_type=doc_type, number=number.lower())
    assert not second.identity_documents.exists()
    # The same customer entering it again is no change, not a duplicate.
    actions.add_identity_document(actor=teller, customer=first, doc_type=doc_type, number=number)
    assert IdentityDocument.objects.count() == 1


def test_audit_shows_identity_numbers_only_masked(teller):
    customer = make_draft(teller)
    pan = unique_pan()
    actions.add_identity_document(actor=teller, customer=customer, doc_type="pan", number=pan)
    event = AuditEvent.objects.get(action="customers.identity_document_recorded")
    assert pan not in str(event.after) and pan not in event.summary


def test_a_passport_needs_a_future_expiry(teller):
    customer = make_draft(teller)
    with pytest.raises(ValidationFailed, match="expired"):
        actions.add_identity_document(actor=teller, customer=customer, doc_type="passport", number="J8369854",
                                      expires_on=timezone.localdate())
    document = actions.add_identity_document(actor=teller, customer=customer, doc_type="passport",
                                             number="j8369854", expires_on=timezone.localdate().replace(year=2040))
    assert document.masked == "XXXX9854"


def test_an_upload_is_kept_with_its_type_size_and_digest(teller):
    customer = make_draft(teller)
    document = actions.upload_document(actor=teller, customer=customer, kind="photo", upload=png_upload("me.jpg"))

    assert document.content_type == "image/png"
    assert document.file.name.startswith(f"kyc/{customer.cif}/photo-") and document.file.name.endswith(".png")
    assert "me" not in document.file.name.rsplit("/", 1)[-1]
    assert len(document.sha256) == 64 and document.size > 0
    assert document.file.read().startswith(b"\x89PNG")


def test_a_file_of_another_type_is_refused_whatever_its_name(teller):
    customer = make_draft(teller)
    fake = SimpleUploadedFile("scan.pdf", b"MZ\x90\x00 this is a program", content_type="application/pdf")

    with pytest.raises(ValidationFailed, match="PDF, JPEG or PNG") as caught:
        actions.upload_document(actor=teller, customer=customer, kind="identity_proof", upload=fake)
    assert caught.value.details["field"] == "identity_proof"
    assert not KycDocument.objects.exists()


def test_a_file_over_five_megabytes_is_refused(teller):
    customer = make_draft(teller)
    big = SimpleUploadedFile("big.pdf", b"%PDF-1.4\n" + b"0" * MAX_UPLOAD_BYTES, content_type="application/pdf")

    with pytest.raises(ValidationFailed, match="at most 5 MB"):
        actions.upload_document(actor=teller, customer=customer, kind="address_proof", upload=big)
    assert not KycDocument.objects.exists()


def test_a_new_photograph_replaces_the_old_one(teller):
    customer = make_draft(teller)
    old = actions.upload_document(actor=teller, customer=customer, kind="photo", upload=png_upload())
    new = actions.upload_document(actor=teller, customer=customer, kind="photo", upload=png_upload(rgb=(1, 2, 3)))

    assert list(customer.kyc_documents.all()) == [new]
    assert not KycDocument.objects.filter(pk=old.pk).exists()


def test_submitting_an_incomplete_kyc_is_refused(teller):
    customer = make_draft(teller)
    with pytest.raises(ValidationFailed, match="PAN is not on file"):
        actions.submit_kyc(actor=teller, customer=customer)
    customer.refresh_from_db()
    assert customer.kyc_status == KycStatus.DRAFT
    assert not ApprovalRequest.objects.exists()


def test_submit_then_verify(teller, supervisor):
    customer = make_complete_draft(teller)

    approval = actions.submit_kyc(actor=teller, customer=customer)
    customer.refresh_from_db()
    assert customer.kyc_status == KycStatus.PENDING
    assert approval.kind == "customers.kyc_verification" and approval.branch == teller.branch
    assert approval.amount is None

    approve_request(actor=supervisor, request_id=approval.pk)
    customer.refresh_from_db()
    assert customer.kyc_status == KycStatus.VERIFIED
    assert customer.kyc_verified_at is not None
    assert customer.rekyc_due_on == Customer.rekyc_due_from(timezone.localdate(), "low")
    assert AuditEvent.objects.filter(action="customers.kyc_verified", actor_id=supervisor.pk).exists()


def test_a_pep_is_high_risk_and_falls_due_for_rekyc_in_two_years(teller, supervisor):
    customer = make_complete_draft(teller)
    with pytest.raises(ValidationFailed, match="at least high"):
        actions.record_declarations(actor=teller, customer=customer, is_pep=True, fatca_us_person=False,
                                    risk_category="low")
    actions.record_declarations(actor=teller, customer=customer, is_pep=True, fatca_us_person=False)
    approve_request(actor=supervisor, request_id=actions.submit_kyc(actor=teller, customer=customer).pk)
    customer.refresh_from_db()
    today = timezone.localdate()
    assert customer.risk_category == "high"
    assert customer.rekyc_due_on == Customer.rekyc_due_from(today, "high")


def test_reject_sends_the_kyc_back_with_the_reason(teller, supervisor):
    customer = make_complete_draft(teller)
    approval = actions.submit_kyc(actor=teller, customer=customer)

    reject_request(actor=supervisor, request_id=approval.pk, reason="The photograph is not of the customer.")

    customer.refresh_from_db()
    assert customer.kyc_status == KycStatus.REJECTED
    assert customer.kyc_rejection_reason == "The photograph is not of the customer."
    assert AuditEvent.objects.filter(action="customers.kyc_rejected").exists()
    # Put right and sent again: the reason is cleared by the new submission.
    actions.upload_document(actor=teller, customer=customer, kind="photo", upload=png_upload())
    again = actions.submit_kyc(actor=teller, customer=customer)
    customer.refresh_from_db()
    assert customer.kyc_status == KycStatus.PENDING and customer.kyc_rejection_reason == ""
    assert again.pk != approval.pk


def test_nothing_changes_while_a_supervisor_is_verifying(teller):
    customer = make_complete_draft(teller)
    actions.submit_kyc(actor=teller, customer=customer)

    with pytest.raises(StaleRequest, match="waiting for a supervisor"):
        actions.update_customer(actor=teller, customer=customer, occupation="Doctor")
    with pytest.raises(StaleRequest):
        actions.submit_kyc(actor=teller, customer=customer)


def test_a_lapsed_request_lets_the_branch_submit_again(teller):
    customer = make_complete_draft(teller)
    approval = actions.submit_kyc(actor=teller, customer=customer)
    ApprovalRequest.objects.filter(pk=approval.pk).update(expires_at=timezone.now() - datetime.timedelta(minutes=1))

    assert actions.kyc_is_open(customer)
    assert customer in Customer.objects.kyc_open()
    assert actions.submit_kyc(actor=teller, customer=customer).status == Status.PENDING


def test_a_verified_customer_is_changed_only_through_rekyc(teller, supervisor):
    customer = make_complete_draft(teller)
    approve_request(actor=supervisor, request_id=actions.submit_kyc(actor=teller, customer=customer).pk)
    with pytest.raises(StaleRequest, match="re-KYC"):
        actions.set_address(actor=teller, customer=customer, kind="correspondence", line1="1 New Road",
                            city="Pune", state="Maharashtra", pincode="411001")


def test_only_the_home_branch_works_on_a_kyc(teller):
    customer = make_draft(teller)
    elsewhere = make_user(Role.TELLER, branch=make_branch())
    with pytest.raises(NotPermitted, match="completed there"):
        actions.update_customer(actor=elsewhere, customer=customer, occupation="Doctor")


def test_the_checker_cannot_verify_their_own_submission(supervisor):
    customer = make_complete_draft(supervisor)
    approval = actions.submit_kyc(actor=supervisor, customer=customer)
    with pytest.raises(NotPermitted):
        approve_request(actor=supervisor, request_id=approval.pk)


def test_describe_shows_the_entered_data_masked(teller):
    from banking.customers.approval_kinds import describe_kyc

    pan = unique_pan()
    customer = make_complete_draft(teller, pan=pan)
    rows = dict(describe_kyc({"customer_id": customer.pk, "cif": customer.cif}))
    assert rows["Name"] == "Priya Sharma"
    assert rows["PAN"] == customer.identity("pan").masked and pan not in str(rows)
    assert rows["Permanent address"].startswith("12 Hill Road")
    assert rows["Correspondence address"] == "Same as permanent"
    with pytest.raises(ValidationFailed):
        describe_kyc({"customer_id": customer.pk, "cif": "0000000000"})
