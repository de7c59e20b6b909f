from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "banking.customers"
    label = "customers"
    verbose_name = "Customers and KYC"
