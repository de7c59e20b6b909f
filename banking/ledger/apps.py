from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "banking.ledger"
    label = "ledger"
    verbose_name = "General ledger"

    def ready(self):
        from . import eod  # noqa: F401  registers the ledger's end-of-day step
