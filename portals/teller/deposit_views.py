"""Deposit accounts at the counter: the Accounts section of customer 360 (an HTMX
fragment the 360 page loads), opening accounts and term deposits, holds, freeze /
unfreeze / close requests, statements, and enabling internet banking.

Tellers work bank-wide: a teller at any branch sees any customer (a customer may
walk into any branch). Accounts are looked up by number from all of the bank's
accounts; everything that changes money or status goes through banking.deposits.
"""

from django.contrib import messages
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from banking.core.errors import BankingError, ValidationFailed
from banking.core.identifiers import new_token
from banking.core.money import format_money
from banking.customers.models import Customer
from banking.deposits import actions
from banking.deposits import internet_banking as ib
from banking.deposits.models import AccountHolder, DepositAccount, DepositStatus
from banking.ledger.models import Hold
from banking.ledger.queries import latest_postings
from banking.teller import actions as teller_actions
from portals import policies
from portals.shared import statements

from .deposit_forms import (
    AccountOpenForm,
    CloseForm,
    FreezeForm,
    HoldForm,
    ReasonForm,
    RecurringDepositForm,
    TermDepositForm,
)
from .open_requests import pending_for

RECENT = 5


def _customer(pk):
    return get_object_or_404(Customer.objects.select_related("home_branch", "user"), pk=pk)


def _account(number):
    return get_object_or_404(DepositAccount.objects.with_ledger(), number=number)


def customer_url(customer):
    """Customer 360 when the customers section provides it, else this module's accounts page."""
    try:
        return reverse("teller:customer-detail", kwargs={"pk": customer.pk})
    except NoReverseMatch:
        return reverse("teller:customer-accounts", kwargs={"pk": customer.pk})


def _done(request, customer, text):
    messages.success(request, text)
    if request.htmx:
        return HttpResponseClientRedirect(customer_url(customer))
    return redirect(customer_url(customer))


def _sources(customer):
    return (DepositAccount.objects.with_ledger().filter(customer=customer, status=DepositStatus.ACTIVE)
            .operative().order_by("number"))


# -- the Accounts section of customer 360 -------------------------------------------


@require_GET
@policies.teller
@vary_on_headers("HX-Request")
def customer_accounts(request, pk):
    """Every account of the customer with balance, available balance, holds, recent
    transactions and the actions the teller may take. HTMX gets the fragment alone."""
    customer = _customer(pk)
    accounts = list(
        DepositAccount.objects.for_customer(customer).with_ledger()
        .select_related("opening_request", "source_account")
        .prefetch_related(Prefetch("holders", AccountHolder.objects.select_related("customer")))
        .order_by("status", "number")
    )
    ledger_ids = [a.ledger_account_id for a in accounts if a.ledger_account_id]
    holds = {}
    for hold in Hold.objects.active().filter(account_id__in=ledger_ids).order_by("-placed_at"):
        holds.setdefault(hold.account_id, []).append(hold)
    recent = latest_postings(ledger_ids, RECENT)
    rows = [{"account": a, "holds": holds.get(a.ledger_account_id, []), "recent": recent.get(a.ledger_account_id, [])}
            for a in accounts]
    open_requests = pending_for(customer)
    context = {
        "customer": customer, "rows": rows, "customer_url": customer_url(customer),
        "open_requests": open_requests, "waiting": {approval.pk for approval in open_requests},
        "has_source": any(a.is_operative and a.status == DepositStatus.ACTIVE for a in accounts),
        "internet_banking": ib.is_activated(customer), "internet_banking_sent": ib.has_internet_banking(customer),
    }
    template = "portals/teller/customer_accounts.html"
    if request.htmx:
        # The accounts and, out of band, customer 360's Open requests beside them: one response.
        template += "#accounts-update"
    return render(request, template, context)


