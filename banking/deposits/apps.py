from django.apps import AppConfig


class DepositsConfig(AppConfig):
    name = "banking.deposits"
    label = "deposits"
    verbose_name = "Deposit accounts"
