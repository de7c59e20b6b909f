"""The partner API: a corporate customer's ERP, or a fintech acting for a corporate
customer, calling with `Authorization: Api-Key <prefix>.<secret>`.

A key (banking/partners) belongs to one partner, bound to one corporate customer,
with scopes and an allow-list of source networks. Every query starts from the key's
partner: the customer's accounts, the partner's payout batches and webhook endpoints;
another partner's id or another customer's account number is a 404. The rules are
the banking actions' own: payouts are payments through banking/payments' actions,
paid by the background worker, and a batch above the customer's threshold waits for
the customer's authoriser in internet banking.
"""

import datetime

from django.db.models import F
from django.shortcuts import get_object_or_404
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.authentication import BaseAuthentication
from rest_framework.decorators import api_view
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from banking.audit.middleware import client_ip
from banking.deposits.models import DepositAccount
from banking.ledger.models import Posting
from banking.partners import actions as partners
from banking.partners.models import EVENT_TYPES, PayoutBatch, WebhookEndpoint
from banking.payments.models import Rail

from .customer import AccountOut, TransactionOut, _date
from .fields import MoneyField
from .idempotency import KEY_PARAMETER, idempotency_key, run_once
from .pagination import CURSOR_PARAMETER, Cursor, paginate
from .policies import Rate, api_policy
from .problems import ApiProblem
from .schema import problem_responses
from .serializers import StrictSerializer

KEYWORD = "Api-Key"
PAYOUT_RAILS = {"neft": Rail.NEFT, "rtgs": Rail.RTGS, "imps": Rail.IMPS, "internal": Rail.INTERNAL}
REFUSED_STATUS = {"address_not_allowed": 403}


class PartnerCaller:
    """The caller of a partner request, standing in for a user: the key and its partner."""

    is_authenticated = True
    is_active = True
    is_staff = False

    pk = None  # not a user: the audit trail names the key instead (get_username)
    role = None

    def __init__(self, key):
        self.key, self.partner = key, key.partner
        self.username = f"api-key:{key.prefix}"

    def get_username(self):
        return self.username

    def has_perm(self, perm, obj=None):
        return False

    def __str__(self):
        return self.username


class ApiKeyAuthentication(BaseAuthentication):
    """`Authorization: Api-Key <prefix>.<secret>`, checked by banking.partners."""

    def authenticate(self, request):
        scheme, _space, token = request.headers.get("Authorization", "").partition(" ")
        if scheme != KEYWORD:
            return None
        try:
            key = partners.authenticate_key(token, client_ip(request) or "")
        except partners.KeyRefused as refused:
            raise ApiProblem(REFUSED_STATUS.get(refused.code, 401), refused.code, str(refused)) from None
        return PartnerCaller(key), key

    def authenticate_header(self, request):
        return KEYWORD


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "portals.api.partner.ApiKeyAuthentication"
    name = "partnerApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "`Api-Key <prefix>.<secret>`, issued by the bank."}


def _scope(scope):
    class HasScope(BasePermission):
        message = f"This API key does not have the {scope} scope."
        code = "insufficient_scope"

        def has_permission(self, request, view):
            return isinstance(request.user, PartnerCaller) and scope in request.user.key.scopes

    HasScope.__name__ = f"HasScope_{scope.replace(':', '_')}"
    return HasScope


class PartnerRate(Rate):
    """600 requests a minute per partner (all its keys together)."""

    scope = "partner"

    def identity(self, request):
        caller = request.user
        return f"partner:{caller.partner.pk}" if isinstance(caller, PartnerCaller) else self.get_ident(request)


def _partner_policy(scope):
    return api_policy(f"api_partner {scope}", authentication=[ApiKeyAuthentication], permissions=[_scope(scope)],
                      throttles=[PartnerRate])


api_partner_accounts = _partner_policy("accounts:read")
api_partner_payouts = _partner_policy("payouts:write")
api_partner_webhooks = _partner_policy("webhooks:manage")


def _partner(request):
    return request.user.partner


def _accounts(partner):
    return DepositAccount.objects.for_customer(partner.customer).opened().with_ledger().order_by("number")


ACCOUNT_EXAMPLE = {"number": "10010000012345", "product": "Current account", "kind": "current", "currency": "INR",
                   "balance": "250000.00", "available_balance": "245000.00", "status": "active"}


# -- accounts -------------------------------------------------------------------------------