# -- opening ------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@policies.teller
def account_open(request, pk):
    customer = _customer(pk)
    form = AccountOpenForm(request.POST or None, customer=customer, initial={"token": new_token()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        nominee = None
        if data["nominee_name"] or data["nominee_relationship"]:
            nominee = actions.Nominee(name=data["nominee_name"], relationship=data["nominee_relationship"],
                                      date_of_birth=data["nominee_date_of_birth"],
                                      guardian_name=data["nominee_guardian_name"])
        opening = {"actor": request.user, "customer": customer, "product": data["product"],
                   "joint_holders": data["joint_holders"], "mode_of_operation": data["mode_of_operation"],
                   "nominee": nominee, "overdraft_limit": data["overdraft_limit"] or 0}
        try:
            if data["initial_deposit"]:
                # The notes go into the teller's own till, like any cash deposit.
                account = teller_actions.request_opening_with_cash(counts=form.counts,
                                                                   idempotency_key=data["token"], **opening)
            else:
                account = actions.request_account_opening(idempotency_key=f"open-{data['token']}", **opening)
        except BankingError as error:
            form.add_error(None, str(error))
        else:
            return _done(request, customer, f"Account {account.number} is waiting for a supervisor's approval. "
                                            "Nothing is credited until then"
                                            + (", and the counted cash waits beside your till." if
                                               data["initial_deposit"] else "."))
    return render(request, "portals/teller/account_new.html", {"customer": customer, "form": form,
                                                                "customer_url": customer_url(customer)})


def _term_deposit(request, pk, *, recurring):
    customer = _customer(pk)
    sources = _sources(customer)
    form_class = RecurringDepositForm if recurring else TermDepositForm
    form = form_class(request.POST or None, sources=sources, initial={"token": new_token()})
    quote = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if recurring:
                quote = actions.quote_recurring_deposit(product="RD", instalment=data["instalment"],
                                                        months=data["months"])
            else:
                quote = actions.quote_fixed_deposit(product="FD", principal=data["principal"],
                                                    months=data["months"], days=data["days"] or 0)
            if request.POST.get("action") == "confirm":
                key = f"{'rd' if recurring else 'fd'}-{data['token']}"
                if recurring:
                    account = actions.open_recurring_deposit(actor=request.user, source=data["source"],
                                                             instalment=data["instalment"], months=data["months"],
                                                             idempotency_key=key)
                    text = (f"Recurring deposit {account.number} opened. The first instalment is debited from "
                            f"{data['source'].number} at end of day.")
                else:
                    account = actions.open_fixed_deposit(
                        actor=request.user, source=data["source"], principal=data["principal"],
                        months=data["months"], days=data["days"] or 0,
                        maturity_instruction=data["maturity_instruction"], idempotency_key=key)
                    text = f"Fixed deposit {account.number} opened from {data['source'].number}."
                return _done(request, customer, text)
        except BankingError as error:
            form.add_error(None, str(error))
            quote = None
    template = "portals/teller/term_deposit_new.html"
    context = {"customer": customer, "form": form, "quote": quote, "recurring": recurring,
               "customer_url": customer_url(customer), "has_source": sources.exists()}
    if request.htmx and request.POST.get("action") == "preview":
        template += "#term-deposit-form"
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
@policies.teller
@vary_on_headers("HX-Request")
def fd_open(request, pk):
    """A fixed deposit from the customer's savings or current account: the figures
    first, then confirm."""
    return _term_deposit(request, pk, recurring=False)


@require_http_methods(["GET", "POST"])
@policies.teller
@vary_on_headers("HX-Request")
def rd_open(request, pk):
    """A recurring deposit: instalment and months, the maturity amount, then confirm."""
    return _term_deposit(request, pk, recurring=True)


@require_http_methods(["GET", "POST"])
@policies.teller
def fd_close(request, number):
    """Premature closure: the figures, then confirm."""
    account = _account(number)
    try:
        quote = actions.quote_premature_closure(account)
    except BankingError as error:
        messages.error(request, str(error))
        return redirect(customer_url(account.customer))
    if request.method == "POST":
        payout = str(request.POST.get("payout", "") or "0")
        try:
            if not (payout.isascii() and payout.isdigit()):
                raise ValidationFailed("The closing figures could not be read; look at them again and confirm.")
            actions.close_fixed_deposit_early(actor=request.user, account=account,
                                              idempotency_key=request.POST.get("token") or new_token(),
                                              expected_payout=int(payout))
        except BankingError as error:
            messages.error(request, str(error))
            return redirect("teller:fd-close", number=number)
        return _done(request, account.customer, f"Fixed deposit {account.number} closed; "
                                                f"{format_money(quote.payout)} paid into "
                                                f"{account.source_account.number}.")
    return render(request, "portals/teller/fd_close.html", {
        "account": account, "quote": quote, "token": new_token(), "customer_url": customer_url(account.customer),
    })


# -- holds, freezes, closing --------------------------------------------------------


def _action_page(request, account, form, *, title, intro, button, danger=False):
    return render(request, "portals/teller/account_action.html", {
        "account": account, "form": form, "title": title, "intro": intro, "button": button, "danger": danger,
        "customer_url": customer_url(account.customer),
    })


@require_http_methods(["GET", "POST"])
@policies.teller
def hold_new(request, number):
    account = _account(number)
    form = HoldForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.place_account_hold(actor=request.user, account=account, amount=form.cleaned_data["amount"],
                                       reason=form.cleaned_data["reason"], expires_at=form.expires_at())
        except BankingError as error:
            form.add_error(None, str(error))
        else:
            return _done(request, account.customer, f"Hold placed on {account.number}.")
    return _action_page(request, account, form, title="Place a hold", button="Place the hold",
                        intro="A hold keeps money in the account but stops it being spent until it is released "
                              "or expires.")


@require_http_methods(["GET", "POST"])
@policies.teller
def hold_release(request, number, hold_id):
    account = _account(number)
    hold = get_object_or_404(Hold.objects.active(), pk=hold_id, account_id=account.ledger_account_id)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.release_account_hold(actor=request.user, account=account, hold=hold,
                                         reason=form.cleaned_data["reason"])
        except BankingError as error:
            form.add_error(None, str(error))
        else:
            return _done(request, account.customer, f"Hold released on {account.number}.")
    return _action_page(request, account, form, title="Release a hold", button="Release the hold",
                        intro=f"Release the hold of {format_money(hold.amount)}: {hold.reason}.")


def _request_view(request, account, form, submit, *, title, intro, button, danger=False):
    if request.method == "POST" and form.is_valid():
        try:
            approval = submit(form.cleaned_data)
        except BankingError as error:
            form.add_error(None, str(error))
        else:
            return _done(request, account.customer, f"{approval.summary}: waiting for a supervisor's approval.")
    return _action_page(request, account, form, title=title, intro=intro, button=button, danger=danger)


@require_http_methods(["GET", "POST"])
@policies.teller
def account_freeze(request, number):
    account = _account(number)
    return _request_view(
        request, account, FreezeForm(request.POST or None),
        lambda data: actions.request_freeze(actor=request.user, account=account, freeze=data["freeze"],
                                            reason=data["reason"]),
        title="Request a freeze", button="Send for approval", danger=True,
        intro="A supervisor approves the freeze before it takes effect.",
    )


@require_http_methods(["GET", "POST"])
@policies.teller
def account_unfreeze(request, number):
    account = _account(number)
    return _request_view(
        request, account, ReasonForm(request.POST or None),
        lambda data: actions.request_unfreeze(actor=request.user, account=account, reason=data["reason"]),
        title="Request lifting the freeze", button="Send for approval",
        intro="A supervisor approves lifting the freeze before the account works again.",
    )


@require_http_methods(["GET", "POST"])
@policies.teller
def account_close(request, number):
    account = _account(number)
    targets = (DepositAccount.objects.with_ledger().filter(customer=account.customer).operative()
               .exclude(pk=account.pk).exclude(status__in=[DepositStatus.PENDING, DepositStatus.CLOSED,
                                                           DepositStatus.FROZEN]))
    return _request_view(
        request, account, CloseForm(request.POST or None, targets=targets),
        lambda data: actions.request_closure(actor=request.user, account=account, reason=data["reason"],
                                             payout_to=data["payout_to"]),
        title="Request closing the account", button="Send for approval", danger=True,
        intro="The balance must be zero, or paid out to another of the customer's accounts, and no hold may remain. "
              "A supervisor approves the closure.",
    )


@require_http_methods(["GET", "POST"])
@policies.teller
def account_reactivate(request, number):
    account = _account(number)
    form = ReasonForm(request.POST or None, initial={"reason": "Customer visited the branch with KYC"})
    if request.method == "POST" and form.is_valid():
        try:
            actions.reactivate_account(actor=request.user, account=account, reason=form.cleaned_data["reason"])
        except BankingError as error:
            form.add_error(None, str(error))
        else:
            return _done(request, account.customer, f"Account {account.number} is active again.")
    return _action_page(request, account, form, title="Reactivate an inoperative account", button="Reactivate",
                        intro="Reactivate after seeing the customer in person; debits work again at once.")


# -- statements ---------------------------------------------------------------------


def _opened_account(number):
    account = _account(number)
    if account.ledger_account_id is None:
        raise Http404("The account has not been opened yet.")
    return account


@require_GET
@policies.teller
@vary_on_headers("HX-Request")
def statement(request, number):
    account = _opened_account(number)
    return statements.render_statement(
        request, account, csv_url=reverse("teller:statement-csv", args=[number]),
        pdf_url=reverse("teller:statement-pdf", args=[number]), back_url=customer_url(account.customer),
    )


@require_GET
@policies.teller
def statement_csv(request, number):
    return statements.csv_response(request, _opened_account(number))


@require_GET
@policies.teller
def statement_pdf(request, number):
    return statements.pdf_response(request, _opened_account(number))


# -- internet banking ---------------------------------------------------------------


@require_http_methods(["POST"])
@policies.teller
def internet_banking(request, pk):
    """Create or link the customer's login and email a one-time activation link."""
    customer = _customer(pk)

    def link_for(token):
        return request.build_absolute_uri(reverse("customer:activate", kwargs={"token": token}))

    try:
        ib.enable_internet_banking(actor=request.user, customer=customer, link_for=link_for)
    except BankingError as error:
        messages.error(request, str(error))
        return redirect(customer_url(customer))
    return _done(request, customer, f"Activation link sent to {ib.mask_email(customer.email)}. "
                                    "It works once and expires in 24 hours.")
