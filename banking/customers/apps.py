from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "banking.customers"
    label = "customers"
    verbose_name = "Customers and KYC"

    def ready(self):
        from . import eod  # noqa: F401  registers the re-KYC end-of-day step
