"""The customer (mobile) API: me, accounts and their transactions, payees, payments
and UPI collect requests.

Every query starts from the signed-in customer (`request.user.customer`): their
accounts (held alone or jointly), their payees, payments from or to their accounts,
collect requests to their UPI IDs. Anyone else's id or number is a 404, exactly as a
number that does not exist. The rules are the banking actions' own (make_payment,
add_payee, remove_payee, approve/decline_collect_request); this module only reads
JSON in and writes JSON out. The authenticator code is needed where the web site
needs it: every new payee, every collect request paid, and payments above
CBS_PAYMENT_TOTP_ABOVE.
"""

import datetime
import uuid

from django.conf import settings
from django.db.models import F, Q
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.response import Response

from banking.core.errors import BankingError
from banking.deposits.models import DepositAccount, DepositStatus, ProductKind
from banking.ledger.models import Posting
from banking.payments import actions
from banking.payments.directory import find_branch
from banking.payments.models import CollectRequest, Payee, PayeeKind, Payment, PaymentStatus, Rail
from portals.customer.authenticator import code_problem

from .fields import BankTimeField, MoneyField
from .idempotency import KEY_PARAMETER, idempotency_key, run_once
from .pagination import CURSOR_PARAMETER, Cursor, paginate
from .policies import api_customer
from .problems import ApiProblem
from .schema import problem_responses
from .serializers import NARRATION_MAX, OtpField, StrictSerializer

KINDS = {ProductKind.SAVINGS: "savings", ProductKind.ZERO_BALANCE: "savings", ProductKind.CURRENT: "current",
         ProductKind.FIXED: "fixed_deposit", ProductKind.RECURRING: "recurring_deposit"}
STATUSES = {DepositStatus.ACTIVE: "active", DepositStatus.INOPERATIVE: "inoperative",
            DepositStatus.DEBIT_FROZEN: "frozen", DepositStatus.FROZEN: "frozen", DepositStatus.CLOSED: "closed"}
PAYMENT_STATUSES = {
    PaymentStatus.INITIATED: "queued", PaymentStatus.AWAITING_APPROVAL: "pending_approval",
    PaymentStatus.DEBITED: "queued", PaymentStatus.SENT: "sent", PaymentStatus.SETTLED: "settled",
    PaymentStatus.RETURNED: "returned", PaymentStatus.FAILED: "failed", PaymentStatus.REVERSED: "failed",
    PaymentStatus.REJECTED: "rejected"}
# The contract names rails in lower case; the bank stores them in upper case.
RAILS = {rail.value.lower(): rail.value for rail in Rail}


def _me(request):
    return request.user.customer


def _my_accounts(customer):
    return DepositAccount.objects.for_customer(customer).opened().with_ledger().order_by("number")


def _my_account(customer, number):
    return get_object_or_404(_my_accounts(customer), number=number)


def _my_payments(customer):
    mine = DepositAccount.objects.for_customer(customer).values("pk")
    return Payment.objects.filter(Q(customer=customer) | Q(debit_account__in=mine) | Q(credit_account__in=mine))


def _check_code(user, code, *, needed=True):
    if not needed:
        return
    if not code:
        raise ApiProblem(401, "otp_required", "Send the code of your authenticator app as otp.")
    if problem := code_problem(user, code):
        raise ApiProblem(401, "otp_invalid", problem)


# -- me and accounts ------------------------------------------------------------------------


class MeOut(serializers.Serializer):
    customer_number = serializers.CharField(source="cif")
    name = serializers.CharField(source="display_name")
    email = serializers.CharField()
    mobile_masked = serializers.SerializerMethodField()

    def get_mobile_masked(self, customer) -> str:
        digits = "".join(c for c in (customer.mobile or "") if c.isdigit())
        return ("X" * (len(digits) - 4) + digits[-4:]) if len(digits) > 4 else ""


class AccountOut(serializers.Serializer):
    number = serializers.CharField()
    product = serializers.CharField(source="product.name")
    kind = serializers.SerializerMethodField()
    currency = serializers.CharField()
    balance = MoneyField()
    available_balance = MoneyField(source="available")
    status = serializers.SerializerMethodField()

    def get_kind(self, account) -> str:
        return KINDS[account.product.kind]

    def get_status(self, account) -> str:
        return STATUSES.get(account.status, "active")


class AccountDetailOut(AccountOut):
    holders = serializers.ListField(child=serializers.CharField(), source="holder_names")
    ifsc = serializers.CharField(source="branch.ifsc")


