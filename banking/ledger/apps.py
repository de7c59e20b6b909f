from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "banking.ledger"
    label = "ledger"
    verbose_name = "General ledger"
