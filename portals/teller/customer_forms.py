"""Forms of the KYC wizard and customer search.

Each step's form checks what a teller typed the way the actions will (the same
model rules, the same identity-number and upload checks), so a mistake is shown
beside its field before anything is saved. The actions check again.
"""

from crispy_forms.bootstrap import InlineRadios
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Field, Layout, Row
from django import forms
from django.utils import timezone

from banking.core.errors import ValidationFailed
from banking.customers.actions import check_upload
from banking.customers.models import (
    EXPIRING,
    NUMBER_FORMATS,
    OFFICIALLY_VALID,
    RISK_ORDER,
    STATES,
    Address,
    Customer,
    CustomerType,
    DocumentType,
    IdentityDocument,
    KycDocumentKind,
    RiskCategory,
    check_identity_number,
)
from banking.users.models import User

ACCEPT_ANY = "application/pdf,image/jpeg,image/png,.pdf,.jpg,.jpeg,.png"
ACCEPT_IMAGES = "image/jpeg,image/png,.jpg,.jpeg,.png"
UPLOAD_HELP = "PDF, JPEG or PNG, at most 5 MB."
IMAGES_ONLY = "Upload a JPEG or PNG image here. This file's content is of another type, whatever its name says."


def _helper(*layout):
    helper = FormHelper()
    helper.form_tag = False
    helper.disable_csrf = True
    helper.layout = Layout(*layout)
    return helper


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class UploadField(forms.FileField):
    """A proof to upload: judged by its content (PDF, JPEG, PNG), at most 5 MB."""

    def __init__(self, *, images_only=False, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", "JPEG or PNG, at most 5 MB." if images_only else UPLOAD_HELP)
        kwargs.setdefault("widget", forms.ClearableFileInput(attrs={"accept": ACCEPT_IMAGES if images_only
                                                                     else ACCEPT_ANY}))
        super().__init__(**kwargs)
        self.images_only = images_only

    def clean(self, data, initial=None):
        upload = super().clean(data, initial)
        if not upload:
            return None
        try:
            content_type = check_upload(upload)
        except ValidationFailed as error:
            if self.images_only and error.details.get("reason") == "type":
                raise forms.ValidationError(IMAGES_ONLY) from None
            raise forms.ValidationError(str(error)) from None
        if self.images_only and not content_type.startswith("image/"):
            raise forms.ValidationError(IMAGES_ONLY)
        return upload


# -- 1. personal details ---------------------------------------------------------------


class PersonalForm(forms.ModelForm):
    """Who the customer is. The model's own rules (Customer.clean) run here too:
    names by type, a date not in the future, a guardian for a minor."""

    class Meta:
        model = Customer
        fields = [
            "customer_type", "first_name", "middle_name", "last_name", "legal_name", "date_of_birth",
            "guardian_name", "mobile", "email", "occupation", "income_band", "relationship_manager",
        ]
        labels = {
            "customer_type": "Customer type", "legal_name": "Registered name", "mobile": "Mobile number",
            "income_band": "Annual income", "relationship_manager": "Relationship manager",
            "guardian_name": "Guardian's name",
        }
        widgets = {
            "date_of_birth": DateInput(),
            "mobile": forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
        }

    def __init__(self, *args, branch=None, **kwargs):
        super().__init__(*args, **kwargs)
        individual = self._type() == CustomerType.INDIVIDUAL
        self.fields["customer_type"].widget.attrs["data-kyc-retype"] = ""
        self.fields["date_of_birth"].label = "Date of birth" if individual else "Date of incorporation"
        self.fields["date_of_birth"].required = True
        self.fields["guardian_name"].help_text = "Needed when the customer is under 18."
        self.fields["mobile"].help_text = "10 digits; the bank sends alerts and one-time codes here."
        self.fields["mobile"].required = True
        self.fields["income_band"].required = True
        self.fields["relationship_manager"].queryset = (
            User.objects.filter(staff_profile__branch=branch, is_active=True).order_by("first_name", "last_name")
            if branch else User.objects.none()
        )
        self.fields["relationship_manager"].label_from_instance = lambda user: user.display_name
        self.fields["relationship_manager"].empty_label = "None"
        for name in ("first_name", "middle_name", "last_name", "legal_name", "guardian_name"):
            self.fields[name].widget.attrs["autocomplete"] = "off"
        if individual:
            self.fields["first_name"].required = self.fields["last_name"].required = True
            names = Row(Column("first_name", css_class="col-md-4"), Column("middle_name", css_class="col-md-4"),
                        Column("last_name", css_class="col-md-4"))
            dates = Row(Column("date_of_birth", css_class="col-md-4"), Column("guardian_name", css_class="col-md-8"))
            for name in ("legal_name",):
                del self.fields[name]
        else:
            self.fields["legal_name"].required = True
            names = Row(Column("legal_name", css_class="col-md-8"))
            dates = Row(Column("date_of_birth", css_class="col-md-4"))
            for name in ("first_name", "middle_name", "last_name", "guardian_name"):
                del self.fields[name]
        self.helper = _helper(
            Row(Column("customer_type", css_class="col-md-6")),
            names,
            dates,
            Row(Column("mobile", css_class="col-md-4"), Column("email", css_class="col-md-8")),
            Row(Column("occupation", css_class="col-md-4"), Column("income_band", css_class="col-md-4"),
                Column("relationship_manager", css_class="col-md-4")),
        )

    def _type(self):
        if self.is_bound:
            value = self.data.get(self.add_prefix("customer_type"))
            if value in CustomerType.values:
                return value
        return self.initial.get("customer_type") or self.instance.customer_type or CustomerType.INDIVIDUAL

    def details(self):
        """The cleaned data as the actions take it: every personal field, blanks
        for those the customer's type does not use."""
        data = dict(self.cleaned_data)
        for name in ("first_name", "middle_name", "last_name", "legal_name", "guardian_name"):
            data.setdefault(name, "")
        return data


# -- 2. identity documents --------------------------------------------------------------


class IdentityForm(forms.Form):
    """PAN, an officially valid document, and the photograph, signature and a
    proof of identity. A number left blank keeps the one on file."""

    pan = forms.CharField(label="PAN", required=False, max_length=14,
                          widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters",
                                                        "spellcheck": "false", "placeholder": "ABCDE1234F"}))
    aadhaar = forms.CharField(label="Aadhaar number", required=False, max_length=14,
                              widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric",
                                                            "placeholder": "12 digits"}))
    other_type = forms.ChoiceField(
        label="Other document", required=False,
        choices=[("", "None")] + [(t.value, t.label) for t in DocumentType if t.value in NUMBER_FORMATS],
    )
    other_number = forms.CharField(label="Its number", required=False, max_length=20,
                                   widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}))
    other_expires_on = forms.DateField(label="Valid until", required=False, widget=DateInput(),
                                       help_text="Passport and driving licence only.")
    photo = UploadField(label="Photograph", images_only=True)
    signature = UploadField(label="Specimen signature", images_only=True)
    identity_proof = UploadField(label="Proof of identity (scan of the PAN card or other document)")

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.customer = customer
        documents = {doc.doc_type: doc for doc in customer.identity_documents.all()}
        self.on_file = documents
        for field, doc_type in (("pan", DocumentType.PAN), ("aadhaar", DocumentType.AADHAAR)):
            if doc_type in documents:
                self.fields[field].help_text = (f"On file: {documents[doc_type].masked}. "
                                                "Leave blank to keep it, or type a new number to replace it.")
        self.fields["pan"].required = DocumentType.PAN not in documents
        if not customer.is_individual:
            self.fields["pan"].label = "PAN of the firm, company or trust"
            for name in ("aadhaar", "other_type", "other_number", "other_expires_on", "photo"):
                del self.fields[name]
            self.fields["signature"].label = "Specimen signature of the authorised signatory"
            self.fields["identity_proof"].label = "Certificate of incorporation or registration"
        # The helper lays out the numbers; the step's template puts the uploads beside
        # the files already on file.
        self.upload_fields = [self[name] for name in ("photo", "signature", "identity_proof") if name in self.fields]
        numbers = [Row(Column("pan", css_class="col-md-6"))]
        if customer.is_individual:
            numbers = [Row(Column("pan", css_class="col-md-6"), Column("aadhaar", css_class="col-md-6")),
                       Row(Column("other_type", css_class="col-md-4"), Column("other_number", css_class="col-md-4"),
                           Column("other_expires_on", css_class="col-md-4"))]
        self.helper = _helper(*numbers)

    def _number(self, field, doc_type):
        value = self.cleaned_data.get(field, "")
        if not value:
            return ""
        try:
            number = check_identity_number(doc_type, value)
        except forms.ValidationError as error:
            raise forms.ValidationError(error.messages[0]) from None
        if doc_type in (DocumentType.PAN, DocumentType.AADHAAR):
            taken = IdentityDocument.objects.with_number(doc_type, number).exclude(customer=self.customer)
            if taken.exists():
                raise forms.ValidationError(
                    f"This {doc_type.label} is already on file for another customer of the bank. A person has one "
                    "CIF: search for the existing customer instead of creating a new one."
                )
        return number

    def clean_pan(self):
        return self._number("pan", DocumentType.PAN)

    def clean_aadhaar(self):
        return self._number("aadhaar", DocumentType.AADHAAR)

    def clean(self):
        data = super().clean()
        if not self.customer.is_individual:
            return data
        other_type, other_number = data.get("other_type"), data.get("other_number")
        if other_type and not other_number and other_type not in self.on_file:
            self.add_error("other_number", f"Enter the {DocumentType(other_type).label.lower()} number.")
        elif other_number and not other_type:
            self.add_error("other_type", "Choose which document this number is from.")
        elif other_type and other_number:
            try:
                data["other_number"] = check_identity_number(other_type, other_number)
            except forms.ValidationError as error:
                self.add_error("other_number", error.messages[0])
            expires = data.get("other_expires_on")
            if other_type in EXPIRING:
                if not expires:
                    self.add_error("other_expires_on", "Enter the date the document expires.")
                elif expires <= timezone.localdate():
                    self.add_error("other_expires_on", "This document has expired; ask for a valid one.")
        has_ovd = bool(data.get("aadhaar") or (other_type and other_number)) or any(
            doc_type in self.on_file for doc_type in OFFICIALLY_VALID
        )
        if not has_ovd and not self.errors:
            self.add_error("aadhaar", "Enter the Aadhaar number or another officially valid document (passport, "
                                      "voter ID or driving licence).")
        return data

    def uploads(self):
        kinds = {"photo": KycDocumentKind.PHOTO, "signature": KycDocumentKind.SIGNATURE,
                 "identity_proof": KycDocumentKind.IDENTITY_PROOF}
        return [(kinds[name], self.cleaned_data[name]) for name in kinds if self.cleaned_data.get(name)]


