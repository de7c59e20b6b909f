"""Customers at the counter: search, customer 360, the KYC wizard, KYC drafts and
the role-checked view of uploaded proofs.

Scope: tellers see customers bank-wide (a customer walks into any branch), but a
KYC is put together and changed only at the customer's home branch, whose
supervisors verify it (banking.customers.actions says why).

The wizard's steps are one view: GET shows a step, POST validates it on the
server and saves it to the draft in one transaction (a refusal changes nothing),
then moves on. An HTMX request gets the next step's fragment with its address
pushed to the browser's history; a plain one is redirected to it.
"""

from dataclasses import dataclass

from django.contrib import messages
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.csp import CSP
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect, push_url
from django_tables2 import RequestConfig

from banking.approvals.models import ApprovalRequest
from banking.core.errors import BankingError
from banking.customers import actions
from banking.customers.approval_kinds import describe_kyc
from banking.customers.models import (
    KYC_VERIFICATION,
    OFFICIALLY_VALID,
    SIGNATURES,
    AddressKind,
    Customer,
    DocumentType,
    KycDocument,
    KycDocumentKind,
    KycStatus,
)
from portals import policies
from portals.forms import keep_typing

from . import term_views
from .customer_forms import (
    AddressExtrasForm,
    AddressForm,
    CustomerSearchForm,
    DeclarationsForm,
    IdentityForm,
    PersonalForm,
)
from .customer_tables import CustomerTable, DraftTable
from .open_requests import pending_for as open_requests_of

WIZARD = "portals/teller/kyc_wizard.html"


@dataclass(frozen=True)
class Step:
    slug: str
    label: str
    # Kinds of upload collected on this step, listed with the files already on file.
    uploads: tuple = ()


STEPS = [
    Step("personal", "Personal details"),
    Step("identity", "Identity documents",
         (KycDocumentKind.PHOTO, KycDocumentKind.SIGNATURE, KycDocumentKind.IDENTITY_PROOF)),
    Step("address", "Address", (KycDocumentKind.ADDRESS_PROOF,)),
    Step("declarations", "Declarations"),
    Step("review", "Review and submit"),
]
STEP_BY_SLUG = {step.slug: step for step in STEPS}


def _customers():
    return Customer.objects.select_related("home_branch", "relationship_manager", "created_by")


def _documents(customer):
    """The customer's uploads in the order a checker reads them: photograph and
    signature first, then the proofs."""
    order = list(KycDocumentKind.values)
    return sorted(customer.kyc_documents.all(), key=lambda d: (order.index(d.kind), d.uploaded_at, d.pk))


def _gaps_by_step(customer):
    gaps = {}
    for slug, message in customer.kyc_gaps():
        gaps.setdefault(slug, []).append(message)
    return gaps


def _progress(customer, current):
    gaps = _gaps_by_step(customer) if customer else None
    rows = []
    for number, step in enumerate(STEPS, start=1):
        if customer is None:
            state = "current" if step.slug == current else "todo"
        elif step.slug == current:
            state = "current"
        elif step.slug != "review" and step.slug not in gaps:
            state = "done"
        else:
            state = "todo"
        url = reverse("teller:kyc-step", kwargs={"pk": customer.pk, "step": step.slug}) if customer else None
        rows.append({"number": number, "step": step, "state": state, "url": url})
    return rows


def _wizard_refusal(user, customer):
    """Why `user` cannot work on this customer's KYC now, or None."""
    if getattr(user.branch, "pk", None) != customer.home_branch_id:
        return (f"{customer.display_name} is a customer of {customer.home_branch.name}; their KYC is completed "
                "there. You can still see their details here.")
    if not actions.kyc_is_open(customer):
        if customer.kyc_status == KycStatus.VERIFIED:
            return f"The KYC of {customer.display_name} is verified; changes now go through re-KYC."
        return (f"The KYC of {customer.display_name} is waiting for a supervisor's verification and cannot be "
                "changed until it is decided.")
    return None


def _go(request, url, *, htmx_render=None):
    """After a successful POST: redirect, or for HTMX swap in what comes next."""
    if request.htmx:
        if htmx_render is not None:
            return push_url(htmx_render(), url)
        return HttpResponseClientRedirect(url)
    return redirect(url)


