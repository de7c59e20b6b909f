"""Customers (CIF) and their KYC.

Design overview
- A `Customer` is one person or entity known to the bank, with a CIF number that
  carries a Verhoeff check digit. Individuals have a date of birth; proprietorships,
  partnerships, companies and trusts a date of incorporation.
- KYC moves draft → pending verification → verified | rejected (maker-checker: a
  teller submits, a supervisor verifies). Risk category sets when re-KYC falls due:
  high every 2 years, medium every 8, low every 10.
- Identity numbers (PAN, Aadhaar, passport, voter ID, driving licence) are stored
  encrypted with a blind index beside them, so a PAN or Aadhaar already held by
  another customer is refused without decrypting anything, and a teller can find
  a customer by PAN without the database ever holding it in clear.
- Rules about one customer are `Customer.clean()`: names by type, a date of birth
  or incorporation not in the future, a guardian for a minor, an Indian mobile
  number. KYC completeness (what must be on file before submitting) is
  `Customer.kyc_gaps()`. actions.py enforces both; the forms show them first.
- Uploaded proofs (`KycDocument`) live in the "private" storage, outside every URL
  space; their type is judged by their first bytes, never by the name or the
  browser's word, and they are served only through a view that checks the viewer.
- CIF numbers: a nine-digit body from `CifCounter` (one row, locked while a
  customer is created) and a Verhoeff check digit.
"""

import hashlib
import re
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import storages
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone

from banking.core.crypto import EncryptedTextField, blind_index
from banking.core.identifiers import (
    is_valid_aadhaar,
    is_valid_pan,
    mask_aadhaar,
    mask_pan,
    mask_tail,
    normalise,
    with_check_digit,
)

MOBILE_RE = re.compile(r"^[6-9][0-9]{9}$")
PINCODE_RE = re.compile(r"^[1-9][0-9]{5}$")
ADULT_AGE = 18


class CustomerType(models.TextChoices):
    INDIVIDUAL = "individual", "Individual"
    PROPRIETORSHIP = "proprietorship", "Sole proprietorship"
    PARTNERSHIP = "partnership", "Partnership firm"
    COMPANY = "company", "Company"
    TRUST = "trust", "Trust"


class KycStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PENDING = "pending", "Pending verification"
    VERIFIED = "verified", "Verified"
    REJECTED = "rejected", "Rejected"


