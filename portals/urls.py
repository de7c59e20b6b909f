from django.urls import path

from . import credentials, monitoring, views

app_name = "portals"
urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", monitoring.readyz, name="readyz"),
    path("metrics", monitoring.metrics, name="metrics"),
    path("accounts/confirm/", credentials.confirm_identity, name="confirm-identity"),
]
