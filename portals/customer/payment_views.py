"""Internet banking payments: payees, pay and transfer (form, review, confirm), the
payment's live status, payment history, UPI IDs and merchants' collect requests.

Rules the screens keep (the actions keep them again):
- Every query starts from the signed-in customer: their accounts, their payees,
  payments from or to their accounts, collect requests to their UPI IDs. Anyone
  else's id or number in a URL is a 404, as a number that does not exist.
- Re-authentication: adding a payee always needs the authenticator code typed
  into the same form; a payment needs it when its amount is above
  CBS_PAYMENT_TOTP_ABOVE; approving a collect request always needs it. A wrong
  code adds or sends nothing.
- A payment's idempotency key is the form's token (made when the form is first
  shown) scoped to the customer, so a double-click or a resubmitted page sends
  once and shows the first payment.
- Live pages poll with X-CBS-Background, which does not count as activity for
  the idle timeout, and stop polling once nothing on them can change.
"""

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from banking.core.errors import BankingError, ValidationFailed
from banking.core.money import format_money
from banking.deposits.models import DepositAccount
from banking.ledger.actions import check_debit
from banking.payments import actions
from banking.payments.directory import find_branch
from banking.payments.models import BankBranch, CollectRequest, CollectStatus, Payee, Payment, Rail
from banking.teller.lookup import refusal
from banking.teller.words import rupees_in_words
from portals import policies
from portals.customer.authenticator import code_problem
from portals.forms import keep_typing

from .payment_forms import CollectApprovalForm, ConfirmForm, PayeeForm, PaymentForm, VpaForm

HISTORY_PAGE = 20
# What the payee form keeps when choosing the kind redraws it (never the authenticator code).
PAYEE_REDRAWN = ("kind", "account_number", "ifsc", "vpa", "name")
RAIL_HINTS = {
    Rail.INTERNAL: "Within the bank: the money arrives at once.",
    Rail.NEFT: "Settles in the next half-hourly NEFT batch; the other bank credits it within 2 hours.",
    Rail.RTGS: "Real time and final, for ₹2,00,000 or more.",
    Rail.IMPS: "Instant, up to ₹5,00,000 a payment.",
    Rail.UPI: "Instant, up to ₹1,00,000 a payment.",
}


def _me(request):
    customer = getattr(request.user, "customer", None)
    if customer is None:
        raise Http404("No customer record for this login")
    return customer


def _my_accounts(customer):
    return DepositAccount.objects.for_customer(customer).opened().with_ledger().order_by("number")


def _paying_accounts(customer):
    """Open current and savings accounts: the ones money can leave by transfer."""
    return [a for a in _my_accounts(customer).open().operative() if refusal(a, debit=True) is None]


def _my_payees(customer):
    return Payee.objects.for_customer(customer).active()


def _my_payments(customer):
    mine = DepositAccount.objects.for_customer(customer).values("pk")
    return (Payment.objects.filter(Q(customer=customer) | Q(debit_account__in=mine) | Q(credit_account__in=mine))
            .select_related("debit_account", "credit_account", "payee"))


def _my_collect_requests(customer):
    return CollectRequest.objects.for_customer(customer).select_related("payer", "payer__account")


# -- payees -----------------------------------------------------------------------------


@require_GET
@policies.customer
def payee_list(request):
    """The customer's payees; one added in the last 24 hours says how much it may still receive."""
    now = timezone.now()
    payees = [{"payee": p, "cooling_until": p.cooling_ends_at() if p.is_cooling(now) else None,
               "room": actions.cooling_room(p, now)} for p in _my_payees(_me(request))]
    return render(request, "portals/customer/payees_list.html", {
        "rows": payees, "cooling_limit": settings.CBS_PAYEE_COOLING_LIMIT})