class RiskCategory(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


REKYC_YEARS = {RiskCategory.HIGH: 2, RiskCategory.MEDIUM: 8, RiskCategory.LOW: 10}


class IncomeBand(models.TextChoices):
    UPTO_5L = "upto_5l", "Up to ₹5 lakh"
    L5_10 = "5l_10l", "₹5–10 lakh"
    L10_25 = "10l_25l", "₹10–25 lakh"
    L25_1CR = "25l_1cr", "₹25 lakh – ₹1 crore"
    ABOVE_1CR = "above_1cr", "Above ₹1 crore"


RISK_ORDER = [RiskCategory.LOW, RiskCategory.MEDIUM, RiskCategory.HIGH]

KYC_VERIFICATION = "customers.kyc_verification"


def normalise_mobile(value):
    """Ten digits: spaces, dashes and a leading +91, 91 or 0 are dropped."""
    digits = re.sub(r"\D", "", str(value or ""))
    if len(digits) == 12 and digits.startswith("91"):
        digits = digits[2:]
    elif len(digits) == 11 and digits.startswith("0"):
        digits = digits[1:]
    return digits


def _live_kyc_request():
    from banking.approvals.models import ApprovalRequest

    # The payload's customer_id compared as text: JSON and integer columns do not compare in SQL.
    return (
        ApprovalRequest.objects.pending().filter(kind=KYC_VERIFICATION)
        .annotate(customer_key=KT("payload__customer_id"))
        .filter(customer_key=Cast(OuterRef("pk"), output_field=models.CharField()))
    )


class CustomerQuerySet(models.QuerySet):
    def verified(self):
        return self.filter(kyc_status=KycStatus.VERIFIED)

    def rekyc_due(self, on=None):
        return self.verified().filter(rekyc_due_on__lte=on or timezone.localdate())

    def for_branch(self, branch):
        return self.filter(home_branch=branch)

    def kyc_open(self):
        """Customers whose KYC a teller can work on: drafts, rejections to put right,
        and submissions whose verification request lapsed or failed unchecked."""
        lapsed = Q(kyc_status=KycStatus.PENDING) & ~Exists(_live_kyc_request())
        return self.filter(Q(kyc_status__in=[KycStatus.DRAFT, KycStatus.REJECTED]) | lapsed)

    def search(self, term):
        """Customers matching what a teller typed: a name (every word must match), a
        CIF or mobile number (digits, in part), an account number, or a PAN or
        Aadhaar number (whole, matched through the blind index)."""
        text = " ".join(str(term or "").split())
        if not text:
            return self.none()
        compact = normalise(text)
        match = Q(pk__in=[])
        if is_valid_pan(compact):
            match |= Q(pk__in=IdentityDocument.objects.with_number(DocumentType.PAN, compact).values("customer"))
        if compact.isdigit():
            if is_valid_aadhaar(compact):
                match |= Q(pk__in=IdentityDocument.objects.with_number(DocumentType.AADHAAR, compact)
                           .values("customer"))
            if len(compact) >= 3:
                match |= Q(cif__startswith=compact) | Q(mobile__contains=normalise_mobile(compact) or compact)
            holders = customers_with_account_number(compact)
            if holders is not None:
                match |= holders
        words = [word for word in text.split() if len(word) >= 2 and not word.isdigit()]
        if words:
            by_name = Q()
            for word in words:
                by_name &= (Q(first_name__icontains=word) | Q(middle_name__icontains=word)
                            | Q(last_name__icontains=word) | Q(legal_name__icontains=word))
            match |= by_name
        return self.filter(match)


def customers_with_account_number(number):
    """A filter for the customers who hold deposit account `number`, as primary or
    joint holder, or None when the deposits app is not installed. The app is looked up by
    name, not imported: deposits builds on customers, never the other way round."""
    from django.apps import apps

    try:
        account_model = apps.get_model("deposits", "DepositAccount")
        holder_model = apps.get_model("deposits", "AccountHolder")
    except LookupError:
        return None
    primary = account_model.objects.filter(number=number).values("customer")
    joint = holder_model.objects.filter(account__number=number).values("customer")
    return Q(pk__in=primary) | Q(pk__in=joint)


class CifCounter(models.Model):
    """The last CIF body handed out; one row, locked while a customer is created."""

    last = models.PositiveBigIntegerField(default=100_000_000)

    def __str__(self):
        return f"Last CIF body {self.last}"

    @classmethod
    def next_cif(cls):
        """A new CIF number: nine digits and a Verhoeff check digit. Call inside a
        transaction; the counter row stays locked until it commits."""
        counter, _ = cls.objects.select_for_update().get_or_create(pk=1)
        counter.last += 1
        counter.save(update_fields=["last"])
        return with_check_digit(str(counter.last))


class Customer(models.Model):
    cif = models.CharField("CIF number", max_length=12, unique=True)
    customer_type = models.CharField(max_length=16, choices=CustomerType.choices, default=CustomerType.INDIVIDUAL)
    # Individuals: first/middle/last. Others: the legal name in `legal_name`.
    first_name = models.CharField(max_length=80, blank=True)
    middle_name = models.CharField(max_length=80, blank=True)
    last_name = models.CharField(max_length=80, blank=True)
    legal_name = models.CharField(max_length=200, blank=True)
    date_of_birth = models.DateField("date of birth or incorporation", null=True, blank=True)
    guardian_name = models.CharField(max_length=160, blank=True)
    mobile = models.CharField(max_length=15, blank=True, db_index=True)
    email = models.EmailField(blank=True)
    occupation = models.CharField(max_length=80, blank=True)
    income_band = models.CharField(max_length=12, choices=IncomeBand.choices, blank=True)
    home_branch = models.ForeignKey("users.Branch", on_delete=models.PROTECT, related_name="customers")
    relationship_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    kyc_status = models.CharField(max_length=10, choices=KycStatus.choices, default=KycStatus.DRAFT)
    risk_category = models.CharField(max_length=6, choices=RiskCategory.choices, default=RiskCategory.LOW)
    kyc_verified_at = models.DateTimeField(null=True, blank=True)
    rekyc_due_on = models.DateField(null=True, blank=True)
    kyc_rejection_reason = models.TextField(blank=True)
    is_pep = models.BooleanField("politically exposed person", default=False)
    fatca_us_person = models.BooleanField("US person for FATCA", default=False)
    tax_residency_other = models.CharField("other tax residencies (CRS)", max_length=120, blank=True)
    # Internet banking login, once a teller enables it.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="customer"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # When the declarations (PEP, FATCA/CRS) were taken; None until that step is done.
    declared_at = models.DateTimeField(null=True, blank=True)
    kyc_submitted_at = models.DateTimeField(null=True, blank=True)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = ["cif"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kyc_status="verified") | Q(kyc_verified_at__isnull=False, rekyc_due_on__isnull=False),
                name="customer_verified_has_dates",
            ),
        ]

    def __str__(self):
        return f"{self.display_name} ({self.cif})"

    @property
    def display_name(self):
        if self.customer_type != CustomerType.INDIVIDUAL:
            return self.legal_name
        return " ".join(part for part in (self.first_name, self.middle_name, self.last_name) if part)

    @property
    def is_individual(self):
        return self.customer_type == CustomerType.INDIVIDUAL

    @property
    def is_kyc_verified(self):
        return self.kyc_status == KycStatus.VERIFIED

    @property
    def is_minor(self):
        age = self.age_on(timezone.localdate())
        return self.is_individual and age is not None and age < ADULT_AGE

    def clean(self):
        """The rules every saved customer keeps, as field errors a form can show."""
        errors = {}
        self.mobile = normalise_mobile(self.mobile)
        for field in ("first_name", "middle_name", "last_name", "legal_name", "guardian_name", "occupation"):
            setattr(self, field, " ".join(getattr(self, field).split()))
        if self.is_individual:
            if not self.first_name:
                errors["first_name"] = "Enter the customer's first name as it appears on their documents."
            if not self.last_name:
                errors["last_name"] = "Enter the customer's last name (surname)."
            self.legal_name = ""
        else:
            if not self.legal_name:
                errors["legal_name"] = "Enter the registered name of the firm, company or trust."
            self.first_name = self.middle_name = self.last_name = self.guardian_name = ""
        today = timezone.localdate()
        if self.date_of_birth is None:
            errors["date_of_birth"] = (
                "Enter the date of birth." if self.is_individual else "Enter the date of incorporation or registration."
            )
        elif self.date_of_birth > today:
            errors["date_of_birth"] = (
                "The date of birth cannot be in the future." if self.is_individual
                else "The date of incorporation cannot be in the future."
            )
        elif self.is_individual and self.age_on(today) > 120:
            errors["date_of_birth"] = "Check the date of birth: it makes the customer over 120 years old."
        elif self.is_minor and not self.guardian_name:
            errors["guardian_name"] = (
                f"The customer is under {ADULT_AGE}, so enter the name of their guardian, who operates the account."
            )
        if self.mobile and not MOBILE_RE.match(self.mobile):
            errors["mobile"] = "Enter a 10-digit Indian mobile number, starting with 6, 7, 8 or 9."
        if errors:
            raise ValidationError(errors)

    def assessed_risk(self):
        """The lowest risk category the bank's rule allows: politically exposed
        persons are high risk; US persons, other tax residencies, non-individuals and
        incomes above ₹1 crore are at least medium; everyone else starts low."""
        if self.is_pep:
            return RiskCategory.HIGH
        if (self.fatca_us_person or self.tax_residency_other or not self.is_individual
                or self.income_band == IncomeBand.ABOVE_1CR):
            return RiskCategory.MEDIUM
        return RiskCategory.LOW

    def kyc_gaps(self):
        """What must still be on file before KYC can be submitted, in a teller's words,
        each with the wizard step that collects it."""
        gaps = []
        try:
            self.clean()
        except ValidationError as error:
            gaps += [("personal", message) for message in error.messages]
        # Read through .all(), so that a list of customers can prefetch the three
        # relations rather than ask three queries per customer.
        types = {document.doc_type for document in self.identity_documents.all()}
        if DocumentType.PAN not in types:
            gaps.append(("identity", "The PAN is not on file."))
        if self.is_individual and not types & set(OFFICIALLY_VALID):
            gaps.append(("identity", "An officially valid document (Aadhaar, passport, voter ID or driving "
                                     "licence) is not on file."))
        kinds = {document.kind for document in self.kyc_documents.all()}
        needed = [KycDocumentKind.SIGNATURE, KycDocumentKind.IDENTITY_PROOF]
        if self.is_individual:
            needed.insert(0, KycDocumentKind.PHOTO)
        for kind in needed:
            if kind not in kinds:
                gaps.append(("identity", f"The {KycDocumentKind(kind).label.lower()} has not been uploaded."))
        if not any(address.kind == AddressKind.PERMANENT for address in self.addresses.all()):
            gaps.append(("address", "The permanent address is not on file."))
        if KycDocumentKind.ADDRESS_PROOF not in kinds:
            gaps.append(("address", "The proof of address has not been uploaded."))
        if self.declared_at is None:
            gaps.append(("declarations", "The PEP and FATCA/CRS declarations have not been taken."))
        elif RISK_ORDER.index(self.risk_category) < RISK_ORDER.index(self.assessed_risk()):
            gaps.append(("declarations", f"The risk category cannot be below {self.assessed_risk().label.lower()} "
                                         "for these declarations."))
        return gaps

    def kyc_next_step(self):
        """The wizard step that collects the first thing still missing ("review" when
        nothing is): where a teller picks the KYC up again."""
        gaps = self.kyc_gaps()
        return gaps[0][0] if gaps else "review"

    def identity(self, doc_type):
        return next((doc for doc in self.identity_documents.all() if doc.doc_type == doc_type), None)

    def address(self, kind):
        return next((address for address in self.addresses.all() if address.kind == kind), None)

    def age_on(self, day):
        if not self.date_of_birth:
            return None
        years = day.year - self.date_of_birth.year
        return years - ((day.month, day.day) < (self.date_of_birth.month, self.date_of_birth.day))

    @staticmethod
    def rekyc_due_from(verified_on, risk):
        years = REKYC_YEARS[RiskCategory(risk)]
        try:
            return verified_on.replace(year=verified_on.year + years)
        except ValueError:  # 29 February
            return verified_on.replace(year=verified_on.year + years, day=28)