def _add_error(form, error, fields=None):
    """Put a refusal from the actions beside the field it is about."""
    field = (fields or {}).get(error.details.get("field"), error.details.get("field"))
    form.add_error(field if field in form.fields else None, str(error))


# -- search ----------------------------------------------------------------------------


SEARCH_LIMIT = 50


@require_http_methods(["GET", "POST"])
@policies.teller
@vary_on_headers("HX-Request")
def customer_search(request):
    """Live search over every customer of the bank; the results swap as the teller
    types. The search is POSTed so that a PAN, Aadhaar or account number never sits
    in an address, a server log or the browser's history. It shows the first
    SEARCH_LIMIT matches: a teller narrows the search rather than pages through."""
    form = CustomerSearchForm(request.POST if request.method == "POST" else None)
    term = form.cleaned_data["q"] if form.is_valid() else ""
    table, more = None, False
    if term:
        found = list(_customers().search(term).order_by("first_name", "last_name", "legal_name", "cif")
                     [:SEARCH_LIMIT + 1])
        more = len(found) > SEARCH_LIMIT
        table = CustomerTable(found[:SEARCH_LIMIT])
    template = "portals/teller/customer_search.html"
    if request.htmx and request.headers.get("HX-Target") == "customer-results":
        template += "#customer-results"
    return render(request, template, {"form": form, "term": term, "table": table, "more": more,
                                      "limit": SEARCH_LIMIT})


# -- customer 360 -----------------------------------------------------------------------


def _accounts_url(customer):
    """The deposits' accounts fragment for this customer, once that part of the portal exists."""
    try:
        return reverse("teller:customer-accounts", kwargs={"pk": customer.pk})
    except NoReverseMatch:
        return None


@require_GET
@policies.teller
def customer_detail(request, pk):
    """Customer 360: profile, KYC state, documents, requests, accounts and what the teller can do next."""
    customer = get_object_or_404(
        _customers().prefetch_related("identity_documents", "addresses", "kyc_documents"), pk=pk
    )
    user = request.user
    requests = (ApprovalRequest.objects.filter(payload__customer_id=customer.pk)
                .select_related("maker", "checker").newest_first())
    open_requests = open_requests_of(customer)
    live_kyc = next((approval for approval in open_requests if approval.kind == KYC_VERIFICATION), None)
    refusal = _wizard_refusal(user, customer)
    gaps = customer.kyc_gaps() if refusal is None else []
    can_check = (
        live_kyc is not None and live_kyc.maker_id != user.pk and user.has_perm("users.approve_requests")
        and getattr(user.branch, "pk", None) == live_kyc.branch_id
    )
    identities = [customer.identity(doc_type) for doc_type in [DocumentType.PAN, *OFFICIALLY_VALID]]
    context = {
        "customer": customer,
        "identities": [doc for doc in identities if doc is not None],
        "permanent": customer.address(AddressKind.PERMANENT),
        "correspondence": customer.address(AddressKind.CORRESPONDENCE),
        "documents": _documents(customer),
        "can_edit": refusal is None,
        "other_branch": getattr(user.branch, "pk", None) != customer.home_branch_id,
        "resume": gaps[0][0] if gaps else "review",
        "gaps": gaps,
        "open_requests": open_requests,
        "decided_kyc": [a for a in requests.decided().filter(kind=KYC_VERIFICATION)[:5]],
        "live_kyc": live_kyc,
        "can_check": can_check,
        "accounts_url": _accounts_url(customer),
        "age": customer.age_on(timezone.localdate()),
        "attention": term_views.attention(customer),
    }
    return render(request, "portals/teller/customer_detail.html", context)


# -- uploaded proofs --------------------------------------------------------------------


# A raw image or PDF, not one of the bank's pages: nothing may load from it or frame
# it, but the browser's own image and PDF viewers need their inline styles.
DOCUMENT_CSP = {
    "default-src": [CSP.NONE],
    "img-src": [CSP.SELF],
    "style-src": [CSP.UNSAFE_INLINE],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.NONE],
}


