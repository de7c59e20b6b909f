from django.urls import path

from . import ledger_views, payment_views, staff_views, views

app_name = "ops"
urlpatterns = [
    path("", views.home, name="home"),
    path("audit/", views.audit_list, name="audit-list"),
    path("requests/", views.my_requests, name="my-requests"),
    path("gl/", ledger_views.chart, name="chart"),
    path("gl/<str:code>/", ledger_views.gl_account, name="gl-account"),
    path("trial-balance/", ledger_views.trial_balance_view, name="trial-balance"),
    path("entries/<int:pk>/", ledger_views.entry_detail, name="entry-detail"),
    path("entries/<int:pk>/reverse/", ledger_views.entry_reverse, name="entry-reverse"),
    path("journals/new/", ledger_views.journal_new, name="journal-new"),
    path("payments/", payment_views.payment_monitor, name="payment-monitor"),
    path("payments/<int:pk>/", payment_views.payment_detail, name="payment-detail"),
    path("payments/neft/", payment_views.neft_batches, name="neft-batches"),
    path("payments/neft/run/", payment_views.neft_batch_run, name="neft-batch-run"),
    path("payments/neft/<int:pk>/", payment_views.neft_batch_detail, name="neft-batch-detail"),
    path("payments/settlement-files/<int:pk>/", payment_views.settlement_file_download, name="settlement-file"),
    path("payments/reconciliations/", payment_views.reconciliations, name="reconciliations"),
    path("payments/reconciliations/<int:pk>/", payment_views.reconciliation_detail, name="reconciliation-detail"),
    path("payments/exceptions/", payment_views.recon_exceptions, name="recon-exceptions"),
    path("payments/exceptions/<int:pk>/resolve/", payment_views.recon_exception_resolve,
         name="recon-exception-resolve"),
    path("payments/simulator/", payment_views.clearing_simulator, name="clearing-simulator"),
    path("payments/ifsc/", payment_views.ifsc_directory, name="ifsc-directory"),
    path("staff/", staff_views.staff_list, name="staff"),
    path("staff/<int:pk>/change/", staff_views.staff_change, name="staff-change"),
    path("staff/requests/<int:pk>/", staff_views.staff_request, name="staff-request"),
    path("staff/requests/<int:pk>/approve/", staff_views.staff_request_approve, name="staff-request-approve"),
    path("staff/requests/<int:pk>/reject/", staff_views.staff_request_reject, name="staff-request-reject"),
]