class RekycNotice(models.Model):
    """End of day found the customer's periodic KYC due (every 2, 8 or 10 years by
    risk, from `rekyc_due_on`) and flagged it for the branch, emailing the customer
    where an address is on file: one notice per customer and due date, so a rerun
    flags and emails nobody twice, and a fresh KYC (a later due date) starts over."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="rekyc_notices")
    due_on = models.DateField()
    flagged_on = models.DateField()
    emailed = models.BooleanField(default=False)

    class Meta:
        ordering = ["-flagged_on"]
        constraints = [models.UniqueConstraint(fields=["customer", "due_on"], name="rekyc_notice_once_per_due_date")]

    def __str__(self):
        return f"Re-KYC of {self.customer_id} due {self.due_on}, flagged {self.flagged_on}"


class DocumentType(models.TextChoices):
    PAN = "pan", "PAN"
    AADHAAR = "aadhaar", "Aadhaar"
    PASSPORT = "passport", "Passport"
    VOTER_ID = "voter_id", "Voter ID"
    DRIVING_LICENCE = "driving_licence", "Driving licence"


# Documents that prove identity and address under the RBI's KYC directions.
OFFICIALLY_VALID = [DocumentType.AADHAAR, DocumentType.PASSPORT, DocumentType.VOTER_ID, DocumentType.DRIVING_LICENCE]
# Formats of the documents with no checksum: passport (letter and 7 digits), voter
# ID / EPIC (3 letters and 7 digits), driving licence (state code, RTO, year, serial).
NUMBER_FORMATS = {
    DocumentType.PASSPORT: (re.compile(r"^[A-Z][0-9]{7}$"), "a letter and 7 digits, as J8369854"),
    DocumentType.VOTER_ID: (re.compile(r"^[A-Z]{3}[0-9]{7}$"), "3 letters and 7 digits, as ABC1234567"),
    DocumentType.DRIVING_LICENCE: (
        re.compile(r"^[A-Z]{2}[0-9]{13}$"), "the state code and 13 digits, as MH12 20110012345"
    ),
}
EXPIRING = {DocumentType.PASSPORT, DocumentType.DRIVING_LICENCE}


def check_identity_number(doc_type, value):
    """The normalised number, or ValidationError in words a teller can act on."""
    number = normalise(value)
    doc_type = DocumentType(doc_type)
    if doc_type == DocumentType.PAN:
        if not is_valid_pan(number):
            raise ValidationError("Enter a valid PAN: 5 letters, 4 digits and a letter, as ABCDE1234F.")
    elif doc_type == DocumentType.AADHAAR:
        if not is_valid_aadhaar(number):
            raise ValidationError(
                "This is not a valid Aadhaar number: it must have 12 digits and its last digit must match "
                "the check digit. Check the number on the card."
            )
    else:
        pattern, example = NUMBER_FORMATS[doc_type]
        if not pattern.match(number):
            raise ValidationError(f"Enter the {doc_type.label.lower()} number as {example}.")
    return number


class IdentityDocumentQuerySet(models.QuerySet):
    def with_number(self, doc_type, value):
        """Documents of `doc_type` whose number equals `value`, through the blind index."""
        return self.filter(doc_type=doc_type, number_index=blind_index(normalise(value)))


class IdentityDocument(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="identity_documents")
    doc_type = models.CharField(max_length=16, choices=DocumentType.choices)
    number = EncryptedTextField()
    number_index = models.CharField(max_length=64, db_index=True)
    expires_on = models.DateField(null=True, blank=True)
    added_at = models.DateTimeField(default=timezone.now)

    objects = IdentityDocumentQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "doc_type"], name="one_document_of_each_type"),
            # One PAN and one Aadhaar per person across the bank.
            models.UniqueConstraint(
                fields=["doc_type", "number_index"], condition=Q(doc_type__in=["pan", "aadhaar"]),
                name="pan_aadhaar_unique_across_customers",
            ),
        ]

    def __str__(self):
        return f"{self.get_doc_type_display()} {self.masked}"

    def set_number(self, value):
        """Store `value` normalised, encrypted, with its blind index."""
        self.number = normalise(value)
        self.number_index = blind_index(self.number)

    set_number.alters_data = True

    @property
    def masked(self):
        if self.doc_type == DocumentType.AADHAAR:
            return mask_aadhaar(self.number)
        if self.doc_type == DocumentType.PAN:
            return mask_pan(self.number)
        return mask_tail(self.number)


# India's states and union territories, as addresses are written.
STATES = [
    "Andaman and Nicobar Islands", "Andhra Pradesh", "Arunachal Pradesh", "Assam", "Bihar", "Chandigarh",
    "Chhattisgarh", "Dadra and Nagar Haveli and Daman and Diu", "Delhi", "Goa", "Gujarat", "Haryana",
    "Himachal Pradesh", "Jammu and Kashmir", "Jharkhand", "Karnataka", "Kerala", "Ladakh", "Lakshadweep",
    "Madhya Pradesh", "Maharashtra", "Manipur", "Meghalaya", "Mizoram", "Nagaland", "Odisha", "Puducherry",
    "Punjab", "Rajasthan", "Sikkim", "Tamil Nadu", "Telangana", "Tripura", "Uttar Pradesh", "Uttarakhand",
    "West Bengal",
]


class AddressKind(models.TextChoices):
    PERMANENT = "permanent", "Permanent"
    CORRESPONDENCE = "correspondence", "Correspondence"


class Address(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="addresses")
    kind = models.CharField(max_length=16, choices=AddressKind.choices)
    line1 = models.CharField(max_length=200)
    line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=80)
    state = models.CharField(max_length=80)
    pincode = models.CharField(max_length=6)
    country = models.CharField(max_length=2, default="IN")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["customer", "kind"], name="one_address_of_each_kind")]

    def __str__(self):
        return ", ".join(part for part in (self.line1, self.line2, self.city, self.state, self.pincode) if part)

    def clean(self):
        errors = {}
        if not PINCODE_RE.match(self.pincode or ""):
            errors["pincode"] = "Enter the 6-digit PIN code; it does not start with 0."
        if self.country == "IN" and self.state not in STATES:
            errors["state"] = "Choose the state or union territory."
        if errors:
            raise ValidationError(errors)



# -- uploaded proofs ------------------------------------------------------------------

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
# The first bytes of each accepted type, and the extension the stored file gets.
SIGNATURES = {
    "application/pdf": (b"%PDF-", ".pdf"),
    "image/jpeg": (b"\xff\xd8\xff", ".jpg"),
    "image/png": (b"\x89PNG\r\n\x1a\n", ".png"),
}


def sniff_content_type(head):
    """The content type the file's first bytes declare, or None if not one we accept."""
    for content_type, (magic, _extension) in SIGNATURES.items():
        if head.startswith(magic):
            return content_type
    return None


