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
  another customer is refused without decrypting anything.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from banking.core.crypto import EncryptedTextField
from banking.core.identifiers import mask_aadhaar, mask_pan, mask_tail


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


class CustomerQuerySet(models.QuerySet):
    def verified(self):
        return self.filter(kyc_status=KycStatus.VERIFIED)

    def rekyc_due(self, on=None):
        return self.verified().filter(rekyc_due_on__lte=on or timezone.localdate())


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


class DocumentType(models.TextChoices):
    PAN = "pan", "PAN"
    AADHAAR = "aadhaar", "Aadhaar"
    PASSPORT = "passport", "Passport"
    VOTER_ID = "voter_id", "Voter ID"
    DRIVING_LICENCE = "driving_licence", "Driving licence"


class IdentityDocument(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="identity_documents")
    doc_type = models.CharField(max_length=16, choices=DocumentType.choices)
    number = EncryptedTextField()
    number_index = models.CharField(max_length=64, db_index=True)
    expires_on = models.DateField(null=True, blank=True)
    added_at = models.DateTimeField(default=timezone.now)

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

    @property
    def masked(self):
        if self.doc_type == DocumentType.AADHAAR:
            return mask_aadhaar(self.number)
        if self.doc_type == DocumentType.PAN:
            return mask_pan(self.number)
        return mask_tail(self.number)


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