@require_GET
@policies.teller
@csp_override(DOCUMENT_CSP)
def customer_document(request, pk, document_pk):
    """One uploaded proof, streamed from private storage to staff at the counter
    and supervisors; never cached, never given a public address."""
    document = get_object_or_404(KycDocument.objects.select_related("customer"), pk=document_pk, customer_id=pk)
    try:
        handle = document.file.open("rb")
    except FileNotFoundError:
        raise Http404("The file is missing from storage.") from None
    extension = SIGNATURES[document.content_type][1]
    response = FileResponse(
        handle, content_type=document.content_type, as_attachment=request.GET.get("download") == "1",
        filename=f"{document.customer.cif}-{document.kind}{extension}",
    )
    response["Cache-Control"] = "private, no-store"
    return response


# -- KYC drafts --------------------------------------------------------------------------


@require_GET
@policies.teller
def kyc_drafts(request):
    """KYCs of the branch still being put together, rejected ones to put right, and
    submissions whose request lapsed: the teller's own first, or the whole branch's."""
    mine = request.GET.get("who", "mine") != "branch"
    # Each row's "Resume" goes to the first step with something missing (kyc_gaps).
    drafts = (_customers().kyc_open().for_branch(request.user.branch).order_by("-updated_at")
              .prefetch_related("identity_documents", "kyc_documents", "addresses"))
    if mine:
        drafts = drafts.filter(created_by=request.user)
    table = DraftTable(drafts)
    RequestConfig(request, paginate={"per_page": 25}).configure(table)
    return render(request, "portals/teller/kyc_drafts.html", {"table": table, "mine": mine})


# -- the KYC wizard -----------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@policies.teller
@vary_on_headers("HX-Request")
def customer_new(request):
    """Step 1 for someone new to the bank: saving it creates the draft and its CIF."""
    if request.user.branch is None:
        messages.error(request, "Customers are taken on at a branch; your login has no branch.")
        return redirect("teller:customer-search")
    form = PersonalForm(branch=request.user.branch)
    if request.method == "POST":
        if request.POST.get("action") == "retype":
            form = keep_typing(PersonalForm(initial=request.POST.dict(), branch=request.user.branch),
                               redrawn_by="customer_type")
        else:
            form = PersonalForm(request.POST, branch=request.user.branch)
            if form.is_valid():
                try:
                    customer = actions.create_customer(actor=request.user, **form.details())
                except BankingError as error:
                    _add_error(form, error)
                else:
                    return _after_save(request, customer, STEP_BY_SLUG["personal"])
    _wire_retype(form, reverse("teller:customer-new"))
    return _render_step(request, None, "personal", {"form": form})


@require_http_methods(["GET", "POST"])
@policies.teller
@vary_on_headers("HX-Request")
def kyc_step(request, pk, step):
    """One step of an open KYC: shown, checked, saved to the draft."""
    if step not in STEP_BY_SLUG:
        raise Http404("No such step.")
    customer = get_object_or_404(_customers(), pk=pk)
    refusal = _wizard_refusal(request.user, customer)
    if refusal:
        messages.warning(request, refusal)
        return _go(request, reverse("teller:customer-detail", kwargs={"pk": customer.pk}))
    action = request.POST.get("action", "next") if request.method == "POST" else None
    if action and action.startswith("remove-"):
        return _remove(request, customer, step, action)
    if action == "retype" and step == "personal":
        form = keep_typing(PersonalForm(initial=request.POST.dict(), instance=customer, branch=customer.home_branch),
                           redrawn_by="customer_type")
        return _render_step(request, customer, step, _wired(form, customer))
    if step == "review":
        return _review(request, customer, submitting=request.method == "POST")
    forms = FORMS[step](customer, *_bound(request))
    if request.method == "POST" and all(form.is_valid() for form in forms.values()):
        try:
            with transaction.atomic():
                SAVERS[step](request.user, customer, forms)
        except BankingError as error:
            _add_error(next(iter(forms.values())), error, FIELD_OF_ERROR)
        else:
            return _after_save(request, customer, STEP_BY_SLUG[step], later=action == "later")
    return _render_step(request, customer, step, forms)