# -- 3. address ------------------------------------------------------------------------


class AddressForm(forms.ModelForm):
    state = forms.ChoiceField(choices=[("", "Choose…")] + [(state, state) for state in STATES])

    class Meta:
        model = Address
        fields = ["line1", "line2", "city", "state", "pincode"]
        labels = {"line1": "House, building and street", "line2": "Area or locality", "pincode": "PIN code"}
        widgets = {"pincode": forms.TextInput(attrs={"inputmode": "numeric", "maxlength": 6})}

    def __init__(self, *args, active=True, **kwargs):
        super().__init__(*args, **kwargs)
        # An inactive form (a correspondence address "same as permanent") is shown
        # but neither required nor checked: what is typed in it is not kept.
        self.active = active
        for name in ("line1", "city", "state", "pincode"):
            self.fields[name].required = active
        self.helper = _helper(
            Row(Column("line1", css_class="col-md-6"), Column("line2", css_class="col-md-6")),
            Row(Column("city", css_class="col-md-4"), Column("state", css_class="col-md-5"),
                Column("pincode", css_class="col-md-3")),
        )

    def _post_clean(self):
        if self.active:
            super()._post_clean()

    def address(self):
        return {name: self.cleaned_data.get(name, "") for name in self.Meta.fields}


class AddressExtrasForm(forms.Form):
    same_as_permanent = forms.BooleanField(label="The correspondence address is the same as the permanent one",
                                           required=False, initial=True)
    address_proof = UploadField(label="Upload a proof of address",
                                help_text="A utility bill, bank statement or rent agreement: " + UPLOAD_HELP)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(Field("same_as_permanent"))


