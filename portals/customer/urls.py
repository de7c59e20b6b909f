from django.urls import path

from . import views

app_name = "customer"
urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/<str:number>/", views.account, name="account"),
    path("statements/", views.statement_list, name="statements"),
    path("accounts/<str:number>/statement/", views.statement, name="statement"),
    path("accounts/<str:number>/statement.csv", views.statement_csv, name="statement-csv"),
    path("accounts/<str:number>/statement.pdf", views.statement_pdf, name="statement-pdf"),
    path("activate/<str:token>/", views.activate, name="activate"),
]
