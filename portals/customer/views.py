"""Internet banking: the customer's accounts, recent transactions and statements,
and the one-time activation link.

Every query starts from the signed-in customer's own accounts
(`_my_accounts`): an account number from anyone else's URL is a 404, the same
answer as a number that does not exist, so nothing leaks.
"""

from allauth.account.internal.flows.login import record_authentication
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.forms import SetPasswordForm
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from banking.core.errors import BankingError
from banking.deposits import internet_banking as ib
from banking.deposits.models import DepositAccount
from banking.ledger.queries import latest_postings
from portals import policies
from portals.shared import statements

from . import term_views

RECENT = 5


def _my_accounts(request):
    customer = getattr(request.user, "customer", None)
    if customer is None:
        return DepositAccount.objects.none()
    return DepositAccount.objects.for_customer(customer).opened().with_ledger().order_by("status", "number")


def _my_account(request, number):
    return get_object_or_404(_my_accounts(request), number=number)


def _recent(account, count=RECENT):
    return latest_postings([account.ledger_account_id], count).get(account.ledger_account_id, [])


@require_GET
@policies.customer
def home(request):
    """Every account with its balance, available balance and latest transactions."""
    accounts = list(_my_accounts(request))
    recent = latest_postings([a.ledger_account_id for a in accounts], RECENT)
    rows = [{"account": a, "recent": recent.get(a.ledger_account_id, [])} for a in accounts]
    return render(request, "portals/customer/home.html", {
        "rows": rows, "customer": getattr(request.user, "customer", None),
        "total": sum(a.balance for a in accounts if not a.is_closed),
    })


@require_GET
@policies.customer
def account(request, number):
    account = _my_account(request, number)
    return render(request, "portals/customer/account_detail.html", {"account": account,
                                                                     "recent": _recent(account, 20),
                                                                     "term": term_views.term_context(account)})


@require_GET
@policies.customer
def statement_list(request):
    return render(request, "portals/customer/statements.html", {"accounts": _my_accounts(request)})


@require_GET
@policies.customer
@vary_on_headers("HX-Request")
def statement(request, number):
    account = _my_account(request, number)
    return statements.render_statement(
        request, account, csv_url=reverse("customer:statement-csv", args=[number]),
        pdf_url=reverse("customer:statement-pdf", args=[number]), back_url=reverse("customer:home"),
    )


@require_GET
@policies.customer
def statement_csv(request, number):
    return statements.csv_response(request, _my_account(request, number))


@require_GET
@policies.customer
def statement_pdf(request, number):
    return statements.pdf_response(request, _my_account(request, number))


@require_http_methods(["GET", "POST"])
@policies.public("A new customer opens the emailed activation link before they have a password; "
                 "the signed, one-time, 24-hour token is what admits them.")
def activate(request, token):
    """Choose a password through the one-time link, then set up the authenticator app."""
    try:
        user = ib.read_activation_token(token)
    except ib.ActivationLinkInvalid as error:
        return render(request, "portals/customer/activate.html", {"refusal": str(error)}, status=400)
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = ib.activate_internet_banking(token=token, password=form.cleaned_data["new_password1"])
        except BankingError as error:
            form.add_error(None, str(error))
        else:
            if request.user.is_authenticated:
                logout(request)
            login(request, user, backend="banking.users.backends.RoleBackend")
            # The password was chosen this instant: record it as allauth records a
            # password just given again, so setting up the authenticator next does
            # not ask for it a second time (the reauthentication timeout still runs).
            record_authentication(request, user, method="password", username=user.username, reauthenticated=True)
            messages.success(request, "Your password is set. Now add your authenticator app: internet banking "
                                      "asks for its code each time you sign in.")
            return redirect("mfa_activate_totp")
    return render(request, "portals/customer/activate.html", {"form": form, "username": user.username})
