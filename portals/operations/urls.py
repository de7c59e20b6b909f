from django.urls import path

from . import views

app_name = "ops"
urlpatterns = [
    path("", views.home, name="home"),
    path("audit/", views.audit_list, name="audit-list"),
    path("requests/", views.my_requests, name="my-requests"),
]