FIELD_OF_ERROR = {
    "passport": "other_number", "voter_id": "other_number", "driving_licence": "other_number",
    "expires_on": "other_expires_on",
}


def _after_save(request, customer, step, *, later=False):
    customer.refresh_from_db()
    if later:
        messages.success(request, f"Saved the KYC draft of {customer.display_name} ({customer.cif}). "
                                  "Resume it from KYC drafts.")
        return _go(request, reverse("teller:kyc-drafts"))
    index = STEPS.index(step)
    following = STEPS[index + 1].slug
    url = reverse("teller:kyc-step", kwargs={"pk": customer.pk, "step": following})
    if following == "review":
        return _go(request, url, htmx_render=lambda: _review(request, customer, saved=step.slug))
    return _go(request, url, htmx_render=lambda: _render_step(
        request, customer, following, FORMS[following](customer), saved=step.slug))


def _remove(request, customer, step, action):
    """A 'Remove' button beside a file or number already on file."""
    try:
        if action.startswith("remove-doc-"):
            document = get_object_or_404(KycDocument, pk=action.removeprefix("remove-doc-"), customer=customer)
            actions.remove_document(actor=request.user, customer=customer, document=document)
            messages.success(request, f"Removed the {document.get_kind_display().lower()}.")
        elif action.startswith("remove-id-"):
            doc_type = DocumentType(action.removeprefix("remove-id-"))
            actions.remove_identity_document(actor=request.user, customer=customer, doc_type=doc_type)
            messages.success(request, f"Removed the {doc_type.label}.")
    except (BankingError, ValueError) as error:
        messages.error(request, str(error))
    url = reverse("teller:kyc-step", kwargs={"pk": customer.pk, "step": step})
    if not request.htmx:
        return redirect(url)
    return _render_step(request, customer, step, FORMS[step](customer) if step in FORMS else {})


def _step_context(customer, step, saved):
    progress = _progress(customer, step)
    index = next(n for n, item in enumerate(progress) if item["step"].slug == step)
    return {
        "customer": customer,
        "step": STEP_BY_SLUG[step],
        "progress": progress,
        "number": index + 1,
        "previous_url": progress[index - 1]["url"] if index else None,
        "saved": STEP_BY_SLUG[saved].label if saved else None,
        "action": reverse("teller:kyc-step", kwargs={"pk": customer.pk, "step": step}) if customer
        else reverse("teller:customer-new"),
    }


def _render_step(request, customer, step, forms, *, saved=None):
    has_errors = any(form.is_bound and form.errors for form in forms.values())
    context = {
        **_step_context(customer, step, saved),
        "forms": forms,
        "has_errors": has_errors,
        # A browser never re-sends a chosen file, so say so when the step comes back.
        "files_dropped": has_errors and bool(request.FILES),
        "documents": [d for d in _documents(customer) if d.kind in STEP_BY_SLUG[step].uploads] if customer else [],
        "identities": list(customer.identity_documents.all()) if customer and step == "identity" else [],
        "multipart": bool(STEP_BY_SLUG[step].uploads),
    }
    template = WIZARD + ("#kyc-wizard" if request.htmx else "")
    return render(request, template, context)


def _review(request, customer, *, submitting=False, saved=None):
    error = None
    if submitting:
        try:
            approval = actions.submit_kyc(actor=request.user, customer=customer)
        except BankingError as refusal:
            error = str(refusal)
        else:
            messages.success(request, f"The KYC of {customer.display_name} is waiting for a supervisor's "
                                      f"verification (request #{approval.pk}).")
            return _go(request, reverse("teller:customer-detail", kwargs={"pk": customer.pk}))
    customer = _customers().prefetch_related("identity_documents", "addresses", "kyc_documents").get(pk=customer.pk)
    context = {
        **_step_context(customer, "review", saved),
        "rows": describe_kyc({"customer_id": customer.pk, "cif": customer.cif}),
        "gaps": [(STEP_BY_SLUG[slug], message) for slug, message in customer.kyc_gaps()],
        "documents": _documents(customer),
        "error": error,
    }
    template = WIZARD + ("#kyc-wizard" if request.htmx else "")
    return render(request, template, context)


