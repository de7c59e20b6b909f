"""/api/v1/: the mobile (customer) API and the partner API.

Partner endpoints are mounted under partner/ by portals/api/partner_urls.py when it
exists. Anything else under /api/v1/ is a JSON 404."""

from importlib.util import find_spec

from django.urls import include, path, re_path

from . import atm, auth, customer, views

app_name = "api"

urlpatterns = [
    path("auth/token/", auth.token, name="token"),
    path("auth/token/refresh/", auth.token_refresh, name="token-refresh"),
    path("auth/logout/", auth.logout, name="logout"),
    path("ping/", views.ping, name="ping"),
    path("me/", customer.me, name="me"),
    path("accounts/", customer.accounts, name="accounts"),
    path("accounts/<str:number>/", customer.account, name="account"),
    path("accounts/<str:number>/transactions/", customer.transactions, name="transactions"),
    path("payees/", customer.payees, name="payees"),
    path("payees/<int:pk>/", customer.payee, name="payee"),
    path("payments/", customer.payments, name="payments"),
    path("payments/<int:pk>/", customer.payment, name="payment"),
    path("upi/collect-requests/", customer.collect_requests, name="collect-requests"),
    path("upi/collect-requests/<int:pk>/pay/", customer.collect_pay, name="collect-pay"),
    path("upi/collect-requests/<int:pk>/decline/", customer.collect_decline, name="collect-decline"),
    path("atm/messages/", atm.messages, name="atm-messages"),
    path("schema/", views.schema, name="schema"),
    path("docs/", views.docs, name="docs"),
    path("redoc/", views.redoc, name="redoc"),
]

if find_spec("portals.api.partner_urls") is not None:
    urlpatterns.append(path("partner/", include("portals.api.partner_urls")))

urlpatterns.append(re_path(r"^(?P<rest>.*)$", views.not_found, name="not-found"))
