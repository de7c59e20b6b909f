from django.urls import path

from . import ledger_views, views

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
]
