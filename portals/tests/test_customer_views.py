"""Customers at the counter: search, 360, the KYC wizard step by step (plain and
HTMX), drafts, documents, and the supervisor's verification."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from banking.approvals.models import ApprovalRequest
from banking.customers import actions
from banking.customers.models import Customer, KycDocument, KycStatus
from banking.customers.samples import sample_pdf, sample_png
from banking.customers.tests.factories import (
    make_complete_draft,
    make_draft,
    make_verified_customer,
    unique_aadhaar,
    unique_pan,
)
from banking.testing import make_branch, make_user
from banking.users.roles import Role

HTMX = {"HX-Request": "true"}


@pytest.fixture
def branch(db):
    return make_branch()


@pytest.fixture
def teller(branch):
    return make_user(Role.TELLER, branch=branch)


@pytest.fixture
def supervisor(branch):
    return make_user(Role.SUPERVISOR, branch=branch, approval_limit=10_00_000_00)


def step_url(customer, step):
    return reverse("teller:kyc-step", kwargs={"pk": customer.pk, "step": step})


def png(name="photo.png"):
    return SimpleUploadedFile(name, sample_png(), content_type="image/png")


def pdf(name="proof.pdf"):
    return SimpleUploadedFile(name, sample_pdf(), content_type="application/pdf")


PERSONAL = {
    "customer_type": "individual", "first_name": "Meena", "middle_name": "", "last_name": "Kulkarni",
    "date_of_birth": "1988-07-21", "guardian_name": "", "mobile": "98200 12345", "email": "meena@example.in",
    "occupation": "Teacher", "income_band": "5l_10l", "relationship_manager": "",
}
ADDRESS = {
    "permanent-line1": "4 Lake View", "permanent-line2": "Powai", "permanent-city": "Mumbai",
    "permanent-state": "Maharashtra", "permanent-pincode": "400076", "same_as_permanent": "on",
}
DECLARATIONS = {"is_pep": "no", "fatca_us_person": "no", "tax_residency_other": "", "risk_category": "low",
                "confirmed": "on"}


# -- the wizard, step by step ----------------------------------------------------------


def test_personal_step_creates_a_draft_and_moves_to_identity(client, teller):
    client.force_login(teller)

    response = client.post(reverse("teller:customer-new"), {**PERSONAL, "action": "next"})

    customer = Customer.objects.get()
    assert response.status_code == 302 and response["Location"] == step_url(customer, "identity")
    assert customer.display_name == "Meena Kulkarni" and customer.mobile == "9820012345"
    assert customer.kyc_status == KycStatus.DRAFT and customer.created_by == teller


def test_personal_step_over_htmx_answers_with_the_next_step_fragment(client, teller):
    client.force_login(teller)

    response = client.post(reverse("teller:customer-new"), {**PERSONAL, "action": "next"}, headers=HTMX)

    customer = Customer.objects.get()
    assert response.status_code == 200
    assert response["HX-Push-Url"] == step_url(customer, "identity")
    assert 'id="kyc-wizard"' in response.text and "<html" not in response.text
    assert "Personal details saved to the draft" in response.text
    assert 'aria-current="step"' in response.text and "Identity documents" in response.text


@pytest.mark.parametrize("change,field,message", [
    ({"date_of_birth": "2999-01-01"}, "date_of_birth", "The date of birth cannot be in the future."),
    ({"date_of_birth": "2015-01-01"}, "guardian_name", "The customer is under 18"),
    ({"mobile": "12345"}, "mobile", "Enter a 10-digit Indian mobile number"),
    ({"first_name": ""}, "first_name", "This field is required."),
])
def test_bad_personal_details_are_refused_on_their_step_and_nothing_is_saved(client, teller, change, field, message):
    client.force_login(teller)

    response = client.post(reverse("teller:customer-new"), {**PERSONAL, **change, "action": "next"}, headers=HTMX)

    assert response.status_code == 200
    assert message in response.text
    assert response.context["forms"]["form"].has_error(field)
    assert not Customer.objects.exists()


def test_changing_the_type_redraws_the_form_for_a_firm(client, teller):
    client.force_login(teller)
    response = client.post(reverse("teller:customer-new"), {**PERSONAL, "customer_type": "company",
                                                            "action": "retype"}, headers=HTMX)
    form = response.context["forms"]["form"]
    assert "legal_name" in form.fields and "first_name" not in form.fields
    assert "Date of incorporation" in response.text
    assert not Customer.objects.exists()


def test_identity_step_records_numbers_masked_and_uploads(client, teller):
    customer = make_draft(teller)
    client.force_login(teller)
    pan, aadhaar = unique_pan(), unique_aadhaar()

    response = client.post(step_url(customer, "identity"), {
        "pan": pan, "aadhaar": aadhaar, "photo": png(), "signature": png("sig.png"),
        "identity_proof": pdf(), "action": "next",
    }, headers=HTMX)

    assert response.status_code == 200
    assert response["HX-Push-Url"] == step_url(customer, "address")
    assert customer.identity("pan").number == pan
    assert set(customer.kyc_documents.values_list("kind", flat=True)) == {"photo", "signature", "identity_proof"}
    page = client.get(step_url(customer, "identity")).text
    assert pan not in page and aadhaar not in page
    assert customer.identity("aadhaar").masked in page


@pytest.mark.parametrize("change,field,message", [
    ({"pan": "ABCDE12345"}, "pan", "Enter a valid PAN"),
    ({"aadhaar": "234567890123"}, "aadhaar", "not a valid Aadhaar number"),
    ({"photo": "bad"}, "photo", "Upload a JPEG or PNG image here"),
    ({"identity_proof": "bad"}, "identity_proof", "Upload a PDF, JPEG or PNG file"),
    ({"identity_proof": "big"}, "identity_proof", "at most 5 MB"),
    ({"photo": "pdf"}, "photo", "JPEG or PNG image here"),
])
def test_bad_identity_input_is_refused_and_changes_nothing(client, teller, change, field, message):
    customer = make_draft(teller)
    client.force_login(teller)
    data = {"pan": unique_pan(), "aadhaar": unique_aadhaar(), "signature": png("sig.png"), "action": "next"}
    files = {
        "bad": SimpleUploadedFile("photo.png", b"GIF89a not really a png", content_type="image/png"),
        "big": SimpleUploadedFile("scan.pdf", b"%PDF-1.4\n" + b"0" * (5 * 1024 * 1024), content_type="application/pdf"),
        "pdf": pdf("photo.pdf"),
    }
    data.update({key: files.get(value, value) for key, value in change.items()})

    response = client.post(step_url(customer, "identity"), data, headers=HTMX)

    assert response.status_code == 200 and "HX-Push-Url" not in response
    assert message in response.text
    assert response.context["forms"]["form"].has_error(field)
    assert not customer.identity_documents.exists()
    assert not KycDocument.objects.exists()


def test_a_duplicate_pan_is_refused_beside_the_field(client, teller):
    pan = unique_pan()
    other = make_draft(teller, first_name="Existing")
    actions.add_identity_document(actor=teller, customer=other, doc_type="pan", number=pan)
    customer = make_draft(teller)
    client.force_login(teller)

    response = client.post(step_url(customer, "identity"), {"pan": pan.lower(), "aadhaar": unique_aadhaar(),
                                                            "action": "next"})

    assert response.status_code == 200
    assert "already on file for another customer" in response.text
    assert not customer.identity_documents.exists()


def test_address_and_declarations_steps_then_review(client, teller):
    customer = make_draft(teller)
    actions.add_identity_document(actor=teller, customer=customer, doc_type="pan", number=unique_pan())
    client.force_login(teller)

    response = client.post(step_url(customer, "address"), {**ADDRESS, "address_proof": pdf(), "action": "next"})
    assert response["Location"] == step_url(customer, "declarations")
    assert str(customer.address("permanent")).startswith("4 Lake View")

    response = client.post(step_url(customer, "declarations"), {**DECLARATIONS, "is_pep": "yes", "action": "next"})
    assert "at least high" in response.text  # a PEP cannot stay low risk
    response = client.post(step_url(customer, "declarations"), {**DECLARATIONS, "action": "next"})
    assert response["Location"] == step_url(customer, "review")

    review = client.get(step_url(customer, "review"))
    assert "The photograph has not been uploaded." in review.text
    assert "Officially valid document" not in review.text
    assert review.context["gaps"]


def test_a_different_correspondence_address_is_kept_and_dropped_again(client, teller):
    customer = make_draft(teller)
    client.force_login(teller)
    other = {"correspondence-line1": "Flat 3, Green Park", "correspondence-city": "Pune",
             "correspondence-state": "Maharashtra", "correspondence-pincode": "411001"}
    data = {**ADDRESS, **other, "action": "next"}
    del data["same_as_permanent"]

    client.post(step_url(customer, "address"), data)
    assert str(customer.address("correspondence")).startswith("Flat 3, Green Park")

    client.post(step_url(customer, "address"), {**ADDRESS, **other, "action": "next"})
    assert customer.address("correspondence") is None


def test_a_correspondence_address_is_checked_only_when_it_differs(client, teller):
    customer = make_draft(teller)
    client.force_login(teller)
    data = {**ADDRESS, "correspondence-pincode": "12", "action": "next"}
    del data["same_as_permanent"]

    response = client.post(step_url(customer, "address"), data)

    assert response.context["forms"]["correspondence"].has_error("line1")
    assert not customer.addresses.exists()


def test_a_bad_pincode_is_refused(client, teller):
    customer = make_draft(teller)
    client.force_login(teller)
    response = client.post(step_url(customer, "address"), {**ADDRESS, "permanent-pincode": "012345",
                                                           "action": "next"})
    assert "6-digit PIN code" in response.text
    assert not customer.addresses.exists()


def test_save_and_finish_later_goes_to_the_drafts_where_it_can_be_resumed(client, teller):
    customer = make_draft(teller)
    client.force_login(teller)

    response = client.post(step_url(customer, "identity"), {"pan": unique_pan(), "aadhaar": unique_aadhaar(),
                                                            "action": "later"}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("teller:kyc-drafts")
    assert "Saved the KYC draft of Priya Sharma" in response.text
    # The photograph is still missing, so the draft resumes on the identity step.
    assert step_url(customer, "identity") in response.text


def test_drafts_list_shows_mine_and_the_branchs(client, teller, branch):
    mine = make_draft(teller, first_name="Mine")
    colleague = make_user(Role.TELLER, branch=branch)
    theirs = make_draft(colleague, first_name="Theirs")
    elsewhere = make_draft(make_user(Role.TELLER, branch=make_branch()), first_name="Elsewhere")
    client.force_login(teller)

    own = client.get(reverse("teller:kyc-drafts")).text
    whole = client.get(reverse("teller:kyc-drafts") + "?who=branch").text

    assert mine.display_name in own and theirs.display_name not in own
    assert mine.display_name in whole and theirs.display_name in whole
    assert elsewhere.display_name not in whole


def test_the_drafts_list_asks_no_more_queries_for_more_drafts(client, teller, django_assert_max_num_queries):
    make_complete_draft(teller, first_name="First")
    client.force_login(teller)
    url = reverse("teller:kyc-drafts")
    client.get(url)  # the session's first touch
    with django_assert_max_num_queries(20) as few:
        assert "First" in client.get(url).text
    for n in range(5):  # some with their documents on file, some without
        (make_complete_draft if n % 2 else make_draft)(teller, first_name=f"Later{n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(url).text
    assert all(f"Later{n}" in page for n in range(5))


def test_review_submits_for_verification(client, teller):
    customer = make_complete_draft(teller)
    client.force_login(teller)

    response = client.post(step_url(customer, "review"), {"action": "submit"}, headers=HTMX)

    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("teller:customer-detail", kwargs={"pk": customer.pk})
    customer.refresh_from_db()
    assert customer.kyc_status == KycStatus.PENDING
    approval = ApprovalRequest.objects.get()
    assert approval.kind == "customers.kyc_verification"


def test_a_submitted_kyc_cannot_be_edited(client, teller):
    customer = make_complete_draft(teller)
    actions.submit_kyc(actor=teller, customer=customer)
    client.force_login(teller)

    response = client.post(step_url(customer, "personal"), {**PERSONAL, "action": "next"}, follow=True)

    assert "waiting for a supervisor" in response.text
    customer.refresh_from_db()
    assert customer.first_name == "Priya"


def test_another_branch_sees_the_customer_but_cannot_edit_the_kyc(client, teller):
    customer = make_draft(teller)
    elsewhere = make_user(Role.TELLER, branch=make_branch())
    client.force_login(elsewhere)

    assert client.get(reverse("teller:customer-detail", kwargs={"pk": customer.pk})).status_code == 200
    response = client.get(step_url(customer, "personal"))
    assert response.status_code == 302
    assert response["Location"] == reverse("teller:customer-detail", kwargs={"pk": customer.pk})


def test_removing_an_upload_from_the_draft(client, teller):
    customer = make_complete_draft(teller)
    photo = customer.kyc_documents.get(kind="photo")
    client.force_login(teller)

    response = client.post(step_url(customer, "identity"), {"action": f"remove-doc-{photo.pk}"}, headers=HTMX)

    assert response.status_code == 200
    assert not KycDocument.objects.filter(pk=photo.pk).exists()
    assert "Removed the photograph" in response.text


def test_unknown_step_is_404(client, teller):
    customer = make_draft(teller)
    client.force_login(teller)
    assert client.get(step_url(customer, "nowhere")).status_code == 404


# -- search ---------------------------------------------------------------------------


def test_search_is_bank_wide_and_htmx_gets_only_the_results(client, teller, supervisor):
    elsewhere = make_user(Role.TELLER, branch=make_branch())
    far_away = make_draft(elsewhere, first_name="Farida", last_name="Khan", mobile="9000011111")
    pan = unique_pan()
    actions.add_identity_document(actor=elsewhere, customer=far_away, doc_type="pan", number=pan)
    client.force_login(teller)
    url = reverse("teller:customer-search")

    assert client.get(url).context["table"] is None
    full = client.post(url, {"q": "farida"})
    assert "Farida Khan" in full.text and "<html" in full.text

    fragment = client.post(url, {"q": pan.lower()}, headers={**HTMX, "HX-Target": "customer-results"})
    assert "Farida Khan" in fragment.text and "<html" not in fragment.text
    assert 'id="customer-results"' in fragment.text
    assert "HX-Push-Url" not in fragment and "HX-Replace-Url" not in fragment
    assert client.post(url, {"q": far_away.cif}).context["table"].rows[0]
    assert "No customer matches" in client.post(url, {"q": "zzzz"}).text


def test_search_shows_at_most_fifty_and_says_so(client, teller):
    from banking.customers.models import CifCounter

    for n in range(51):
        Customer.objects.create(cif=CifCounter.next_cif(), first_name="Amit", last_name=f"Shah{n}",
                                home_branch=teller.branch, created_by=teller)
    client.force_login(teller)
    response = client.post(reverse("teller:customer-search"), {"q": "amit"})
    assert len(response.context["table"].rows) == 50
    assert "More than 50 customers match" in response.text


# -- customer 360 -----------------------------------------------------------------------


def test_customer_360_shows_profile_kyc_masked_ids_documents_and_requests(client, teller):
    customer = make_complete_draft(teller)
    approval = actions.submit_kyc(actor=teller, customer=customer)
    client.force_login(teller)

    response = client.get(reverse("teller:customer-detail", kwargs={"pk": customer.pk}))

    text = response.text
    assert response.status_code == 200
    assert customer.identity("pan").masked in text and customer.identity("pan").number not in text
    assert customer.identity("aadhaar").masked in text
    assert f"request #{approval.pk}" in text
    document = customer.kyc_documents.get(kind="photo")
    assert reverse("teller:customer-document", kwargs={"pk": customer.pk, "document_pk": document.pk}) in text
    assert 'hx-get="' + reverse("teller:customer-accounts", kwargs={"pk": customer.pk}) in text


def test_customer_360_of_a_rejected_kyc_shows_the_reason(client, teller, supervisor):
    from banking.approvals.actions import reject_request

    customer = make_complete_draft(teller)
    approval = actions.submit_kyc(actor=teller, customer=customer)
    reject_request(actor=supervisor, request_id=approval.pk, reason="The address proof is older than 3 months.")
    client.force_login(teller)

    page = client.get(reverse("teller:customer-detail", kwargs={"pk": customer.pk})).text
    wizard = client.get(step_url(customer, "review")).text
    mine = client.get(reverse("teller:my-requests")).text

    for text in (page, wizard, mine):
        assert "The address proof is older than 3 months." in text


# -- documents --------------------------------------------------------------------------


def test_a_document_is_served_to_staff_with_its_own_type_and_no_caching(client, teller):
    customer = make_complete_draft(teller)
    document = customer.kyc_documents.get(kind="identity_proof")
    client.force_login(make_user(Role.TELLER, branch=make_branch()))

    response = client.get(reverse("teller:customer-document", kwargs={"pk": customer.pk, "document_pk": document.pk}))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert {"private", "no-store"} <= {part.strip() for part in response["Cache-Control"].split(",")}
    assert "default-src 'none'" in response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content).startswith(b"%PDF-")


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.OPERATIONS, Role.AUDITOR, Role.COMPLIANCE])
def test_a_document_is_refused_to_other_roles(client, teller, role):
    customer = make_complete_draft(teller)
    document = customer.kyc_documents.first()
    client.force_login(make_user(role))

    response = client.get(reverse("teller:customer-document", kwargs={"pk": customer.pk, "document_pk": document.pk}))

    assert response.status_code == 403


def test_a_document_under_another_customers_address_is_404(client, teller):
    customer, other = make_complete_draft(teller), make_draft(teller, first_name="Other")
    document = customer.kyc_documents.first()
    client.force_login(teller)
    url = reverse("teller:customer-document", kwargs={"pk": other.pk, "document_pk": document.pk})
    assert client.get(url).status_code == 404


def test_a_customer_with_internet_banking_cannot_reach_staff_views(client, teller, supervisor):
    customer = make_verified_customer(teller, supervisor)
    login = make_user(Role.CUSTOMER)
    Customer.objects.filter(pk=customer.pk).update(user=login)
    client.force_login(login)
    for url in (reverse("teller:customer-detail", kwargs={"pk": customer.pk}), step_url(customer, "personal"),
                reverse("teller:customer-search"), reverse("teller:kyc-drafts")):
        assert client.get(url).status_code == 403


# -- the supervisor's side ---------------------------------------------------------------


def test_supervisor_sees_the_entered_data_beside_the_documents_and_verifies(client, teller, supervisor):
    customer = make_complete_draft(teller)
    approval = actions.submit_kyc(actor=teller, customer=customer)
    client.force_login(supervisor)

    detail = client.get(reverse("supervisor:request-detail", kwargs={"pk": approval.pk}))
    text = detail.text
    assert "KYC verification" in text and "Priya Sharma" in text
    assert customer.identity("pan").masked in text and customer.identity("pan").number not in text
    assert 'data-testid="kyc-verification-documents"' in text
    for document in customer.kyc_documents.all():
        assert reverse("teller:customer-document", kwargs={"pk": customer.pk, "document_pk": document.pk}) in text

    client.post(reverse("supervisor:request-approve", kwargs={"pk": approval.pk}))
    customer.refresh_from_db()
    assert customer.kyc_status == KycStatus.VERIFIED
    assert customer.rekyc_due_on == timezone.localdate().replace(year=timezone.localdate().year + 10)


def test_supervisor_rejects_with_a_reason_and_the_customer_follows(client, teller, supervisor):
    customer = make_complete_draft(teller)
    approval = actions.submit_kyc(actor=teller, customer=customer)
    client.force_login(supervisor)

    client.post(reverse("supervisor:request-reject", kwargs={"pk": approval.pk}),
                {"reason": "The signature does not match the PAN card."})

    customer.refresh_from_db()
    assert customer.kyc_status == KycStatus.REJECTED
    assert customer.kyc_rejection_reason == "The signature does not match the PAN card."


def test_other_kinds_have_no_kyc_panel(client, teller, supervisor):
    from banking.approvals.tests.factories import make_request, registered_test_kind

    with registered_test_kind():
        approval = make_request(teller)
        client.force_login(supervisor)
        text = client.get(reverse("supervisor:request-detail", kwargs={"pk": approval.pk})).text
    assert "kyc-verification-documents" not in text


def test_minor_with_guardian_is_accepted_by_the_wizard(client, teller):
    client.force_login(teller)
    born = (timezone.localdate() - datetime.timedelta(days=365 * 10)).isoformat()
    client.post(reverse("teller:customer-new"), {**PERSONAL, "date_of_birth": born, "guardian_name": "Anil Kulkarni",
                                                 "action": "next"})
    assert Customer.objects.get().guardian_name == "Anil Kulkarni"
