from django.urls import path

from . import cash_views, loan_views, views

app_name = "supervisor"
urlpatterns = [
    path("", views.home, name="home"),
    path("queue/", views.queue, name="queue"),
    path("queue/count/", views.queue_count, name="queue-count"),
    path("queue/<int:pk>/", views.request_detail, name="request-detail"),
    path("queue/<int:pk>/approve/", views.request_approve, name="request-approve"),
    path("queue/<int:pk>/reject/", views.request_reject, name="request-reject"),
    # The branch's cash
    path("tills/", cash_views.tills, name="tills"),
    path("tills/close-branch/", cash_views.branch_close, name="branch-close"),
    path("reports/cash-position/", cash_views.cash_position_report, name="cash-position"),
    path("reports/cash-differences/", cash_views.cash_differences, name="cash-differences"),
    # The branch's loans past due, by SMA bucket
    path("reports/loans-overdue/", loan_views.loans_overdue, name="loans-overdue"),
]