@require_http_methods(["GET", "POST"])
@policies.customer
@vary_on_headers("HX-Request")
def payee_new(request):
    customer = _me(request)
    form = PayeeForm(request.POST or None, initial={name: request.GET.get(name, "") for name in PAYEE_REDRAWN})
    if request.htmx and request.method == "GET":
        # Choosing the kind redraws the fields that apply to it.
        keep_typing(form, redrawn_by="kind")
        return render(request, "portals/customer/payees_new.html#payee-fields", {"form": form})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if problem := code_problem(request.user, data["code"]):
            form.refuse(problem, "code")
        else:
            try:
                payee = actions.add_payee(actor=request.user, customer=customer, kind=data["kind"], name=data["name"],
                                          account_number=data["account_number"], ifsc=data["ifsc"], vpa=data["vpa"],
                                          nickname=data["nickname"])
            except BankingError as error:
                form.refuse(error)
            else:
                messages.success(request, f"{payee.label} is added. A new payee can receive up to "
                                          f"{format_money(settings.CBS_PAYEE_COOLING_LIMIT)} in its first 24 hours.")
                return redirect("customer:payees")
    return render(request, "portals/customer/payees_new.html", {"form": form}, status=400 if form.errors else 200)


@require_GET
@policies.customer
def ifsc_lookup(request):
    """The bank and branch of the IFSC typed so far (an HTMX fragment on the payee form)."""
    text = request.GET.get("ifsc", "").strip()
    branch, problem = None, ""
    if len(text) >= 11:
        try:
            branch = find_branch(text)
        except BankingError as error:
            problem = str(error)
    return render(request, "portals/customer/payees_new.html#ifsc-branch", {"branch": branch, "problem": problem,
                                                                             "typed": text})


@require_http_methods(["GET", "POST"])
@policies.customer
def payee_remove(request, pk):
    payee = get_object_or_404(_my_payees(_me(request)), pk=pk)
    if request.method == "POST":
        actions.remove_payee(actor=request.user, payee=payee)
        messages.success(request, f"{payee.label} is no longer one of your payees.")
        return redirect("customer:payees")
    return render(request, "portals/customer/payees_remove.html", {"payee": payee})


# -- pay and transfer --------------------------------------------------------------------


def _payment_form(request, customer, data=None):
    accounts, payees = _paying_accounts(customer), list(_my_payees(customer))
    initial = {k: v for k, v in request.GET.items() if k in ("debit_account", "to", "vpa", "amount", "rail",
                                                             "narration", "idempotency_key")}
    if "debit_account" not in initial and len(accounts) == 1:
        initial["debit_account"] = str(accounts[0].pk)
    return PaymentForm(data, accounts=accounts, payees=payees, initial=initial)


def _review(customer, form):
    """Everything the payment would do, checked as make_payment will check it;
    raises the BankingError it would raise."""
    args = form.payment_arguments()
    debit, amount = args["debit_account"], args["amount"]
    destination = actions.resolve_destination(rail=args["rail"], payee=args["payee"],
                                              credit_account=args["credit_account"], vpa=args["vpa"])
    if destination.credit_account is not None and destination.credit_account.pk == debit.pk:
        raise ValidationFailed("Choose a different account to pay into: money cannot go to the account it comes from.")
    problem = refusal(debit, debit=True)
    if problem:
        raise ValidationFailed(problem)
    actions.check_rail(destination.rail, amount)
    date = actions.business_date()
    actions.check_limits(customer, debit, destination, amount, date)
    check_debit(debit.ledger_account_id, amount, names=debit.ledger_names)
    own_transfer = destination.rail == Rail.INTERNAL and destination.payee is None and destination.stays_in_bank
    limit = None if own_transfer else actions.daily_limit(debit, destination.rail)
    room = actions.cooling_room(destination.payee)
    return {
        "destination": destination, "debit": debit, "amount": amount, "own_transfer": own_transfer,
        "rail_label": Rail(destination.rail).label,
        "limit": limit, "limit_left": None if limit is None else
        limit - actions.used_today(customer, destination.rail, date) - amount,
        "cooling_room_after": None if room is None else room - amount,
        "cooling_until": destination.payee.cooling_ends_at() if room is not None else None,
        "needs_code": amount > settings.CBS_PAYMENT_TOTP_ABOVE, "code_above": settings.CBS_PAYMENT_TOTP_ABOVE,
        "words": rupees_in_words(amount), "rail_hint": RAIL_HINTS.get(destination.rail, ""),
        "branch": BankBranch.objects.filter(ifsc=destination.ifsc).first() if destination.ifsc else None,
    }