# -- each step's forms and how they are saved ---------------------------------------------


def _bound(request):
    if request.method == "POST":
        return request.POST, request.FILES
    return None, None


def _wire_retype(form, url):
    """Changing the customer type re-draws the form with that type's fields."""
    form.fields["customer_type"].widget.attrs.update({
        "hx-post": url, "hx-trigger": "change", "hx-target": "#kyc-wizard", "hx-swap": "outerHTML",
        "hx-vals": '{"action": "retype"}', "hx-include": "closest form",
    })


def _wired(form, customer):
    _wire_retype(form, reverse("teller:kyc-step", kwargs={"pk": customer.pk, "step": "personal"}))
    return {"form": form}


def _personal_forms(customer, data=None, files=None):
    return _wired(PersonalForm(data, instance=customer, branch=customer.home_branch), customer)


def _save_personal(actor, customer, forms):
    actions.update_customer(actor=actor, customer=customer, **forms["form"].details())


def _identity_forms(customer, data=None, files=None):
    return {"form": IdentityForm(data, files, customer=customer)}


def _save_identity(actor, customer, forms):
    data = forms["form"].cleaned_data
    for field, doc_type in (("pan", DocumentType.PAN), ("aadhaar", DocumentType.AADHAAR)):
        if data.get(field):
            actions.add_identity_document(actor=actor, customer=customer, doc_type=doc_type, number=data[field])
    if data.get("other_type") and data.get("other_number"):
        actions.add_identity_document(actor=actor, customer=customer, doc_type=data["other_type"],
                                      number=data["other_number"], expires_on=data.get("other_expires_on"))
    for kind, upload in forms["form"].uploads():
        actions.upload_document(actor=actor, customer=customer, kind=kind, upload=upload)


def _address_forms(customer, data=None, files=None):
    permanent = customer.address(AddressKind.PERMANENT)
    correspondence = customer.address(AddressKind.CORRESPONDENCE)
    extras = AddressExtrasForm(data, files, initial={"same_as_permanent": correspondence is None})
    same = (data.get("same_as_permanent") == "on") if data is not None else correspondence is None
    return {
        "extras": extras,
        "permanent": AddressForm(data, prefix="permanent", instance=permanent),
        "correspondence": AddressForm(data, prefix="correspondence", instance=correspondence, active=not same),
    }


def _save_address(actor, customer, forms):
    actions.set_address(actor=actor, customer=customer, kind=AddressKind.PERMANENT, **forms["permanent"].address())
    if forms["extras"].cleaned_data["same_as_permanent"]:
        actions.remove_address(actor=actor, customer=customer, kind=AddressKind.CORRESPONDENCE)
    else:
        actions.set_address(actor=actor, customer=customer, kind=AddressKind.CORRESPONDENCE,
                            **forms["correspondence"].address())
    upload = forms["extras"].cleaned_data.get("address_proof")
    if upload:
        actions.upload_document(actor=actor, customer=customer, kind=KycDocumentKind.ADDRESS_PROOF, upload=upload)


def _declarations_forms(customer, data=None, files=None):
    initial = {
        "is_pep": "yes" if customer.is_pep else "no",
        "fatca_us_person": "yes" if customer.fatca_us_person else "no",
        "tax_residency_other": customer.tax_residency_other,
        "risk_category": customer.risk_category if customer.declared_at else customer.assessed_risk(),
    }
    return {"form": DeclarationsForm(data, initial=initial, customer=customer)}


def _save_declarations(actor, customer, forms):
    data = forms["form"].cleaned_data
    actions.record_declarations(
        actor=actor, customer=customer, is_pep=data["is_pep"] == "yes",
        fatca_us_person=data["fatca_us_person"] == "yes", tax_residency_other=data["tax_residency_other"],
        risk_category=data["risk_category"],
    )


FORMS = {
    "personal": _personal_forms,
    "identity": _identity_forms,
    "address": _address_forms,
    "declarations": _declarations_forms,
}
SAVERS = {
    "personal": _save_personal,
    "identity": _save_identity,
    "address": _save_address,
    "declarations": _save_declarations,
}
