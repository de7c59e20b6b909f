from django.apps import AppConfig


class CardsConfig(AppConfig):
    name = "banking.cards"
    label = "cards"
    verbose_name = "Cards and ATMs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # The ATM charges and the failed-dispense compensation at end of day.
        from . import eod  # noqa: F401
