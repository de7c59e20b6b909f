"""Operations: partner API keys and webhook deliveries (banking/partners).

Keys are issued, rotated and revoked through maker-checker between two members of
operations who manage partners (policy ops_partners). Issuing or rotating shows the
new key's secret once, on the answer to the POST (never stored, never cached); the key
works once another member approves it here. The deliveries screen lists every
delivery with each of its attempts, and replays one on request. The partners are the
bank's, so the scope is all of them."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from banking.approvals.actions import approve_request, reject_request
from banking.approvals.models import ApprovalRequest
from banking.core.errors import BankingError
from banking.customers.models import Customer
from banking.deposits.models import DepositAccount
from banking.partners import actions
from banking.partners.models import ApiKey, KeyStatus, WebhookDelivery
from portals import policies

from .partner_forms import IssueKeyForm, ReasonForm, RotateKeyForm

KINDS = (actions.ISSUE_KIND, actions.ROTATE_KIND, actions.REVOKE_KIND)
KEYS_TEMPLATE = "portals/operations/partners_keys.html"


def _keys_context(request, **extra):
    keys = ApiKey.objects.select_related("partner__customer", "replaces").exclude(status=KeyStatus.REJECTED)
    pending = ApprovalRequest.objects.filter(kind__in=KINDS, status="pending").select_related("maker")
    return {"keys": keys[:200], "pending": pending, "form": extra.pop("form", None) or IssueKeyForm(),
            "rotate_form": RotateKeyForm(), "reason_form": ReasonForm(), **extra}


@require_GET
@policies.ops_partners
def keys(request):
    return render(request, KEYS_TEMPLATE, _keys_context(request))


def _secret_page(request, issued, what):
    """The answer that shows a new key's secret, once (its views are never_cache)."""
    return render(request, KEYS_TEMPLATE, _keys_context(request, issued=issued, issued_what=what))


@require_http_methods(["POST"])
@policies.ops_partners
@never_cache
def key_issue(request):
    form = IssueKeyForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        customer = Customer.objects.filter(cif=data["cif"].strip()).first()
        account = None
        if customer is None:
            form.add_error("cif", f"No customer has CIF {data['cif']}.")
        elif data["payout_account"]:
            account = DepositAccount.objects.for_customer(customer).filter(number=data["payout_account"]).first()
            if account is None:
                form.add_error("payout_account", "That is not one of this customer's accounts.")
        if not form.errors:
            try:
                issued = actions.issue_key(actor=request.user, customer=customer, name=data["name"],
                                           scopes=data["scopes"], allowed_networks=data["networks"],
                                           payout_account=account, authorisation_threshold=data["threshold"])
            except BankingError as error:
                form.add_error(None, str(error))
            else:
                return _secret_page(request, issued, "issued")
    return render(request, KEYS_TEMPLATE, _keys_context(request, form=form), status=422)


def _key(pk):
    key = ApiKey.objects.select_related("partner").filter(pk=pk).first()
    if key is None:
        raise Http404("No such key.")
    return key


@require_POST
@policies.ops_partners
@never_cache
def key_rotate(request, pk):
    key = _key(pk)
    form = RotateKeyForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The grace period is a whole number of hours, 0 to 720.")
        return redirect("ops:partner-keys")
    try:
        issued = actions.rotate_key(actor=request.user, key=key, grace_hours=form.cleaned_data["grace_hours"])
    except BankingError as error:
        messages.error(request, str(error))
        return redirect("ops:partner-keys")
    return _secret_page(request, issued, "rotated")


@require_POST
@policies.ops_partners
def key_revoke(request, pk):
    key = _key(pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the reason for revoking the key.")
        return redirect("ops:partner-keys")
    try:
        actions.revoke_key(actor=request.user, key=key, reason=form.cleaned_data["reason"])
    except BankingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Revoking key {key.prefix} waits for another member of operations to approve.")
    return redirect("ops:partner-keys")


def _request(pk):
    approval = ApprovalRequest.objects.filter(pk=pk, kind__in=KINDS).first()
    if approval is None:
        raise Http404("No such request.")
    return approval


@require_POST
@policies.ops_partners
def key_request_approve(request, pk):
    approval = _request(pk)
    try:
        approve_request(actor=request.user, request_id=approval.pk)
    except BankingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Approved: {approval.summary}.")
    return redirect("ops:partner-keys")


@require_POST
@policies.ops_partners
def key_request_reject(request, pk):
    approval = _request(pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the reason for rejecting the request.")
        return redirect("ops:partner-keys")
    try:
        reject_request(actor=request.user, request_id=approval.pk, reason=form.cleaned_data["reason"])
    except BankingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Rejected: {approval.summary}.")
    return redirect("ops:partner-keys")


@require_GET
@policies.ops_partners
def deliveries(request):
    found = (WebhookDelivery.objects.select_related("event", "endpoint__partner")
             .prefetch_related("attempt_log__replay_by").order_by("-id"))
    status = request.GET.get("status", "")
    if status in ("pending", "delivered", "gave_up"):
        found = found.filter(status=status)
    return render(request, "portals/operations/partners_deliveries.html",
                  {"deliveries": found[:100], "status": status})


@require_POST
@policies.ops_partners
def delivery_replay(request, pk):
    delivery = WebhookDelivery.objects.filter(pk=pk).first()
    if delivery is None:
        raise Http404("No such delivery.")
    try:
        status = actions.replay_delivery(actor=request.user, delivery=delivery)
    except BankingError as error:
        messages.error(request, str(error))
    else:
        if status == "delivered" and delivery.attempt_log.order_by("-number").first().succeeded:
            messages.success(request, f"Delivery {delivery.pk} sent again: the endpoint took it.")
        else:
            messages.error(request, f"Delivery {delivery.pk} sent again, but the endpoint did not take it.")
    return redirect("ops:partner-deliveries")