def _key(customer, form):
    return f"ib-{customer.pk}-{form.cleaned_data['idempotency_key']}"


@require_http_methods(["GET", "POST"])
@policies.customer
@vary_on_headers("HX-Request")
def pay(request):
    """One form for every kind of payment; POST shows the review, and the review's
    Confirm (step=confirm) sends it."""
    customer = _me(request)
    if request.method == "GET":
        form = _payment_form(request, customer)
        template = "portals/customer/payments_new.html" + ("#pay-fields" if request.htmx else "")
        return render(request, template, {"form": form})
    form = _payment_form(request, customer, request.POST)
    step = request.POST.get("step", "review")
    if step == "edit" or not form.is_valid():
        return _show_form(request, form)
    existing = _my_payments(customer).filter(idempotency_key=_key(customer, form)).first()
    if existing is not None:
        # Sent already (a double-click, a resubmitted page): show it, send nothing again.
        return redirect("customer:payment", number=existing.number)
    try:
        review = _review(customer, form)
    except BankingError as error:
        form.refuse(error)
        return _show_form(request, form)
    confirm = ConfirmForm(request.POST if step == "confirm" else None, needs_code=review["needs_code"])
    if step != "confirm" or not confirm.is_valid():
        return _show_review(request, form, confirm, review)
    if review["needs_code"] and (problem := code_problem(request.user, confirm.cleaned_data["code"])):
        confirm.refuse(problem, "code")
        return _show_review(request, form, confirm, review)
    try:
        payment = actions.make_payment(actor=request.user, customer=customer, idempotency_key=_key(customer, form),
                                       **form.payment_arguments())
    except BankingError as error:
        form.refuse(error)
        return _show_form(request, form)
    return redirect("customer:payment", number=payment.number)


def _show_form(request, form):
    return render(request, "portals/customer/payments_new.html", {"form": form},
                  status=400 if form.errors else 200)


def _show_review(request, form, confirm, review):
    return render(request, "portals/customer/payments_review.html", {"form": form, "confirm": confirm, **review},
                  status=400 if confirm.errors else 200)


# -- payments: history and each payment, live -----------------------------------------------


def _side(payment, my_accounts):
    """How the payment reads for this customer: money in, money out or between their own accounts."""
    out = payment.debit_account_id in my_accounts
    into = payment.credit_account_id in my_accounts or payment.direction == "inward"
    return "own" if out and into else "out" if out else "in"


@require_GET
@policies.customer
@vary_on_headers("HX-Request")
def payment_list(request):
    """Payments out of, into and between the customer's accounts, newest first,
    with their status kept live while any shown can still change."""
    customer = _me(request)
    accounts = list(_my_accounts(customer))
    chosen = next((a for a in accounts if a.number == request.GET.get("account")), None)
    payments = _my_payments(customer)
    if chosen is not None:
        payments = payments.filter(Q(debit_account=chosen) | Q(credit_account=chosen))
    page = Paginator(payments.order_by("-initiated_at", "-id"), HISTORY_PAGE).get_page(request.GET.get("page"))
    mine = {a.pk for a in accounts}
    rows = [{"payment": p, "side": _side(p, mine)} for p in page]
    template = "portals/customer/payments_list.html" + ("#payment-list" if request.htmx else "")
    return render(request, template, {
        "rows": rows, "page": page, "accounts": accounts, "chosen": chosen,
        "live": any(not row["payment"].is_final for row in rows),
    })


