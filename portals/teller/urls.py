from django.urls import path

from . import views

app_name = "teller"
urlpatterns = [
    path("", views.home, name="home"),
    path("requests/", views.my_requests, name="my-requests"),
]