def private_storage():
    """Where KYC files live: STORAGES["private"], outside any URL the web server serves."""
    return storages["private"]


def kyc_upload_to(document, _filename):
    # The customer's own file name never reaches the disk: it may carry personal data.
    extension = SIGNATURES[document.content_type][1]
    return f"kyc/{document.customer.cif}/{document.kind}-{uuid.uuid4().hex}{extension}"


class KycDocumentKind(models.TextChoices):
    PHOTO = "photo", "Photograph"
    SIGNATURE = "signature", "Specimen signature"
    IDENTITY_PROOF = "identity_proof", "Proof of identity"
    ADDRESS_PROOF = "address_proof", "Proof of address"
    OTHER = "other", "Other document"


# A customer has one current photograph and one specimen signature; a new upload replaces it.
SINGLE_KINDS = {KycDocumentKind.PHOTO, KycDocumentKind.SIGNATURE}


class KycDocument(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="kyc_documents")
    kind = models.CharField(max_length=16, choices=KycDocumentKind.choices)
    file = models.FileField(storage=private_storage, upload_to=kyc_upload_to, max_length=200)
    content_type = models.CharField(max_length=40, choices=[(key, key) for key in SIGNATURES])
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    original_name = models.CharField(max_length=200, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["kind", "uploaded_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(size__gt=0, size__lte=MAX_UPLOAD_BYTES), name="kyc_document_size"),
            models.CheckConstraint(condition=Q(content_type__in=list(SIGNATURES)), name="kyc_document_type"),
            models.UniqueConstraint(
                fields=["customer", "kind"], condition=Q(kind__in=sorted(k.value for k in SINGLE_KINDS)),
                name="one_photo_and_signature",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} of {self.customer.cif}"

    @property
    def is_image(self):
        return self.content_type.startswith("image/")

    @property
    def format_label(self):
        return {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG"}[self.content_type]

    @staticmethod
    def digest(chunks):
        sha = hashlib.sha256()
        for chunk in chunks:
            sha.update(chunk)
        return sha.hexdigest()
