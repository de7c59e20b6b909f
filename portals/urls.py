from django.urls import path

from . import credentials, views

app_name = "portals"
urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/confirm/", credentials.confirm_identity, name="confirm-identity"),
]