ACCOUNT_EXAMPLE = {"number": "10010000012345", "product": "Savings", "kind": "savings", "currency": "INR",
                   "balance": "25000.00", "available_balance": "24500.00", "status": "active"}


@extend_schema(operation_id="me", tags=["customer"], summary="The signed-in customer",
               responses={200: MeOut, **problem_responses(401, 403)},
               examples=[OpenApiExample("Me", response_only=True, status_codes=["200"], value={
                   "customer_number": "100000001", "name": "Asha Rao", "email": "asha@example.com",
                   "mobile_masked": "XXXXXX3210"})])
@api_customer
@api_view(["GET"])
def me(request):
    return Response(MeOut(_me(request)).data)


@extend_schema(operation_id="accounts_list", tags=["customer"], summary="The customer's accounts",
               parameters=[CURSOR_PARAMETER], responses={200: Cursor.schema(
                   {"$ref": "#/components/schemas/AccountOut"}), **problem_responses(401, 403)},
               examples=[OpenApiExample("Accounts", response_only=True, status_codes=["200"],
                                        value={"results": [ACCOUNT_EXAMPLE], "next": None})])
@api_customer
@api_view(["GET"])
def accounts(request):
    customer = _me(request)
    queryset = _my_accounts(customer).prefetch_related("holders__customer")
    return Response(paginate(request, queryset, AccountOut, ordering=("number",)))


@extend_schema(operation_id="account", tags=["customer"], summary="One of the customer's accounts",
               responses={200: AccountDetailOut, **problem_responses(401, 403, 404)},
               examples=[OpenApiExample("Account", response_only=True, status_codes=["200"], value={
                   **ACCOUNT_EXAMPLE, "holders": ["Asha Rao"], "ifsc": "CBSB0000001"})])
@api_customer
@api_view(["GET"])
def account(request, number):
    found = _my_account(_me(request), number)
    return Response(AccountDetailOut(found).data)


class TransactionOut(serializers.Serializer):
    id = serializers.IntegerField()
    value_date = serializers.DateField(source="business_date")
    booked_at = BankTimeField()
    narration = serializers.CharField(source="entry.narration")
    amount = MoneyField()
    direction = serializers.SerializerMethodField()
    balance_after = MoneyField()
    reference = serializers.CharField(source="entry.reference")

    def get_direction(self, posting) -> str:
        return "credit" if posting.side == "C" else "debit"


def _date(request, name):
    text = request.query_params.get(name)
    if text is None or text == "":
        return None
    try:
        return datetime.date.fromisoformat(text) if len(text) == 10 else _bad_date(name)
    except ValueError:
        return _bad_date(name)


def _bad_date(name):
    raise ApiProblem(400, "invalid_date", f"{name} must be a date as YYYY-MM-DD.")


@extend_schema(
    operation_id="account_transactions", tags=["customer"], summary="An account's postings, newest first",
    parameters=[OpenApiParameter("from", datetime.date, description="First value date, inclusive."),
                OpenApiParameter("to", datetime.date, description="Last value date, inclusive."), CURSOR_PARAMETER],
    responses={200: Cursor.schema({"$ref": "#/components/schemas/TransactionOut"}),
               **problem_responses(400, 401, 403, 404)},
    examples=[OpenApiExample("Transactions", response_only=True, status_codes=["200"], value={"results": [{
        "id": 981, "value_date": "2026-12-07", "booked_at": "2026-12-07T10:15:00+05:30",
        "narration": "Transfer to Ravi", "amount": "1500.00", "direction": "debit", "balance_after": "23500.00",
        "reference": "PAY261207000001"}], "next": None})])
@api_customer
@api_view(["GET"])
def transactions(request, number):
    found = _my_account(_me(request), number)
    start, end = _date(request, "from"), _date(request, "to")
    postings = (Posting.objects.filter(account_id=found.ledger_account_id).select_related("entry")
                .annotate(booked_at=F("entry__booked_at")))
    if start:
        postings = postings.filter(business_date__gte=start)
    if end:
        postings = postings.filter(business_date__lte=end)
    return Response(paginate(request, postings, TransactionOut, ordering=("-booked_at", "-id")))


# -- payees -----------------------------------------------------------------------------------


class PayeeOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    account_number = serializers.CharField()
    ifsc = serializers.CharField()
    vpa = serializers.CharField()
    created_at = BankTimeField()
    cooling_until = serializers.SerializerMethodField()

    def get_cooling_until(self, payee) -> str | None:
        return BankTimeField().to_representation(payee.cooling_ends_at()) if payee.is_cooling() else None


