from django.apps import AppConfig


class CardsConfig(AppConfig):
    name = "banking.cards"
    label = "cards"
    verbose_name = "Cards and ATMs"
    default_auto_field = "django.db.models.BigAutoField"
