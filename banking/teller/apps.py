from django.apps import AppConfig


class TellerConfig(AppConfig):
    name = "banking.teller"
    label = "teller"
    verbose_name = "Teller and cash"