class PayeeIn(StrictSerializer):
    name = serializers.CharField(max_length=140)
    account_number = serializers.RegexField(r"^[0-9]{6,20}$", max_length=20)
    ifsc = serializers.CharField(max_length=11)
    otp = OtpField()


PAYEE_EXAMPLE = {"id": 7, "name": "Ravi Kumar", "account_number": "50100012345678", "ifsc": "HDFC0000123",
                 "vpa": "", "created_at": "2026-12-07T10:15:00+05:30", "cooling_until": "2026-12-08T10:15:00+05:30"}


@extend_schema(methods=["GET"], operation_id="payees_list", tags=["payees"], summary="The customer's payees",
               parameters=[CURSOR_PARAMETER],
               responses={200: Cursor.schema({"$ref": "#/components/schemas/PayeeOut"}), **problem_responses(401, 403)},
               examples=[OpenApiExample("Payees", response_only=True, status_codes=["200"],
                                        value={"results": [PAYEE_EXAMPLE], "next": None})])
@extend_schema(methods=["POST"], operation_id="payees_create", tags=["payees"],
               summary="Add a payee (authenticator code needed; the cooling period applies)", request=PayeeIn,
               responses={201: PayeeOut, **problem_responses(401, 403, 422)},
               examples=[OpenApiExample("New payee", request_only=True, value={
                   "name": "Ravi Kumar", "account_number": "50100012345678", "ifsc": "HDFC0000123", "otp": "123456"}),
                   OpenApiExample("Added", response_only=True, status_codes=["201"], value=PAYEE_EXAMPLE)])
@api_customer
@api_view(["GET", "POST"])
def payees(request):
    customer = _me(request)
    if request.method == "GET":
        return Response(paginate(request, Payee.objects.for_customer(customer).active(), PayeeOut))
    body = PayeeIn(data=request.data)
    body.is_valid(raise_exception=True)
    data = body.validated_data
    try:
        branch = find_branch(data["ifsc"])
    except BankingError as error:
        raise ApiProblem(422, "invalid_ifsc", str(error), errors={"ifsc": [str(error)]}) from None
    _check_code(request.user, data.get("otp"))
    payee = actions.add_payee(actor=request.user, customer=customer,
                              kind=PayeeKind.INTERNAL if branch.is_own_bank else PayeeKind.EXTERNAL,
                              name=data["name"], account_number=data["account_number"], ifsc=data["ifsc"])
    return Response(PayeeOut(payee).data, status=201)


@extend_schema(operation_id="payees_delete", tags=["payees"], summary="Remove a payee",
               responses={204: None, **problem_responses(401, 403, 404)})
@api_customer
@api_view(["DELETE"])
def payee(request, pk):
    found = get_object_or_404(Payee.objects.for_customer(_me(request)).active(), pk=pk)
    actions.remove_payee(actor=request.user, payee=found)
    return Response(status=204)


# -- payments ---------------------------------------------------------------------------------


class PaymentIn(StrictSerializer):
    from_account = serializers.CharField(max_length=20)
    rail = serializers.ChoiceField(choices=sorted(RAILS))
    amount = MoneyField()
    narration = serializers.CharField(max_length=NARRATION_MAX, required=False, allow_blank=True, default="")
    otp = OtpField()
    payee_id = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    to_account = serializers.CharField(max_length=20, required=False)
    vpa = serializers.CharField(max_length=80, required=False)

    def validate(self, data):
        given = [name for name in ("payee_id", "to_account", "vpa") if data.get(name) not in (None, "")]
        if len(given) != 1:
            raise serializers.ValidationError({"non_field_errors": [serializers.ErrorDetail(
                "Send exactly one of payee_id, to_account or vpa.", code="destination_required")]})
        data["rail"] = RAILS[data["rail"]]
        if "to_account" in given and data["rail"] != Rail.INTERNAL:
            raise serializers.ValidationError({"to_account": [serializers.ErrorDetail(
                "to_account is for the internal rail; pay another bank through a payee.", code="invalid")]})
        if "vpa" in given and data["rail"] != Rail.UPI:
            raise serializers.ValidationError({"vpa": [serializers.ErrorDetail(
                "vpa is for the upi rail.", code="invalid")]})
        return data


class TimelineOut(serializers.Serializer):
    status = serializers.SerializerMethodField()
    at = BankTimeField()

    def get_status(self, event) -> str:
        return PAYMENT_STATUSES[event.status]


