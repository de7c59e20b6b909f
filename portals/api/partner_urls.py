"""/api/v1/partner/: the partner API (portals/api/partner.py)."""

from django.urls import path

from . import partner

urlpatterns = [
    path("accounts/", partner.accounts, name="partner-accounts"),
    path("accounts/<str:number>/transactions/", partner.transactions, name="partner-transactions"),
    path("payouts/", partner.payouts, name="partner-payouts"),
    path("payouts/<uuid:batch_id>/", partner.payout, name="partner-payout"),
    path("webhooks/", partner.webhooks, name="partner-webhooks"),
    path("webhooks/<int:pk>/", partner.webhook, name="partner-webhook"),
]