@extend_schema(operation_id="partner_accounts_list", tags=["partner"], summary="The bound customer's accounts",
               parameters=[CURSOR_PARAMETER],
               responses={200: Cursor.schema({"$ref": "#/components/schemas/AccountOut"}),
                          **problem_responses(400, 401, 403)},
               examples=[OpenApiExample("Accounts", response_only=True, status_codes=["200"],
                                        value={"results": [ACCOUNT_EXAMPLE], "next": None})])
@api_partner_accounts
@api_view(["GET"])
def accounts(request):
    return Response(paginate(request, _accounts(_partner(request)).prefetch_related("holders__customer"),
                             AccountOut, ordering=("number",)))


@extend_schema(operation_id="partner_account_transactions", tags=["partner"],
               summary="An account's postings, newest first",
               parameters=[OpenApiParameter("from", datetime.date, description="First value date, inclusive."),
                           OpenApiParameter("to", datetime.date, description="Last value date, inclusive."),
                           CURSOR_PARAMETER],
               responses={200: Cursor.schema({"$ref": "#/components/schemas/TransactionOut"}),
                          **problem_responses(400, 401, 403, 404)},
               examples=[OpenApiExample("Transactions", response_only=True, status_codes=["200"], value={"results": [{
                   "id": 981, "value_date": "2026-12-07", "booked_at": "2026-12-07T10:15:00+05:30",
                   "narration": "NEFT from Globex", "amount": "150000.00", "direction": "credit",
                   "balance_after": "400000.00", "reference": "N341261207000123"}], "next": None})])
@api_partner_accounts
@api_view(["GET"])
def transactions(request, number):
    found = get_object_or_404(_accounts(_partner(request)), number=number)
    start, end = _date(request, "from"), _date(request, "to")
    postings = (Posting.objects.filter(account_id=found.ledger_account_id).select_related("entry")
                .annotate(booked_at=F("entry__booked_at")))
    if start:
        postings = postings.filter(business_date__gte=start)
    if end:
        postings = postings.filter(business_date__lte=end)
    return Response(paginate(request, postings, TransactionOut, ordering=("-booked_at", "-id")))


# -- payouts --------------------------------------------------------------------------------

class PayoutItemIn(StrictSerializer):
    reference = serializers.RegexField(r"^[A-Za-z0-9._/-]{1,40}$", max_length=40)
    to_account = serializers.RegexField(r"^[0-9]{6,18}$", max_length=18)
    ifsc = serializers.RegexField(r"^[A-Za-z]{4}0[A-Za-z0-9]{6}$", max_length=11)
    name = serializers.CharField(max_length=100)
    amount = MoneyField()
    rail = serializers.ChoiceField(choices=sorted(PAYOUT_RAILS))


class PayoutIn(StrictSerializer):
    items = serializers.ListField(child=PayoutItemIn(), min_length=1, max_length=partners.MAX_PAYOUT_ITEMS)


class RejectedOut(serializers.Serializer):
    reference = serializers.CharField()
    code = serializers.CharField()


class PayoutOut(serializers.Serializer):
    batch_id = serializers.UUIDField()
    accepted = serializers.IntegerField()
    rejected = RejectedOut(many=True)


class PayoutItemOut(serializers.Serializer):
    reference = serializers.CharField()
    status = serializers.CharField()
    payment_id = serializers.IntegerField(allow_null=True)
    code = serializers.CharField(allow_null=True)


class BatchOut(serializers.Serializer):
    batch_id = serializers.UUIDField(source="public_id")
    status = serializers.CharField()
    items = serializers.SerializerMethodField()

    def get_items(self, batch) -> PayoutItemOut(many=True):
        return [{"reference": item.reference, "status": item.status, "payment_id": item.payment_id,
                 "code": item.code or None} for item in batch.items.all()]


PAYOUT_REQUEST = {"items": [{"reference": "INV-1001", "to_account": "50100012345678", "ifsc": "HDFC0001234",
                             "name": "Ravi Kumar", "amount": "12500.00", "rail": "neft"}]}
BATCH_ID = "0b6f1f0e-5a4e-4c39-9a53-5e1f1c6f2d11"


def _submit(request, partner, key, items):
    batch, _replayed = partners.submit_payout(partner=partner, key=request.user.key, idempotency_key=key,
                                              items=items)
    return Response(batch.response, status=202)


