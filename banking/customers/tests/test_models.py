import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import timezone

from banking.core.identifiers import verhoeff_valid
from banking.customers.models import (
    CifCounter,
    Customer,
    CustomerType,
    DocumentType,
    IdentityDocument,
    RiskCategory,
    check_identity_number,
    normalise_mobile,
    sniff_content_type,
)
from banking.customers.samples import sample_pdf, sample_png

from .factories import make_draft, unique_aadhaar, unique_pan


def customer(**fields):
    defaults = {"first_name": "Asha", "last_name": "Rao", "date_of_birth": datetime.date(1985, 1, 1)}
    return Customer(**{**defaults, **fields})


def errors_of(candidate):
    with pytest.raises(ValidationError) as caught:
        candidate.clean()
    return caught.value.message_dict


@pytest.mark.django_db
def test_cif_numbers_are_sequential_with_a_verhoeff_check_digit():
    first, second = CifCounter.next_cif(), CifCounter.next_cif()
    assert len(first) == 10 and verhoeff_valid(first) and verhoeff_valid(second)
    assert int(second[:-1]) == int(first[:-1]) + 1


def test_a_date_of_birth_in_the_future_is_refused():
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    assert errors_of(customer(date_of_birth=tomorrow)) == {
        "date_of_birth": ["The date of birth cannot be in the future."]
    }


def test_a_minor_needs_a_guardian():
    ten_years_ago = timezone.localdate().replace(year=timezone.localdate().year - 10)
    assert "guardian_name" in errors_of(customer(date_of_birth=ten_years_ago))
    customer(date_of_birth=ten_years_ago, guardian_name="Ramesh Rao").clean()


def test_an_individual_needs_first_and_last_names_and_a_firm_its_registered_name():
    assert set(errors_of(customer(first_name="", last_name=""))) == {"first_name", "last_name"}
    firm = customer(customer_type=CustomerType.COMPANY, legal_name="")
    assert errors_of(firm) == {"legal_name": ["Enter the registered name of the firm, company or trust."]}


def test_a_firm_gives_its_date_of_incorporation_not_in_the_future():
    future = timezone.localdate() + datetime.timedelta(days=30)
    firm = customer(customer_type=CustomerType.TRUST, legal_name="Seva Trust", date_of_birth=future)
    assert errors_of(firm) == {"date_of_birth": ["The date of incorporation cannot be in the future."]}
    firm = customer(customer_type=CustomerType.TRUST, legal_name="Seva Trust", date_of_birth=None)
    assert errors_of(firm) == {"date_of_birth": ["Enter the date of incorporation or registration."]}


@pytest.mark.parametrize("typed,stored", [("+91 98765 43210", "9876543210"), ("098765-43210", "9876543210"),
                                          ("9876543210", "9876543210")])
def test_mobile_numbers_are_stored_as_ten_digits(typed, stored):
    assert normalise_mobile(typed) == stored


def test_a_mobile_number_must_be_indian():
    assert "mobile" in errors_of(customer(mobile="12345"))


@pytest.mark.parametrize("doc_type,number", [
    ("pan", "ABCDE1234"), ("pan", "1BCDE1234F"), ("aadhaar", "234567890123"), ("aadhaar", "12345678901"),
    ("passport", "12345678"), ("voter_id", "AB1234567"), ("driving_licence", "MH12"),
])
def test_bad_identity_numbers_are_refused(doc_type, number):
    with pytest.raises(ValidationError):
        check_identity_number(doc_type, number)


def test_good_identity_numbers_are_normalised():
    assert check_identity_number("pan", "abcde 1234 f") == "ABCDE1234F"
    aadhaar = unique_aadhaar()
    assert check_identity_number("aadhaar", f"{aadhaar[:4]} {aadhaar[4:8]} {aadhaar[8:]}") == aadhaar
    assert check_identity_number("driving_licence", "MH12 20110012345") == "MH1220110012345"


def test_uploads_are_typed_by_their_first_bytes():
    assert sniff_content_type(sample_png()[:16]) == "image/png"
    assert sniff_content_type(sample_pdf()[:16]) == "application/pdf"
    assert sniff_content_type(b"\xff\xd8\xff\xe0\x00\x10JFIF") == "image/jpeg"
    assert sniff_content_type(b"GIF89a") is None
    assert sniff_content_type(b"MZ\x90\x00") is None


def test_risk_assessment_follows_the_declarations():
    assert customer().assessed_risk() == RiskCategory.LOW
    assert customer(fatca_us_person=True).assessed_risk() == RiskCategory.MEDIUM
    assert customer(customer_type=CustomerType.COMPANY).assessed_risk() == RiskCategory.MEDIUM
    assert customer(is_pep=True).assessed_risk() == RiskCategory.HIGH


@pytest.mark.parametrize("risk,years", [("high", 2), ("medium", 8), ("low", 10)])
def test_rekyc_falls_due_by_risk(risk, years):
    assert Customer.rekyc_due_from(datetime.date(2026, 3, 1), risk) == datetime.date(2026 + years, 3, 1)


def test_identity_numbers_are_encrypted_at_rest_and_found_through_the_blind_index(teller):
    draft = make_draft(teller)
    pan = unique_pan()
    document = IdentityDocument(customer=draft, doc_type=DocumentType.PAN)
    document.set_number(pan.lower())
    document.save()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT number FROM customers_identitydocument WHERE id = %s", [document.pk])
        stored = cursor.fetchone()[0]
    assert pan not in stored
    assert IdentityDocument.objects.with_number("pan", pan).get() == document
    assert document.masked == f"{pan[:2]}XXX{pan[5]}XX{pan[-2:]}"


def test_the_database_refuses_one_pan_on_two_customers(teller):
    pan = unique_pan()
    for n, person in enumerate([make_draft(teller), make_draft(teller, first_name="Other")]):
        document = IdentityDocument(customer=person, doc_type=DocumentType.PAN)
        document.set_number(pan)
        if n == 0:
            document.save()
        else:
            with pytest.raises(IntegrityError):
                document.save()


def test_search_finds_by_name_cif_mobile_and_pan(teller):
    from banking.customers import actions

    priya = make_draft(teller, first_name="Priya", last_name="Sharma", mobile="9876500001")
    ravi = make_draft(teller, first_name="Ravi", last_name="Menon", mobile="9123400002")
    pan = unique_pan()
    actions.add_identity_document(actor=teller, customer=ravi, doc_type="pan", number=pan)

    assert list(Customer.objects.search("priya sha")) == [priya]
    assert list(Customer.objects.search(priya.cif)) == [priya]
    assert list(Customer.objects.search("91234")) == [ravi]
    assert list(Customer.objects.search(pan.lower())) == [ravi]
    assert list(Customer.objects.search("nobody")) == []
    assert list(Customer.objects.search("  ")) == []