@require_GET
@policies.customer
@vary_on_headers("HX-Request")
def payment_detail(request, number):
    """One payment: its status in words and its timeline, polled until it is final."""
    customer = _me(request)
    payment = get_object_or_404(_my_payments(customer), number=number)
    mine = {a.pk: a for a in _my_accounts(customer)}
    side = _side(payment, set(mine))
    account = mine.get(payment.debit_account_id if side != "in" else payment.credit_account_id)
    template = "portals/customer/payments_detail.html" + ("#payment-live" if request.htmx else "")
    return render(request, template, {"payment": payment, "events": payment.events.all(), "side": side,
                                      "account": account})


# -- UPI ------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@policies.customer
@vary_on_headers("HX-Request")
def upi(request):
    """My UPI IDs (and a form to make one) and the merchants' collect requests,
    which arrive live."""
    customer = _me(request)
    if request.htmx and request.method == "GET":
        return render(request, "portals/customer/upi_home.html#collect-requests", _collect_context(customer))
    form = VpaForm(request.POST or None, accounts=_paying_accounts(customer))
    if request.method == "POST" and form.is_valid():
        try:
            vpa = actions.create_vpa(actor=request.user, customer=customer, account=form.cleaned_data["account"],
                                     name=form.cleaned_data["name"])
        except BankingError as error:
            form.refuse(error, "name")
        else:
            messages.success(request, f"Your UPI ID {vpa.address} is ready. Anyone can pay you with it.")
            return redirect("customer:upi")
    return render(request, "portals/customer/upi_home.html", {
        "form": form, "vpas": customer.upi_ids.filter(is_active=True).select_related("account__product"),
        "handle": settings.CBS_UPI_HANDLE, **_collect_context(customer),
    }, status=400 if form.errors else 200)


def _collect_context(customer):
    now = timezone.now()
    requests = _my_collect_requests(customer)
    return {"pending": list(requests.pending(now).order_by("expires_at")),
            "decided": list(requests.exclude(pk__in=requests.pending(now).values("pk"))[:10]), "now": now}


@require_http_methods(["GET", "POST"])
@policies.customer
def collect_request(request, pk):
    """A merchant's collect request: pay it with the authenticator code."""
    customer = _me(request)
    collect = get_object_or_404(_my_collect_requests(customer), pk=pk)
    form = CollectApprovalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if collect.status != CollectStatus.PENDING:
            form.refuse(f"This request is already {collect.get_status_display().lower()}.")
        elif collect.is_expired():
            form.refuse("This request has expired, so it cannot be paid; ask the merchant to send a new one.")
        elif problem := code_problem(request.user, form.cleaned_data["code"]):
            form.refuse(problem, "code")
        else:
            try:
                collect = actions.approve_collect_request(
                    actor=request.user, customer=customer, request_id=collect.pk,
                    idempotency_key=f"ib-collect-{customer.pk}-{form.cleaned_data['idempotency_key']}")
            except BankingError as error:
                form.refuse(error)
            else:
                messages.success(request, f"Paid {format_money(collect.amount)} to {collect.merchant_name}.")
                return redirect("customer:payment", number=collect.payment.number)
    return render(request, "portals/customer/upi_collect.html", {"collect": collect, "form": form},
                  status=400 if form.errors else 200)


@require_POST
@policies.customer
def collect_decline(request, pk):
    customer = _me(request)
    collect = get_object_or_404(_my_collect_requests(customer), pk=pk)
    try:
        collect = actions.decline_collect_request(actor=request.user, customer=customer, request_id=collect.pk)
    except BankingError as error:
        messages.error(request, str(error))
    else:
        if collect.status == CollectStatus.EXPIRED:
            messages.info(request, f"The request from {collect.merchant_name} had expired already.")
        else:
            messages.success(request, f"You declined {collect.merchant_name}'s request for "
                                      f"{format_money(collect.amount)}.")
    return redirect("customer:upi")


@require_GET
@policies.customer
def collect_count(request):
    """The navigation's live count of collect requests waiting for the customer."""
    customer = getattr(request.user, "customer", None)
    count = _my_collect_requests(customer).pending().count() if customer else 0
    return render(request, "portals/customer/upi_home.html#collect-count", {"count": count})