@extend_schema(operation_id="partner_payouts_create", tags=["partner"], request=PayoutIn,
               parameters=[KEY_PARAMETER], summary="Send a payout batch of 1 to 1,000 items (Idempotency-Key needed)",
               responses={202: PayoutOut, **problem_responses(400, 401, 403, 409, 422)},
               examples=[OpenApiExample("Batch", request_only=True, value=PAYOUT_REQUEST),
                         OpenApiExample("Accepted", response_only=True, status_codes=["202"], value={
                             "batch_id": BATCH_ID, "accepted": 1,
                             "rejected": [{"reference": "INV-1002", "code": "invalid_ifsc"}]})])
@api_partner_payouts
@api_view(["POST"])
def payouts(request):
    partner = _partner(request)
    key = idempotency_key(request)
    body = PayoutIn(data=request.data)
    body.is_valid(raise_exception=True)
    items = [{**item, "ifsc": item["ifsc"].upper(), "rail": PAYOUT_RAILS[item["rail"]]}
             for item in body.validated_data["items"]]
    return run_once(request, key, owner=f"partner:{partner.pk}", data=request.data,
                    work=lambda keep: _submit(request, partner, key, items))


@extend_schema(operation_id="partner_payout", tags=["partner"], summary="The status of each item of a batch",
               responses={200: BatchOut, **problem_responses(401, 403, 404)},
               examples=[OpenApiExample("Batch", response_only=True, status_codes=["200"], value={
                   "batch_id": BATCH_ID, "status": "completed", "items": [
                       {"reference": "INV-1001", "status": "settled", "payment_id": 42, "code": None}]})])
@api_partner_payouts
@api_view(["GET"])
def payout(request, batch_id):
    batch = get_object_or_404(PayoutBatch.objects.filter(partner=_partner(request)).prefetch_related("items"),
                              public_id=batch_id)
    return Response(BatchOut(batch).data)


# -- webhooks -------------------------------------------------------------------------------

class WebhookIn(StrictSerializer):
    url = serializers.CharField(max_length=500)
    events = serializers.ListField(child=serializers.ChoiceField(choices=EVENT_TYPES), min_length=1, max_length=10)


class WebhookOut(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField()
    events = serializers.ListField(child=serializers.CharField())


class WebhookCreatedOut(WebhookOut):
    secret = serializers.CharField()


WEBHOOK_EXAMPLE = {"id": 5, "url": "https://erp.example.com/cbs/events", "events": ["payment.settled"]}


@extend_schema(methods=["GET"], operation_id="partner_webhooks_list", tags=["partner"],
               summary="The partner's webhook endpoints", parameters=[CURSOR_PARAMETER],
               responses={200: Cursor.schema({"$ref": "#/components/schemas/WebhookOut"}),
                          **problem_responses(400, 401, 403)},
               examples=[OpenApiExample("Endpoints", response_only=True, status_codes=["200"],
                                        value={"results": [WEBHOOK_EXAMPLE], "next": None})])
@extend_schema(methods=["POST"], operation_id="partner_webhooks_create", tags=["partner"], request=WebhookIn,
               summary="Add a webhook endpoint; its signing secret is shown only now",
               responses={201: WebhookCreatedOut, **problem_responses(400, 401, 403, 422)},
               examples=[OpenApiExample("Endpoint", request_only=True, value={
                   "url": "https://erp.example.com/cbs/events", "events": ["payment.settled"]}),
                   OpenApiExample("Created", response_only=True, status_codes=["201"], value={
                       **WEBHOOK_EXAMPLE, "secret": "whsec_6c1f0d8e2b7a4c3f9e5d1a0b8c7e6f5a4b3c2d1e0f9a8b7c"})])
@api_partner_webhooks
@api_view(["GET", "POST"])
def webhooks(request):
    partner = _partner(request)
    if request.method == "GET":
        return Response(paginate(request, partner.webhooks.filter(deleted_at__isnull=True), WebhookOut))
    body = WebhookIn(data=request.data)
    body.is_valid(raise_exception=True)
    endpoint, secret = partners.create_webhook(actor=None, partner=partner, url=body.validated_data["url"],
                                               events=body.validated_data["events"])
    return Response({**WebhookOut(endpoint).data, "secret": secret}, status=201)


@extend_schema(operation_id="partner_webhooks_delete", tags=["partner"], summary="Remove a webhook endpoint",
               responses={204: None, **problem_responses(401, 403, 404)})
@api_partner_webhooks
@api_view(["DELETE"])
def webhook(request, pk):
    endpoint = get_object_or_404(WebhookEndpoint.objects.filter(partner=_partner(request), deleted_at__isnull=True),
                                 pk=pk)
    partners.delete_webhook(actor=None, endpoint=endpoint)
    return Response(status=204)