# -- 4. declarations -------------------------------------------------------------------

YES_NO = [("no", "No"), ("yes", "Yes")]


class DeclarationsForm(forms.Form):
    is_pep = forms.ChoiceField(
        label="Is the customer, or a close relative, a politically exposed person?", choices=YES_NO,
        widget=forms.RadioSelect, help_text="Someone entrusted with a prominent public function, in India or abroad.",
    )
    fatca_us_person = forms.ChoiceField(
        label="Is the customer a US citizen or US tax resident (FATCA)?", choices=YES_NO, widget=forms.RadioSelect,
    )
    tax_residency_other = forms.CharField(
        label="Tax residencies outside India (CRS)", required=False, max_length=120,
        help_text="Countries and tax identification numbers; leave blank if none.",
    )
    risk_category = forms.ChoiceField(label="Risk category", choices=RiskCategory.choices)
    confirmed = forms.BooleanField(
        label="The customer has read and signed these declarations", required=True,
        error_messages={"required": "Confirm that the customer signed the declarations."},
    )

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.customer = customer
        self.fields["risk_category"].help_text = (
            "Set from the declarations; you may raise it if something else calls for more care, never lower it. "
            "Re-KYC falls due every 10 years for low risk, 8 for medium and 2 for high."
        )
        self.helper = _helper(
            InlineRadios("is_pep"),
            InlineRadios("fatca_us_person"),
            Row(Column("tax_residency_other", css_class="col-md-8")),
            Row(Column("risk_category", css_class="col-md-8 col-lg-6")),
            Field("confirmed"),
        )

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        probe = Customer(customer_type=self.customer.customer_type, income_band=self.customer.income_band,
                         is_pep=data["is_pep"] == "yes", fatca_us_person=data["fatca_us_person"] == "yes",
                         tax_residency_other=data.get("tax_residency_other", ""))
        assessed = probe.assessed_risk()
        if RISK_ORDER.index(data["risk_category"]) < RISK_ORDER.index(assessed):
            self.add_error("risk_category", f"With these declarations the risk category is at least "
                                            f"{assessed.label.lower()}.")
        return data


# -- search ------------------------------------------------------------------------------


class CustomerSearchForm(forms.Form):
    q = forms.CharField(
        label="Find a customer", required=False, max_length=60,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off", "spellcheck": "false",
                                      "placeholder": "Name, CIF, mobile, account number or PAN"}),
    )
