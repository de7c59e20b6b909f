from django.urls import path

from . import views

app_name = "teller"
urlpatterns = [
    path("", views.home, name="home"),
]