class PaymentOut(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.SerializerMethodField()
    rail = serializers.SerializerMethodField()
    amount = MoneyField()
    utr = serializers.CharField(source="reference", allow_null=True)
    created_at = BankTimeField(source="initiated_at")
    status_url = serializers.SerializerMethodField()

    def get_status(self, payment) -> str:
        return PAYMENT_STATUSES[payment.status]

    def get_rail(self, payment) -> str:
        return payment.rail.lower()

    def get_status_url(self, payment) -> str:
        return f"/api/v1/payments/{payment.pk}/"


class PaymentDetailOut(PaymentOut):
    timeline = TimelineOut(many=True, source="events.all")


PAYMENT_EXAMPLE = {"id": 42, "status": "settled", "rail": "internal", "amount": "1500.00", "utr": None,
                   "created_at": "2026-12-07T10:15:00+05:30", "status_url": "/api/v1/payments/42/"}


def _payment_key(customer, key):
    """The payment's own idempotency key. The API's Idempotency-Key is answered once by
    run_once (its lock and its answer, kept with the payment); after its 24 hours the
    client may use it again for a new payment, so the payment's key adds a fresh part."""
    return f"api-{customer.pk}-{key}-{uuid.uuid4().hex[:12]}"


def _send(request, customer, data, key, keep):
    """make_payment with the customer's own records, as internet banking calls it. A
    payment within the bank is made in one posting, and its answer is kept in it."""
    debit = (DepositAccount.objects.for_customer(customer).select_related("product", "branch")
             .filter(number=data["from_account"]).first())
    if debit is None:
        raise ApiProblem(422, "invalid_from_account", "from_account is not one of your accounts.",
                         errors={"from_account": ["Not one of your accounts."]})
    payee, credit = None, None
    if data.get("payee_id"):
        payee = Payee.objects.for_customer(customer).active().filter(pk=data["payee_id"]).first()
        if payee is None:
            raise ApiProblem(422, "invalid_payee_id", "payee_id is not one of your payees.",
                             errors={"payee_id": ["Not one of your payees."]})
    if data.get("to_account"):
        credit = DepositAccount.objects.for_customer(customer).filter(number=data["to_account"]).first()
        if credit is None:
            raise ApiProblem(422, "invalid_to_account", "to_account is not one of your accounts; pay others "
                             "through a payee.", errors={"to_account": ["Not one of your accounts."]})
    _check_code(request.user, data.get("otp"), needed=data["amount"] > settings.CBS_PAYMENT_TOTP_ABOVE)
    made = []

    def answer(payment):
        made.append(Response(PaymentOut(payment).data, status=201))
        return [keep(made[-1])]

    payment = actions.make_payment(actor=request.user, customer=customer, debit_account=debit,
                                   amount=data["amount"], idempotency_key=_payment_key(customer, key),
                                   rail=data["rail"], payee=payee, credit_account=credit, vpa=data.get("vpa") or "",
                                   narration=data.get("narration") or "", riders_for=answer)
    return made[-1] if made else Response(PaymentOut(payment).data, status=201)


@extend_schema(methods=["GET"], operation_id="payments_list", tags=["payments"],
               summary="Payments from or to the customer's accounts, newest first", parameters=[CURSOR_PARAMETER],
               responses={200: Cursor.schema({"$ref": "#/components/schemas/PaymentOut"}),
                          **problem_responses(400, 401, 403)},
               examples=[OpenApiExample("Payments", response_only=True, status_codes=["200"],
                                        value={"results": [PAYMENT_EXAMPLE], "next": None})])
@extend_schema(methods=["POST"], operation_id="payments_create", tags=["payments"],
               summary="Make a payment (Idempotency-Key needed)", request=PaymentIn, parameters=[KEY_PARAMETER],
               responses={201: PaymentOut, **problem_responses(400, 401, 403, 409, 422)},
               examples=[OpenApiExample("Transfer", request_only=True, value={
                   "from_account": "10010000012345", "rail": "internal", "amount": "1500.00",
                   "narration": "Rent", "to_account": "20010000054321"}),
                   OpenApiExample("Made", response_only=True, status_codes=["201"], value=PAYMENT_EXAMPLE)])
@api_customer
@api_view(["GET", "POST"])
def payments(request):
    customer = _me(request)
    if request.method == "GET":
        return Response(paginate(request, _my_payments(customer), PaymentOut))
    key = idempotency_key(request)
    body = PaymentIn(data=request.data)
    body.is_valid(raise_exception=True)
    return run_once(request, key, owner=f"user:{request.user.pk}", data=request.data,
                    work=lambda keep: _send(request, customer, body.validated_data, key, keep))


@extend_schema(operation_id="payment", tags=["payments"], summary="A payment's status and timeline",
               responses={200: PaymentDetailOut, **problem_responses(401, 403, 404)},
               examples=[OpenApiExample("Payment", response_only=True, status_codes=["200"], value={
                   **PAYMENT_EXAMPLE, "timeline": [{"status": "queued", "at": "2026-12-07T10:15:00+05:30"},
                                                   {"status": "settled", "at": "2026-12-07T10:15:00+05:30"}]})])
@api_customer
@api_view(["GET"])
def payment(request, pk):
    found = get_object_or_404(_my_payments(_me(request)).prefetch_related("events"), pk=pk)
    return Response(PaymentDetailOut(found).data)


# -- UPI collect requests ---------------------------------------------------------------------


class CollectOut(serializers.Serializer):
    id = serializers.IntegerField()
    merchant_name = serializers.CharField()
    merchant_vpa = serializers.CharField()
    payer_vpa = serializers.CharField(source="payer.address")
    amount = MoneyField()
    note = serializers.CharField()
    status = serializers.CharField()
    created_at = BankTimeField()
    expires_at = BankTimeField()
    payment_id = serializers.IntegerField(allow_null=True)


class CollectPayIn(StrictSerializer):
    otp = OtpField()


COLLECT_EXAMPLE = {"id": 3, "merchant_name": "Kirana Mart", "merchant_vpa": "kirana@okbank",
                   "payer_vpa": "asha@cbsb", "amount": "250.00", "note": "Order 881", "status": "pending",
                   "created_at": "2026-12-07T10:15:00+05:30", "expires_at": "2026-12-07T10:45:00+05:30",
                   "payment_id": None}


def _my_collects(customer):
    return CollectRequest.objects.for_customer(customer).select_related("payer")


@extend_schema(operation_id="collect_requests_list", tags=["upi"], summary="Merchants' collect requests",
               parameters=[CURSOR_PARAMETER],
               responses={200: Cursor.schema({"$ref": "#/components/schemas/CollectOut"}),
                          **problem_responses(400, 401, 403)},
               examples=[OpenApiExample("Collect requests", response_only=True, status_codes=["200"],
                                        value={"results": [COLLECT_EXAMPLE], "next": None})])
@api_customer
@api_view(["GET"])
def collect_requests(request):
    return Response(paginate(request, _my_collects(_me(request)), CollectOut))


def _pay_collect(request, customer, pk, key):
    _check_code(request.user, request.data.get("otp"))
    collect = actions.approve_collect_request(actor=request.user, customer=customer, request_id=pk,
                                              idempotency_key=_payment_key(customer, key))
    return Response(PaymentOut(collect.payment).data, status=201)


@extend_schema(operation_id="collect_request_pay", tags=["upi"], request=CollectPayIn, parameters=[KEY_PARAMETER],
               summary="Pay a collect request (authenticator code and Idempotency-Key needed)",
               responses={201: PaymentOut, **problem_responses(400, 401, 403, 404, 409, 422)},
               examples=[OpenApiExample("Pay", request_only=True, value={"otp": "123456"}),
                         OpenApiExample("Paid", response_only=True, status_codes=["201"],
                                        value={**PAYMENT_EXAMPLE, "rail": "upi", "utr": "634112345678"})])
@api_customer
@api_view(["POST"])
def collect_pay(request, pk):
    customer = _me(request)
    get_object_or_404(_my_collects(customer), pk=pk)
    key = idempotency_key(request)
    CollectPayIn(data=request.data).is_valid(raise_exception=True)
    return run_once(request, key, owner=f"user:{request.user.pk}", data=request.data,
                    work=lambda keep: _pay_collect(request, customer, pk, key))


@extend_schema(operation_id="collect_request_decline", tags=["upi"], request=None, summary="Decline a collect request",
               responses={200: CollectOut, **problem_responses(401, 403, 404, 422)},
               examples=[OpenApiExample("Declined", response_only=True, status_codes=["200"],
                                        value={**COLLECT_EXAMPLE, "status": "declined"})])
@api_customer
@api_view(["POST"])
def collect_decline(request, pk):
    customer = _me(request)
    get_object_or_404(_my_collects(customer), pk=pk)
    collect = actions.decline_collect_request(actor=request.user, customer=customer, request_id=pk)
    return Response(CollectOut(collect).data)
