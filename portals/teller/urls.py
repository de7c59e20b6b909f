from django.urls import path

from . import (
    cash_views,
    cheque_views,
    counter_views,
    customer_views,
    deposit_views,
    remittance_views,
    standing_views,
    views,
)

app_name = "teller"
urlpatterns = [
    path("", views.home, name="home"),
    path("requests/", views.my_requests, name="my-requests"),
    # The counter: cash, transfers, receipts, the till and cheque books
    path("deposit/", counter_views.deposit, name="deposit"),
    path("withdrawal/", counter_views.withdrawal, name="withdrawal"),
    path("transfer/", counter_views.transfer, name="transfer"),
    path("lookup/", counter_views.account_lookup, name="account-lookup"),
    path("transactions/<int:pk>/", counter_views.transaction_detail, name="transaction"),
    path("transactions/<int:pk>/reverse/", counter_views.transaction_reverse, name="transaction-reverse"),
    path("till/", cash_views.till, name="till"),
    path("till/open/", cash_views.till_open, name="till-open"),
    path("till/request/", cash_views.till_request, name="till-request"),
    path("till/return/", cash_views.till_return, name="till-return"),
    path("till/close/", cash_views.till_close, name="till-close"),
    path("cheques/", cheque_views.cheques, name="cheques"),
    path("cheques/issue/", cheque_views.cheque_book_issue, name="cheque-book-issue"),
    path("cheques/stop/", cheque_views.cheque_stop, name="cheque-stop"),
    path("cheques/cancel/", cheque_views.cheque_cancel, name="cheque-cancel"),
    # NEFT / RTGS for a walk-in customer
    path("remittance/", remittance_views.remittance, name="remittance"),
    path("remittance/ifsc/", remittance_views.remittance_ifsc, name="remittance-ifsc"),
    path("remittance/<int:pk>/", remittance_views.remittance_receipt, name="remittance-receipt"),
    path("standing/", standing_views.standing, name="standing"),
    path("standing/<int:pk>/cancel/", standing_views.standing_cancel, name="standing-cancel"),
    # Customers and KYC
    path("customers/", customer_views.customer_search, name="customer-search"),
    path("customers/new/", customer_views.customer_new, name="customer-new"),
    path("customers/drafts/", customer_views.kyc_drafts, name="kyc-drafts"),
    path("customers/<int:pk>/", customer_views.customer_detail, name="customer-detail"),
    path("customers/<int:pk>/kyc/<slug:step>/", customer_views.kyc_step, name="kyc-step"),
    path("customers/<int:pk>/documents/<int:document_pk>/", customer_views.customer_document,
         name="customer-document"),
    # Deposit accounts (the Accounts section of customer 360), statements, internet banking
    path("customers/<int:pk>/accounts/", deposit_views.customer_accounts, name="customer-accounts"),
    path("customers/<int:pk>/accounts/new/", deposit_views.account_open, name="account-open"),
    path("customers/<int:pk>/fixed-deposits/new/", deposit_views.fd_open, name="fd-open"),
    path("customers/<int:pk>/recurring-deposits/new/", deposit_views.rd_open, name="rd-open"),
    path("customers/<int:pk>/internet-banking/", deposit_views.internet_banking, name="internet-banking"),
    path("accounts/<str:number>/holds/new/", deposit_views.hold_new, name="hold-new"),
    path("accounts/<str:number>/holds/<int:hold_id>/release/", deposit_views.hold_release, name="hold-release"),
    path("accounts/<str:number>/freeze/", deposit_views.account_freeze, name="account-freeze"),
    path("accounts/<str:number>/unfreeze/", deposit_views.account_unfreeze, name="account-unfreeze"),
    path("accounts/<str:number>/close/", deposit_views.account_close, name="account-close"),
    path("accounts/<str:number>/reactivate/", deposit_views.account_reactivate, name="account-reactivate"),
    path("accounts/<str:number>/close-early/", deposit_views.fd_close, name="fd-close"),
    path("accounts/<str:number>/statement/", deposit_views.statement, name="statement"),
    path("accounts/<str:number>/statement.csv", deposit_views.statement_csv, name="statement-csv"),
    path("accounts/<str:number>/statement.pdf", deposit_views.statement_pdf, name="statement-pdf"),
]
